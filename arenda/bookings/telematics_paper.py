"""The telematics appendix of the printed papers: the overtime invoice
(``billing/printing.py``) and the shift report (``bookings/shift_report_print.py``) carry the
tracker's figures of their trips and a plot of each track
(``bookings/_telematics_appendix.html``).

- **When**: the company prints it (``CompanySettings.telematics_on_paper``) and at least one
  of the trips has its evidence received (READY); pending or failed evidence is not printed.
- **Which trips**: for an overtime invoice, every waybill of its booking; for a shift report,
  its own waybill when it has one, else the booking's waybills started on the report's day.
- **The figures** are the tracker's as received, the waybill's hours beside its engine
  hours; a figure the tracker did not give prints «no data», never 0.

The appendix is read when the paper is rendered: it is not part of a shift report's signed
content (its hash), and a PDF stored before the tracker answered has none.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.safestring import mark_safe

from arenda.bookings.models import ShiftReport, TripEvidence
from arenda.bookings.telematics import site_of
from arenda.core.models import CompanySettings
from arenda.integrations.telematics.plot import track_svg
from arenda.integrations.telematics.providers import NAMES

PLOT_WIDTH, PLOT_HEIGHT = 320, 200


def ready() -> QuerySet[TripEvidence]:
    return TripEvidence.objects.filter(status=TripEvidence.Status.READY).select_related("waybill", "booking")


def for_overtime_invoice(invoice) -> QuerySet[TripEvidence]:
    """Every received evidence of the waybills of an overtime invoice's booking (none for
    any other invoice)."""
    if not (invoice.is_overtime and invoice.booking_id):
        return TripEvidence.objects.none()
    return ready().filter(waybill__booking_id=invoice.booking_id)


def _report_day(report: ShiftReport) -> date:
    try:
        return date.fromisoformat(report.snapshot.get("date") or "")
    except (TypeError, ValueError):
        return timezone.localdate(report.signed_at)


def for_shift_report(report: ShiftReport) -> QuerySet[TripEvidence]:
    """The received evidence of the report's waybill; without one, of the booking's waybills
    started on the report's day (in the company's time zone)."""
    if report.waybill_id:
        return ready().filter(waybill_id=report.waybill_id)
    day_start = timezone.make_aware(datetime.combine(_report_day(report), time.min))
    return ready().filter(
        waybill__booking_id=report.booking_id,
        waybill__started_at__gte=day_start,
        waybill__started_at__lt=day_start + timedelta(days=1),
    )


def _number(value: Decimal | int | None) -> str | None:
    """8.50 → «8,5» (the active language's separator); None stays None (missing)."""
    if value is None:
        return None
    text = f"{Decimal(value).normalize():f}" if isinstance(value, Decimal) else str(value)
    return text.replace(".", str(get_format("DECIMAL_SEPARATOR")))


def _moment(value: datetime | None, *, on: date) -> str | None:
    """«07:02» on the trip's day, «28.11 01:15» past it."""
    if value is None:
        return None
    local = timezone.localtime(value)
    return local.strftime("%H:%M") if local.date() == on else local.strftime("%d.%m %H:%M")


def _row(evidence: TripEvidence, *, radius_m: int) -> dict:
    waybill = evidence.waybill
    day = timezone.localdate(waybill.started_at)
    start = _moment(evidence.first_movement, on=day)
    stop = _moment(evidence.last_movement, on=day)
    window_start = timezone.localtime(evidence.window_start)
    site = site_of(evidence.booking)
    return {
        "waybill": waybill.number,
        "date": day.strftime("%d.%m.%Y"),
        "platform": NAMES.get(evidence.provider, evidence.provider),
        # the columns, in the order of the partial's header; None prints «no data»
        "figures": [
            _number(waybill.hours),
            _number(evidence.engine_hours),
            start,
            stop,
            _number(evidence.distance_km),
            _number(evidence.ignition_hours),
            _number(evidence.hours_on_site),
            _number(evidence.samples),
        ],
        "window": f"{window_start:%d.%m.%Y %H:%M} – {_moment(evidence.window_end, on=window_start.date())}",
        "site_known": site is not None,
        "plot": mark_safe(  # noqa: S308 — only numbers and the plot's own words are in it
            track_svg(evidence.track, site=site, radius_m=radius_m, width=PLOT_WIDTH, height=PLOT_HEIGHT)
        ),
    }


def appendix(evidences, *, settings_row: CompanySettings | None = None) -> dict | None:
    """The partial's context of these evidences (the received ones, in window order), or
    None: the company does not print it, or nothing was received."""
    settings_row = settings_row or CompanySettings.current()
    if not settings_row.telematics_on_paper:
        return None
    received = sorted(
        (e for e in evidences if e.status == TripEvidence.Status.READY),
        key=lambda e: (e.window_start, e.pk),
    )
    if not received:
        return None
    radius_m = settings_row.telematics_site_radius_m
    rows = [_row(evidence, radius_m=radius_m) for evidence in received]
    return {
        "rows": rows,
        "platforms": ", ".join(dict.fromkeys(row["platform"] for row in rows)),
        "radius_m": radius_m,
        "any_site": any(row["site_known"] for row in rows),
    }


def overtime_invoice_appendix(invoice) -> dict | None:
    if not (invoice.is_overtime and invoice.booking_id):
        return None
    return appendix(for_overtime_invoice(invoice))


def shift_report_appendix(report: ShiftReport) -> dict | None:
    found = appendix(for_shift_report(report))
    if found is not None:
        found["unsigned"] = True  # the signed hash covers the snapshot, not the tracker
    return found
