"""Sending the order (наряд) of a booking to its driver.

``dispatch`` renders the order from the company's template and queues it in the outbox
(Telegram, with the «Принял» button) in the same transaction that moves the booking
``confirmed → dispatched``; the outbox sends it after commit and mirrors the message
status onto ``Booking.delivery_status``. A later dispatch of a changed booking is an
update, marked as such in the text. When the driver cannot be reached through the bot
(a supplier's machine, a driver who has not opened the invite link) the manager sends the
same text by hand — copy, WhatsApp or SMS (``fallback``) — and marks it sent (``manual``).

Message status as the booking shows it::

    queued → sending → delivered → acknowledged (the driver pressed «Принял»)
                    ↘ failed (retry by hand → queued)
    manual (sent by hand, no message)

The driver's Telegram link is ``bookings/driver_link.py``; what drivers write back (hours,
a word for the manager) is ``bookings/driver_reports.py``.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.template import Context, Engine, TemplateSyntaxError
from django.template.defaultfilters import floatformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from arenda.bookings import trip_links
from arenda.bookings.models import Booking, SupplyOrder
from arenda.bookings.services import BookingConflict
from arenda.core.formats import format_plate
from arenda.core.models import CompanySettings
from arenda.core.services import locked, set_author
from arenda.core.validators import format_phone
from arenda.integrations.messaging import config, outbox
from arenda.integrations.messaging.models import OutboxMessage

MANUAL = "manual"  # delivery_status of an order sent by hand
# Statuses after which nothing changes by itself: the booking page stops polling.
SETTLED = {OutboxMessage.Status.ACKNOWLEDGED, OutboxMessage.Status.FAILED, MANUAL}

# The built-in order, in English msgids rendered in the company's language. It lives in a
# template file so that makemessages finds its strings.
BUILTIN_TEMPLATE = (Path(__file__).parent / "templates" / "bookings" / "dispatch_order.txt").read_text(
    encoding="utf-8"
)

# name → what it holds (shown to the admin next to the template editor).
VARIABLES = {
    "date": gettext_lazy("date of the start, dd.mm.yyyy (local time)"),
    "start_time": gettext_lazy("start time, HH:MM"),
    "end_time": gettext_lazy("end time, HH:MM"),
    "end_date": gettext_lazy("date of the end, dd.mm.yyyy"),
    "site_address": gettext_lazy("site address"),
    "site_contact_name": gettext_lazy("contact person on site"),
    "site_contact_phone": gettext_lazy("their phone"),
    "customer": gettext_lazy("customer"),
    "machine": gettext_lazy("unit (model) or equipment type"),
    "capacity": gettext_lazy("capacity, t"),
    "plate": gettext_lazy("plate number"),
    "driver": gettext_lazy("driver's name"),
    "manager_name": gettext_lazy("manager's name"),
    "manager_phone": gettext_lazy("manager's phone"),
    "ordered_hours": gettext_lazy("hours ordered"),
    "notes": gettext_lazy("notes of the booking"),
    "booking": gettext_lazy("booking number"),
    "update": gettext_lazy("true when this is an update of an order already sent"),
    "trip_link": gettext_lazy("the driver's trip page: the order, status buttons, the waybill form"),
}

_ENGINE = Engine(debug=True, autoescape=False, builtins=["django.templatetags.i18n"])


class DriverNotLinked(BookingConflict):
    """The order cannot go through the bot; ``fallback`` has the text and the links to send
    it by hand."""

    def __init__(self, detail: str, fallback: dict):
        super().__init__("driver_not_linked", detail)
        self.fallback = fallback


@dataclass
class Dispatched:
    booking: Booking
    message: OutboxMessage | None
    status: str
    update: bool = False
    repeated: bool = False  # nothing changed: the message already sent, nothing new queued


# --- the text ---------------------------------------------------------------------------------
def _booking(pk) -> Booking:
    return Booking.objects.select_related(
        "deal__counterparty", "deal__manager", "equipment_type", "unit", "driver", "supply_order"
    ).get(pk=pk)


def _supply(booking: Booking) -> SupplyOrder | None:
    supply = getattr(booking, "supply_order", None)
    return supply if supply is not None and supply.status != SupplyOrder.Status.CANCELLED else None


def order_context(booking: Booking, *, update: bool = False) -> dict:
    """The variables of the order template, all plain text in the company's formats."""
    start, end = timezone.localtime(booking.start), timezone.localtime(booking.end)
    supply, unit = _supply(booking), booking.unit
    manager = booking.deal.manager or booking.created_by
    if unit is not None:
        machine, capacity, plate = unit.name, floatformat(unit.capacity_t, "-2"), format_plate(unit.plate)
    else:
        machine = str(booking.equipment_type)
        capacity = floatformat(booking.min_capacity_t, "-2") if booking.min_capacity_t else ""
        plate = format_plate(supply.unit_plate) if supply and supply.unit_plate else ""
    driver = booking.driver.full_name if booking.driver else (supply.driver_name if supply else "")
    return {
        "booking": booking.pk,
        "update": update,
        "date": start.strftime("%d.%m.%Y"),
        "start_time": start.strftime("%H:%M"),
        "end_date": end.strftime("%d.%m.%Y"),
        "end_time": end.strftime("%H:%M"),
        "site_address": booking.site_address,
        "site_contact_name": booking.site_contact_name,
        "site_contact_phone": format_phone(booking.site_contact_phone) if booking.site_contact_phone else "",
        "customer": str(booking.deal.counterparty),
        "machine": machine,
        "capacity": capacity,
        "plate": plate,
        "driver": driver,
        "manager_name": (manager.get_full_name() or manager.get_username()) if manager else "",
        "manager_phone": format_phone(manager.phone) if manager and manager.phone else "",
        "ordered_hours": floatformat(booking.ordered_hours, "-2"),
        "notes": booking.notes,
        "trip_link": trip_link_url(booking),
    }


def trip_link_url(booking: Booking) -> str:
    """The address of the booking's open trip page, or "" when it has none yet (``dispatch``
    and ``fallback`` issue one before rendering the order)."""
    link = trip_links.current(booking)
    return trip_links.url(link) if link is not None else ""


def trip_link_line(url: str) -> str:
    """The line added to a company template that does not use ``{{ trip_link }}``."""
    with translation.override(settings.LANGUAGE_CODE):
        return _("Your order: %(url)s") % {"url": url}


def sample_context() -> dict:
    """What the template editor previews when there is no booking to show."""
    return {
        "booking": 123,
        "update": False,
        "date": "12.05.2026",
        "start_time": "08:00",
        "end_date": "12.05.2026",
        "end_time": "17:00",
        "site_address": "Москва, ул. Строителей, 5",
        "site_contact_name": "Прораб Петров",
        "site_contact_phone": format_phone("+79161234567"),
        "customer": "ООО «СтройМонтаж»",
        "machine": "КС-55713 «Галичанин»",
        "capacity": "25",
        "plate": format_plate("А123ВС77"),
        "driver": "Иванов Иван",
        "manager_name": "Анна Смирнова",
        "manager_phone": format_phone("+79031112233"),
        "ordered_hours": "8",
        "notes": "Въезд с ул. Лесной",
        "trip_link": "https://arenda.example.ru/t/AbCdEf…/",
    }


def compile_template(source: str):
    """The template, or ``TemplateSyntaxError`` with ``.line`` (1-based) set."""
    try:
        return _ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        exc.line = getattr(exc, "template_debug", {}).get("line")
        raise


def render_text(source: str, context: dict) -> str:
    """Render in the company's language; tidy blank lines and trailing spaces."""
    with translation.override(settings.LANGUAGE_CODE):
        text = compile_template(source or BUILTIN_TEMPLATE).render(Context(context, autoescape=False))
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def update_header() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return pgettext("dispatch message header", "ORDER UPDATE")


def render_order(booking: Booking, *, update: bool = False, source: str | None = None) -> str:
    """The order text; an update starts with its header whatever the template says."""
    if source is None:
        source = CompanySettings.current().dispatch_template
    context = order_context(booking, update=update)
    with translation.override(settings.LANGUAGE_CODE):  # numbers in the company's format too
        body = render_text(source, context)
    if context["trip_link"] and context["trip_link"] not in body:
        # A company template without {{ trip_link }}: the driver gets the link all the same.
        body = f"{body}\n\n{trip_link_line(context['trip_link'])}"
    return f"⚠ {update_header()}\n\n{body}" if update else body


# --- sending it by hand ------------------------------------------------------------------------
def recipient_phone(booking: Booking) -> str:
    supply = _supply(booking)
    if supply is not None:
        return supply.driver_phone
    return booking.driver.phone if booking.driver else ""


def fallback(booking: Booking, text: str | None = None) -> dict:
    """The order to send by hand: the text, a WhatsApp link and an SMS link with it."""
    if text is None:
        if booking.can_dispatch() and trip_links.current(booking) is None:
            trip_links.issue(booking=booking)  # the text sent by hand carries the link too
        text = render_order(booking, update=booking.dispatch_count > 0)
    phone = recipient_phone(booking)
    digits = re.sub(r"\D", "", phone)
    encoded = quote(text, safe="")
    return {
        "text": text,
        "phone": phone,
        "whatsapp": f"https://wa.me/{digits}?text={encoded}" if digits else f"https://wa.me/?text={encoded}",
        "sms": f"sms:{'+' + digits if digits else ''}?body={encoded}",
    }


# The order in which a driver's channels are tried after the preferred one.
DRIVER_CHANNEL_ORDER = ("telegram", "max", "sms", "email")
BUTTON_CHANNELS = ("telegram", "max")  # where «Принял» is a button


def driver_routes(driver) -> list[tuple[str, str]]:
    """``(channel, recipient)`` the driver can get an order by, the preferred first, then
    in ``DRIVER_CHANNEL_ORDER``: a bound messenger chat (unless the channel is switched
    off), the phone when an SMS gateway is set up, the e-mail."""
    if driver is None:
        return []
    configs = config.all_configs()
    ready = {
        "telegram": bool(driver.telegram_chat_id) and configs["telegram"].enabled,
        "max": bool(driver.max_user_id) and configs["max"].enabled,
        "sms": bool(driver.phone) and configs["sms"].ready,
        "email": bool(driver.email),
    }
    recipient = {
        "telegram": driver.telegram_chat_id,
        "max": driver.max_user_id,
        "sms": driver.phone,
        "email": driver.email,
    }
    order = sorted(DRIVER_CHANNEL_ORDER, key=lambda channel: channel != driver.preferred_channel)
    return [(channel, recipient[channel]) for channel in order if ready[channel]]


def sms_text(booking: Booking) -> str:
    """The order as one short SMS: when, where, and the trip page with the rest."""
    context = order_context(booking, update=booking.dispatch_count > 0)
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Order #%(booking)s: %(date)s %(time)s, %(address)s. %(machine)s. The order: %(link)s") % {
            "booking": booking.pk,
            "date": context["date"],
            "time": context["start_time"],
            "address": context["site_address"],
            "machine": context["machine"],
            "link": context["trip_link"],
        }
        if booking.dispatch_count > 0:
            text = f"{update_header()}. {text}"
    return text


def not_linked_reason(booking: Booking) -> str | None:
    """Why no channel can carry this booking's order, or None when one can."""
    if _supply(booking) is not None:
        return _(
            "The machine is a supplier's: its driver is not connected to our bot. "
            "Send the order by hand (copy the text, WhatsApp or SMS) and mark it sent."
        )
    if booking.driver is None:
        return _("The booking has no driver yet.")
    if not driver_routes(booking.driver):
        return _(
            "The driver %(driver)s cannot be reached: no messenger is connected and SMS is not set up. "
            "Send the order by hand (copy the text, WhatsApp or SMS) and mark it sent; give the "
            "driver the invite link from the driver's page."
        ) % {"driver": booking.driver}
    return None


# --- dispatch ----------------------------------------------------------------------------------
def order_changed(booking: Booking, text: str | None = None, previous=None) -> bool:
    """Whether the order differs from the last one sent through the bot (an update is due).
    True when there was none, it failed, or it went by hand."""
    previous = previous if previous is not None else last_message(booking)
    if (
        previous is None
        or booking.delivery_status == MANUAL
        or previous.status == OutboxMessage.Status.FAILED
    ):
        return True
    first = next(iter(driver_routes(booking.driver)), None)
    if first is None or (previous.channel, previous.recipient) != first:
        return True
    text = text if text is not None else render_order(booking, update=booking.dispatch_count > 0)
    return _body(previous.text) != _body(text)


def dispatch_key_prefix(booking_pk: int) -> str:
    return f"dispatch:booking:{booking_pk}:"


def last_message(booking: Booking) -> OutboxMessage | None:
    return (
        OutboxMessage.objects.filter(
            content_type=ContentType.objects.get_for_model(Booking),
            object_id=booking.pk,
            idempotency_key__startswith=dispatch_key_prefix(booking.pk),
        )
        .order_by("-queued_at", "-id")
        .first()
    )


def dispatch(*, booking: Booking, by, manual: bool = False) -> Dispatched:
    """Send the order to the driver (or record that it was sent by hand). A dispatched
    booking sent again is an update; asked again with nothing changed, it returns the
    message already sent instead of sending a copy. Every order carries the driver's trip
    link, issued first in a transaction of its own: the text to send by hand that
    ``DriverNotLinked`` carries must not name a link its rollback would undo."""
    if Booking.objects.filter(pk=booking.pk, status__in=DISPATCHABLE).exists():
        trip_links.issue(booking=booking, by=by)
    return _dispatch(booking=booking, by=by, manual=manual)


DISPATCHABLE = (Booking.Status.CONFIRMED, Booking.Status.DISPATCHED)  # Booking.can_dispatch


@transaction.atomic
def _dispatch(*, booking: Booking, by, manual: bool = False) -> Dispatched:
    locked(Booking, booking.pk)
    booking = _booking(booking.pk)
    if not booking.can_dispatch():
        raise BookingConflict(
            "wrong_status",
            _("Only a confirmed or dispatched booking can be sent to the driver (this one is «%(status)s»).")
            % {"status": booking.get_status_display()},
        )
    update = booking.dispatch_count > 0
    if manual:
        booking.delivery_status, message = MANUAL, None
    else:
        reason = not_linked_reason(booking)
        if reason:
            raise DriverNotLinked(reason, fallback(booking))
        text = render_order(booking, update=update)
        previous = last_message(booking)
        if previous is not None and not order_changed(booking, text, previous):
            # Nothing changed since the last order: a double click or a retried request.
            return Dispatched(booking, previous, previous.status, update=False, repeated=True)
        routes = driver_routes(booking.driver)
        texts = {"sms": sms_text(booking)}
        (channel, recipient), rest = routes[0], routes[1:]
        message = outbox.enqueue(
            channel=channel,
            recipient=recipient,
            text=texts.get(channel, text),
            subject=booking,
            buttons=[outbox.ack_button()] if channel in BUTTON_CHANNELS else [],
            title=_("Order #%(id)s") % {"id": booking.pk},
            idempotency_key=f"{dispatch_key_prefix(booking.pk)}v{booking.dispatch_count + 1}",
            fallbacks=[{"channel": c, "recipient": r, "text": texts.get(c, "")} for c, r in rest],
        )
        booking.delivery_status = message.status
    booking.dispatch_count += 1
    booking.dispatched_at = timezone.now()
    booking.status = Booking.Status.DISPATCHED
    set_author(booking, by)
    booking.save()
    return Dispatched(booking, message, booking.delivery_status, update=update)


def _body(text: str) -> str:
    """The order without the update header (the same order re-sent is not a change)."""
    header = f"⚠ {update_header()}\n\n"
    return text.removeprefix(header)


def awaiting_acceptance(booking: Booking) -> OutboxMessage | None:
    """The booking's last order, when it went out and the driver has not accepted it yet."""
    message = last_message(booking)
    waiting = (OutboxMessage.Status.SENT, OutboxMessage.Status.DELIVERED, OutboxMessage.Status.READ)
    return message if message is not None and message.status in waiting else None


def accept_from_trip(booking: Booking) -> OutboxMessage | None:
    """«Принял» on the trip page — for a driver whose order came by SMS or e-mail, where no
    button can come back. The trip link is the driver's key, so it speaks for the chat the
    order went to."""
    message = awaiting_acceptance(booking)
    if message is None:
        return None
    return outbox.acknowledge(message.pk, chat_id=message.recipient, channel=message.channel)


def retry(*, booking: Booking, by) -> OutboxMessage | None:
    """Send the booking's failed order again."""
    message = last_message(booking)
    if message is None or message.status != OutboxMessage.Status.FAILED:
        return message
    return outbox.retry(message)


def delivery(booking: Booking) -> dict:
    """What the booking page shows about the last order: status, label, error, message."""
    message = None if booking.delivery_status == MANUAL else last_message(booking)
    status = MANUAL if booking.delivery_status == MANUAL else (message.status if message else "")
    return {
        "status": status,
        "label": status_label(status),
        "message": message,
        "error": message.last_error if message else "",
        "settled": not status or status in SETTLED,
        "channel": message.get_channel_display() if message else "",
        "instead_of": _failed_before(message),
    }


def _failed_before(message: OutboxMessage | None) -> list[dict]:
    """The channels that failed before the one the order went by (a fallback), oldest first."""
    chain = []
    while message is not None and message.fallback_of_id:
        message = message.fallback_of
        chain.append({"channel": message.get_channel_display(), "error": message.last_error})
    return chain[::-1]


def status_label(status: str) -> str:
    if status == MANUAL:
        return pgettext("order message", "sent by hand")
    labels = {
        "queued": pgettext("order message", "queued"),
        "sending": pgettext("order message", "sending"),
        "sent": pgettext("order message", "sent"),
        "delivered": pgettext("order message", "delivered"),
        "read": pgettext("order message", "read"),
        "acknowledged": pgettext("order message", "accepted"),
        "failed": pgettext("order message", "error"),
    }
    return labels.get(status, status)


# --- the template, edited by the admin ---------------------------------------------------------
@transaction.atomic
def dispatch_template_set(*, source: str, by) -> CompanySettings:
    """Save the order template (empty = the built-in one). Refuses (``TemplateSyntaxError``
    with ``.line``) a template Django cannot compile."""
    source = (source or "").replace("\r\n", "\n").strip()
    if source:
        compile_template(source)
    row = CompanySettings.current()
    row = locked(CompanySettings, row.pk)
    row.dispatch_template = source
    set_author(row, by)
    row.save()
    return row
