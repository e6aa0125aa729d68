"""A trip's paperwork: a waybill recorded or corrected → the overtime settlement (an
invoice for what was worked beyond what is billed) → the booking closes once everything is
paid → the deal follows; the closing document (act or УПД) is made once the work is done,
and follows a corrected waybill (``billing/acts.py``). The driver's own report of hours becomes a waybill the same way.

Each runs in one transaction under the booking's row lock (taken first, by the waybill
write), so two waybills of one booking saved at once settle one after the other and the
second sees the first's invoice: nothing is billed twice.
"""

from dataclasses import dataclass

from django.db import transaction

from arenda.billing import acts, overtime
from arenda.billing.models import Invoice
from arenda.bookings import driver_reports, telematics, waybills
from arenda.bookings import services as bookings
from arenda.bookings.models import Booking, DriverReport, Waybill
from arenda.core.services import locked
from arenda.flows.deals import deal_follow


@dataclass
class Recorded:
    waybill: Waybill
    booking: Booking
    overtime_invoice: Invoice | None


def _settle(waybill: Waybill, *, by, correction: bool) -> Recorded:
    booking = waybill.booking
    if not correction:
        deal_follow(booking.deal_id)  # the first waybill completes the booking
    invoice = overtime.settle(booking=booking, by=by, correction=correction)
    if correction:  # an act already made follows the corrected hours (a correction document)
        acts.booking_changed(booking=booking, by=by)
    acts.booking_done(booking=booking, by=by)
    close_if_settled(booking=booking, by=by)
    telematics.evidence_arm(waybill)  # the tracker is read after the commit
    booking.refresh_from_db()
    return Recorded(waybill=waybill, booking=booking, overtime_invoice=invoice)


@transaction.atomic
def waybill_record(
    *, booking: Booking, data: dict, by, scan=None, source: str = Waybill.Source.MANUAL
) -> Recorded:
    """Record a waybill of a booking. The first one completes a confirmed or dispatched
    booking; then the booking is settled (an overtime invoice if more was worked than was
    billed) and closed if everything is paid."""
    waybill = waybills.waybill_create(booking=booking, data=data, by=by, scan=scan, source=source)
    with waybills.scan_removed_on_error(waybill, before=""):
        return _settle(waybill, by=by, correction=False)


@transaction.atomic
def waybill_update(*, waybill: Waybill, data: dict, by, scan=None) -> Recorded:
    """Correct a waybill; the booking is settled again (the overtime invoice corrected)."""
    before = waybill.scan.name if waybill.scan else ""
    waybill = waybills.waybill_correct(waybill=waybill, data=data, by=by, scan=scan)
    with waybills.scan_removed_on_error(waybill, only_new=scan is not None, before=before):
        return _settle(waybill, by=by, correction=True)


@transaction.atomic
def report_confirm(*, report: DriverReport, by) -> Recorded:
    """The manager agrees with the hours a driver sent: a waybill (source «driver») from
    the report — a trip-page report's own figures, its first photo the scan — the booking is completed and settled as with any waybill."""
    report = locked(DriverReport, report.pk)
    booking, data = driver_reports.report_waybill(report)
    scan = driver_reports.report_scan(report)  # a trip-page report's first photo
    recorded = waybill_record(booking=booking, data=data, by=by, scan=scan, source=Waybill.Source.DRIVER)
    driver_reports.report_mark_confirmed(report=report, waybill=recorded.waybill, by=by)
    return recorded


# --- closing ----------------------------------------------------------------------------------
@transaction.atomic
def close_if_settled(*, booking: Booking, by=None, late: bool = False) -> bool:
    """A completed booking whose work is done and invoices all paid becomes closed; the deal
    follows. ``late`` (the sweep): also one short of waybills that ended long ago."""
    booking = locked(Booking, booking.pk)
    if booking.status != Booking.Status.COMPLETED or not overtime.settled(booking, late=late):
        return False
    bookings.booking_close(booking=booking, by=by)
    deal_follow(booking.deal_id)
    return True


def close_settled_bookings(limit: int = 500) -> int:
    """The sweep: close every completed booking that is settled (a missed hook loses nothing)."""
    closed = 0
    for pk in overtime.closing_candidates(limit):
        if close_if_settled(booking=Booking(pk=pk), late=True):
            closed += 1
    return closed
