"""«Заявка поставщику» (docs/supplier-request.md): a supply order's request as a PDF and an
e-mail — or a message to the supplier's Telegram chat (``bookings/supplier_link.py``) —
through the outbox, with the supplier's link ``/s/<token>/`` to confirm or decline it.

One link per version of the request: sending again with the same content keeps the link,
sending after a change (time, site, rate, our legal entity…) supersedes the old link (it then
says the request changed) and makes a new one. The supplier's answer goes through the supply
order's own status flow (``services.supply_order_set_status``) and the manager is told."""

import hashlib
import re
import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from arenda.bookings import services
from arenda.bookings.models import SupplyOrder, SupplyRequest
from arenda.bookings.services import BookingConflict
from arenda.core.links import absolute
from arenda.core.money import format_rub
from arenda.core.notify import notify
from arenda.core.services import locked
from arenda.crm.proposal import date_in_words, organization_for
from arenda.integrations.messaging import outbox
from arenda.integrations.messaging.models import OutboxMessage

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
REASON_MAX = 1000
NAME_MAX = 200
# An order in these takes no answers and its link opens nothing (404).
CLOSED_STATUSES = (SupplyOrder.Status.CANCELLED, SupplyOrder.Status.COMPLETED)


def _order(order_id: int) -> SupplyOrder:
    return SupplyOrder.objects.select_related(
        "supplier",
        "booking__equipment_type",
        "booking__unit",
        "booking__deal__organization",
        "booking__deal__manager",
        "booking__deal__counterparty",
    ).get(pk=order_id)


def _local(moment):
    return timezone.localtime(moment, timezone.get_default_timezone())


def request_context(order: SupplyOrder) -> dict:
    """What the request says: what, when (in the company's time zone), where, the rate, and
    our requisites (the deal's legal entity, else the default one)."""
    booking = order.booking
    organization, guessed = organization_for(booking.deal)
    start, end = _local(booking.start), _local(booking.end)
    unit = booking.unit
    return {
        "order": order,
        "booking": booking,
        "supplier": order.supplier,
        "equipment": booking.equipment_type.name,
        "capacity": unit.capacity_t if unit is not None else None,
        "unit_plate": order.unit_plate,
        "start": start.strftime("%d.%m.%Y %H:%M"),
        "end": end.strftime("%d.%m.%Y %H:%M"),
        "time_zone": str(timezone.get_default_timezone()),
        "site_address": booking.site_address,
        "site_contact": booking.site_contact_name,
        "site_phone": booking.site_contact_phone,
        "rate": format_rub(order.cost_per_hour),
        "notes": order.notes,
        "organization": organization,
        "organization_guessed": guessed,
        "date": date_in_words(timezone.localdate(timezone=timezone.get_default_timezone())),
    }


def fingerprint(order: SupplyOrder) -> str:
    """What a version of the request is: a change of any of it makes a new link."""
    c = request_context(order)
    organization = c["organization"]
    parts = [
        c["equipment"], str(c["capacity"]), c["unit_plate"], c["start"], c["end"], c["site_address"],
        c["site_contact"], c["site_phone"], c["rate"], c["notes"], str(order.supplier_id),
        str(getattr(organization, "pk", "")), getattr(organization, "inn", ""),
    ]  # fmt: skip
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def render_request_html(order: SupplyOrder, template: str = "bookings/supply_request_doc.html") -> str:
    with translation.override("ru"):
        return render_to_string(template, request_context(order))


def render_request_pdf(order: SupplyOrder) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is made

    return HTML(string=render_request_html(order)).write_pdf()


def request_filename(order: SupplyOrder) -> str:
    return f"zayavka-postavshchiku-{order.pk}.pdf"


def current(order: SupplyOrder) -> SupplyRequest | None:
    return order.requests.filter(superseded_at__isnull=True).first()


def link(request: SupplyRequest) -> str:
    return absolute(reverse("supply_public:page", args=[request.token]))


EMAIL, TELEGRAM = "email", "telegram"
CHANNELS = (EMAIL, TELEGRAM)


def new_key() -> str:
    return uuid.uuid4().hex


def _check_to(to: str) -> str:
    to = (to or "").strip()
    if not to:
        raise ValidationError({"to": _("Give the e-mail address to send the request to.")})
    if len(to) > 254:
        raise ValidationError({"to": _("Enter a valid e-mail address.")})
    try:
        validate_email(to)
    except ValidationError:
        raise ValidationError({"to": _("Enter a valid e-mail address.")})
    return to


@transaction.atomic
def issue(*, order: SupplyOrder, by=None) -> SupplyRequest:
    """The open version of the request: the same one while nothing changed, else a new one
    (the old link is superseded). A declined order goes back to «requested» on a new version."""
    order = locked(SupplyOrder, order.pk)
    if order.status in CLOSED_STATUSES:
        raise BookingConflict("wrong_status", _("A cancelled or completed supply order takes no request."))
    order = _order(order.pk)
    print_ = fingerprint(order)
    open_request = current(order)
    if open_request is not None and open_request.fingerprint == print_:
        return open_request
    if open_request is not None:
        open_request.superseded_at = timezone.now()
        open_request.save(update_fields=["superseded_at"])
    if order.status == SupplyOrder.Status.DECLINED:
        services.supply_order_set_status(supply_order=order, status=SupplyOrder.Status.REQUESTED, by=by)
    return SupplyRequest.objects.create(
        supply_order=order,
        token=secrets.token_urlsafe(32),
        fingerprint=print_,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )


def _title_and_text(order: SupplyOrder, request: SupplyRequest, channel: str) -> tuple[str, str]:
    c = request_context(order)
    with translation.override(settings.LANGUAGE_CODE):
        organization = c["organization"]
        ours = (organization.full_name or organization.name) if organization else ""
        title = _("Request to the supplier No. %(id)s — %(organization)s") % {
            "id": order.pk,
            "organization": organization.name if organization else "",
        }
        values = {
            "equipment": c["equipment"],
            "start": c["start"],
            "end": c["end"],
            "site": c["site_address"],
            "rate": c["rate"],
            "link": link(request),
            "organization": ours,
        }
        if channel == TELEGRAM:
            text = (
                _(
                    "%(organization)s asks you to provide: %(equipment)s, %(start)s – %(end)s, at "
                    "%(site)s, at %(rate)s per hour.\n\n"
                    "The request (PDF) — and your answer, confirm or decline: %(link)s"
                )
                % values
            )
        else:
            text = (
                _(
                    "Good day!\n\nWe ask you to provide: %(equipment)s, %(start)s – %(end)s, at %(site)s, "
                    "at %(rate)s per hour. The request is attached.\n\n"
                    "Please confirm or decline it: %(link)s\n\n%(organization)s"
                )
                % values
            )
    return title, text


def _recipient(order: SupplyOrder, channel: str, to: str) -> str:
    if channel == EMAIL:
        return _check_to(to)
    if channel != TELEGRAM:
        raise ValidationError({"channel": _("Choose e-mail or Telegram.")})
    chat = (
        SupplyOrder.objects.filter(pk=order.pk).values_list("supplier__telegram_chat_id", flat=True).first()
    )
    if not chat:
        raise ValidationError(
            {
                "channel": _(
                    "The supplier has not connected Telegram: give them the invite link from the "
                    "supplier's page, or send by e-mail."
                )
            }
        )
    return chat


@transaction.atomic
def send(*, order: SupplyOrder, to: str = "", by, key: str = "", channel: str = EMAIL) -> OutboxMessage:
    """Send the request with the supplier's link through the outbox (after the commit): by
    e-mail to ``to`` with its PDF attached, or to the supplier's bound Telegram chat (the PDF
    is on the link's page). The same ``key`` again returns the message queued already and
    sends nothing."""
    recipient = _recipient(order, channel, to)
    key = (key or "").strip()
    if key and not KEY_PATTERN.match(key):
        raise ValidationError({"key": _("A bad idempotency key.")})
    outbox_key = f"supply-request:{order.pk}:{getattr(by, 'pk', None) or 0}:{key or uuid.uuid4().hex}"
    locked(SupplyOrder, order.pk)
    if (known := OutboxMessage.objects.filter(idempotency_key=outbox_key).first()) is not None:
        return known
    request = issue(order=order, by=by)
    order = _order(order.pk)
    title, text = _title_and_text(order, request, channel)
    name, attachments = "", None
    if channel == EMAIL:  # Telegram gets the link only: the PDF is on the link's page
        name = default_storage.save(
            f"supply-requests/{order.pk}/{uuid.uuid4().hex}.pdf", ContentFile(render_request_pdf(order))
        )
        attachments = [{"name": name, "filename": request_filename(order), "content_type": "application/pdf"}]
    try:
        message = outbox.enqueue(
            channel=channel,
            recipient=recipient,
            title=title,
            text=text,
            subject=order,
            idempotency_key=outbox_key,
            attachments=attachments,
        )
        request.recipient = recipient if channel == EMAIL else "Telegram"
        request.save(update_fields=["recipient"])
    except BaseException:
        if name:
            default_storage.delete(name)
        raise
    return message


# --- the supplier's link ----------------------------------------------------------------------
def request_for_token(token: str) -> SupplyRequest | None:
    """The request with exactly this token (open or superseded), or None — also for an order
    that is cancelled or completed: its link opens nothing."""
    if not token or len(token) > 64:
        return None
    request = SupplyRequest.objects.select_related("supply_order").filter(token=token).first()
    # Compare again in Python: some databases match text case-insensitively.
    if request is None or request.token != token or request.supply_order.status in CLOSED_STATUSES:
        return None
    return request


class AnswerRefused(Exception):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


def _people(order: SupplyOrder, request: SupplyRequest) -> list:
    people = []
    for user in (request.created_by, order.booking.deal.manager):
        if user is not None and user not in people:
            people.append(user)
    return people


@transaction.atomic
def answer(*, request: SupplyRequest, confirmed: bool, name: str = "", reason: str = "") -> SupplyRequest:
    """The supplier confirms or declines the request through the link: the order's status
    follows (``supply_order_set_status``) and the manager is told. Refused with ``answered``
    when this version has an answer already, ``changed`` when a newer version was sent."""
    name, reason = (name or "").strip(), (reason or "").strip()
    if len(name) > NAME_MAX:
        raise ValidationError({"name": _("At most %(n)s characters, please.") % {"n": NAME_MAX}})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("At most %(n)s characters, please.") % {"n": REASON_MAX}})
    if not confirmed and not reason:
        raise ValidationError({"reason": _("Say why you decline the request.")})
    request = locked(SupplyRequest, request.pk)
    if request.answer:
        raise AnswerRefused("answered", _("This request is answered already."))
    if request.superseded_at is not None:
        raise AnswerRefused("changed", _("The request has changed: a new one has been sent to you."))
    order = locked(SupplyOrder, request.supply_order_id)
    status = SupplyOrder.Status.CONFIRMED if confirmed else SupplyOrder.Status.DECLINED
    if status not in order.next_statuses():
        raise AnswerRefused("wrong_status", _("This request takes no answer any more."))
    services.supply_order_set_status(supply_order=order, status=status, by=None)
    request.answer = SupplyRequest.Answer.CONFIRMED if confirmed else SupplyRequest.Answer.DECLINED
    request.answered_at = timezone.now()
    request.answered_by = name
    request.reason = "" if confirmed else reason
    request.save(update_fields=["answer", "answered_at", "answered_by", "reason"])
    order = _order(order.pk)
    with translation.override(settings.LANGUAGE_CODE):
        if confirmed:
            text = _("%(supplier)s confirmed %(order)s.") % {"supplier": order.supplier, "order": order}
        else:
            text = _("%(supplier)s declined %(order)s: %(reason)s") % {
                "supplier": order.supplier,
                "order": order,
                "reason": reason,
            }
    url = order.get_absolute_url()
    people = _people(order, request)
    transaction.on_commit(lambda: [notify(user, text, url) for user in people])
    return request
