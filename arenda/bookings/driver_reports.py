"""What drivers write to the bot once their chat is bound (``bookings/driver_link.py``):
hours they worked («8,5» or «8,5 120»: hours, then km) wait on the booking page as a
``DriverReport`` until the manager confirms it into a waybill (``flows/trips.py``, source
«driver») or rejects it; anything else goes to the manager of their current order as an
in-app notification instead of becoming a lead.
"""

import re
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from arenda.bookings import driver_link
from arenda.bookings.models import Booking, DriverReport
from arenda.bookings.services import BookingConflict
from arenda.core.formats import format_hours
from arenda.core.models import CompanySettings
from arenda.core.notify import notify
from arenda.core.services import locked
from arenda.directory.models import Driver


def current_booking(driver: Driver) -> Booking | None:
    """The driver's dispatched booking going on now or next; else the latest one."""
    qs = Booking.objects.select_related("deal__manager", "created_by").filter(
        driver=driver, status__in=[Booking.Status.DISPATCHED, Booking.Status.COMPLETED]
    )
    now = timezone.now()
    return (
        qs.filter(status=Booking.Status.DISPATCHED, end__gte=now).order_by("start", "pk").first()
        or qs.filter(Q(end__lt=now) | Q(status=Booking.Status.COMPLETED)).order_by("-start", "-pk").first()
    )


# «8,5» or «8.5 120» (hours, then km), units optional: «8,5 ч 120 км».
HOURS_REPORT = re.compile(
    r"^(?P<hours>\d{1,2}(?:[.,]\d{1,2})?)\s*(?:ч|h|час\w*)?\.?"
    r"(?:\s*[\s;/]\s*(?P<km>\d{1,5}(?:[.,]\d)?)\s*(?:км|km)?\.?)?$",
    re.IGNORECASE,
)


def parse_hours_report(text: str) -> tuple[Decimal, Decimal | None] | None:
    match = HOURS_REPORT.match((text or "").strip())
    if not match:
        return None
    hours = Decimal(match["hours"].replace(",", "."))
    km = Decimal(match["km"].replace(",", ".")) if match["km"] else None
    return (hours, km) if hours > 0 else None


def reporting_booking(driver: Driver) -> Booking | None:
    """The booking a driver's hours are about: their latest dispatched one that has begun."""
    return (
        Booking.objects.select_related("deal__manager", "created_by")
        .filter(driver=driver, status=Booking.Status.DISPATCHED, start__lte=timezone.now())
        .order_by("-start", "-pk")
        .first()
    )


def report_receive(*, driver: Driver, booking: Booking, hours, km, text: str) -> DriverReport:
    """Keep the driver's hours for the manager to confirm; a newer report replaces the one
    still waiting."""
    report = (
        DriverReport.objects.select_for_update()
        .filter(booking=booking, status=DriverReport.Status.PENDING)
        .first()
    ) or DriverReport(booking=booking)
    if report.pk and report.source == DriverReport.Source.TRIP:
        _forget_trip_report(report)  # the newer message replaces the trip page's waybill
    report.driver, report.hours, report.km, report.text = driver, hours, km, text[:200]
    report.full_clean(exclude=["booking", "driver", "waybill", "decided_by"])
    report.save()
    return report


def _forget_trip_report(report: DriverReport) -> None:
    """A pending trip-page report becomes a bot one: its waybill figures are cleared and its
    photos go (their files after the commit)."""
    report.source = DriverReport.Source.BOT
    report.number, report.idempotency_key = "", None
    for name in ("started_at", "finished_at", "odometer_start", "odometer_end", "engine_hours"):
        setattr(report, name, None)
    report.downtime_hours = 0
    for photo in report.photos.all():
        name, storage = photo.file.name, photo.file.storage
        photo.delete()
        transaction.on_commit(lambda name=name, storage=storage: storage.delete(name))


def report_waybill(report: DriverReport) -> tuple[Booking, dict]:
    """The waybill a pending report makes (source «driver»): its booking and its data.
    The caller holds the report's lock (``flows/trips.py``)."""
    if report.status != DriverReport.Status.PENDING:
        raise BookingConflict("report_decided", _("This report is already confirmed or rejected."))
    booking = Booking.objects.get(pk=report.booking_id)
    if report.source == DriverReport.Source.TRIP:
        return booking, _trip_waybill(report)
    worked_until = booking.start + timedelta(hours=float(report.hours))
    if worked_until > timezone.now() + timedelta(minutes=CompanySettings.current().waybill_tolerance_minutes):
        raise ValidationError(
            {
                "hours": _("%(hours)s h have not passed yet since the start of the booking.")
                % {"hours": report.hours}
            }
        )
    finish = max(booking.end, worked_until)
    data = {
        "number": f"TG-{report.pk}",
        "started_at": booking.start,
        "finished_at": finish,
        "hours": report.hours,
        "notes": _("Reported by the driver in Telegram: «%(text)s»") % {"text": report.text},
    }
    if report.km is not None:
        data["km"] = report.km
    return booking, data


def _trip_waybill(report: DriverReport) -> dict:
    """A trip-page report carries the whole waybill: its own number, times, odometer,
    engine hours and downtime (checked again by the waybill's rules when recorded)."""
    data = {
        "number": report.number or f"TP-{report.pk}",
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "hours": report.hours,
        "downtime_hours": report.downtime_hours,
        "notes": _("Sent by the driver from the trip page."),
    }
    for name in ("km", "odometer_start", "odometer_end", "engine_hours"):
        if getattr(report, name) is not None:
            data[name] = getattr(report, name)
    if report.odometer_start is not None and report.odometer_end is not None:
        data.pop("km", None)  # the odometer decides, as it did when the driver sent it
    return data


def report_scan(report: DriverReport):
    """A copy of the report's first photo to become the waybill's scan (the others stay
    visible with the report), or None."""
    photo = report.photos.first() if report.pk else None
    if photo is None:
        return None
    try:
        with photo.file.open("rb") as handle:
            return ContentFile(handle.read(), name=photo.name or "photo")
    except FileNotFoundError:
        return None


def report_mark_confirmed(*, report: DriverReport, waybill, by) -> DriverReport:
    report.status, report.waybill = DriverReport.Status.CONFIRMED, waybill
    report.decided_by = by if getattr(by, "is_authenticated", False) else None
    report.decided_at = timezone.now()
    report.save()
    return report


@transaction.atomic
def report_reject(*, report: DriverReport, by, reason: str = "") -> DriverReport:
    """Reject a pending report; a trip-page report needs the reason, which the driver reads
    on the trip page (and may send the waybill again)."""
    report = locked(DriverReport, report.pk)
    if report.status != DriverReport.Status.PENDING:
        raise BookingConflict("report_decided", _("This report is already confirmed or rejected."))
    reason = (reason or "").strip()
    if not reason and report.source == DriverReport.Source.TRIP:
        raise ValidationError({"reject_reason": _("Say why the report is rejected: the driver will see it.")})
    report.reject_reason = reason[:1000]
    report.status = DriverReport.Status.REJECTED
    report.decided_by = by if getattr(by, "is_authenticated", False) else None
    report.decided_at = timezone.now()
    report.save()
    return report


def _report_hours(driver: Driver, text: str) -> str | None:
    """A driver's «8,5 120»: a report on their booking under way, for the manager to confirm."""
    parsed = parse_hours_report(text)
    booking = reporting_booking(driver) if parsed else None
    if booking is None:
        return None
    hours, km = parsed
    report = report_receive(driver=driver, booking=booking, hours=hours, km=km, text=text)
    with translation.override(settings.LANGUAGE_CODE):
        amounts = format_hours(hours)
        if km is not None:
            amounts += ", " + _("%(km)s km") % {"km": floatformat(km, "-1")}
        manager = booking.deal.manager or booking.created_by
        notify(
            manager,
            _("Driver %(driver)s reports %(amounts)s for booking #%(id)s: confirm it on the booking page.")
            % {"driver": driver.full_name, "amounts": amounts, "id": booking.pk},
            reverse("bookings:booking_detail", args=[booking.pk]) + "#driver-report",
        )
        return _("Noted: %(amounts)s for order #%(id)s. The manager will confirm it.") % {
            "amounts": amounts,
            "id": report.booking_id,
        }


def driver_message(*, chat_id: str, text: str, user: dict, channel: str = "telegram") -> str | None:
    """A driver writes to the bot (Telegram or MAX): not a lead. Hours («8,5 120») become a
    report on their booking under way; anything else goes to the manager of their current
    order as a notification. None when the chat is not a driver's."""
    field = driver_link.BOUND_FIELDS.get(channel)
    if field is None or not chat_id:
        return None
    driver = Driver.objects.filter(**{field: str(chat_id)}).first()
    if driver is None:
        return None
    reply = _report_hours(driver, text)
    if reply:
        return reply
    booking = current_booking(driver)
    manager = (booking.deal.manager or booking.created_by) if booking else None
    with translation.override(settings.LANGUAGE_CODE):
        if manager is None or not manager.is_active:
            return _("You have no current order. Please call the office.")
        notify(
            manager,
            _("Driver %(driver)s (booking #%(id)s): %(text)s")
            % {"driver": driver.full_name, "id": booking.pk, "text": text or _("(a message without text)")},
            reverse("bookings:booking_detail", args=[booking.pk]),
        )
        return _("Passed on to the manager.")
