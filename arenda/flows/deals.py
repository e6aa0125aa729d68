"""A deal and its bookings: agreeing the КП makes the bookings; the prepayment rule gates
confirming a booking; the deal follows its bookings and invoices (in work, closing, won).
"""

from django.db import transaction

from arenda.billing.models import Invoice
from arenda.billing.rules import prepayment_satisfied
from arenda.bookings import services as bookings
from arenda.bookings.models import Booking
from arenda.core.services import locked
from arenda.crm import services as crm
from arenda.crm.models import Deal

WORKING = (Booking.Status.DISPATCHED, Booking.Status.COMPLETED, Booking.Status.CLOSED)
DONE = (Booking.Status.COMPLETED, Booking.Status.CLOSED)


# --- the deal follows ------------------------------------------------------------------------
def deal_follow(deal_id: int | None) -> str | None:
    """Move the deal to where its bookings and invoices say it is (``crm.services.deal_follow``
    decides the stage); returns the new stage, if any. Called after a booking's status or an
    invoice's payment changes."""
    if deal_id is None:
        return None
    with transaction.atomic():
        statuses = list(
            Booking.objects.filter(deal_id=deal_id)
            .exclude(status=Booking.Status.CANCELLED)
            .values_list("status", flat=True)
        )
        if not statuses:
            return None
        unpaid = (
            Invoice.objects.filter(deal_id=deal_id)
            .exclude(status__in=[Invoice.Status.PAID, Invoice.Status.CANCELLED])
            .exists()
        )
        return crm.deal_follow(
            deal_id=deal_id,
            bookings_closed=all(s == Booking.Status.CLOSED for s in statuses),
            bookings_done=all(s in DONE for s in statuses),
            in_work=any(s in WORKING for s in statuses),
            unpaid=unpaid,
        )


# --- agreeing ---------------------------------------------------------------------------------
@transaction.atomic
def deal_agree(*, deal: Deal, by, by_customer: bool = False, version: str | None = None) -> Deal:
    """The КП is agreed: one draft booking per line, the deal moves to "agreed". Agreeing
    twice (two clicks, the customer and the manager) makes the bookings once. The customer
    cannot accept an expired КП, and an acceptance naming the ``version`` it saw is refused
    when the КП has changed since — checked here, under the deal's lock, in the transaction
    that agrees it (``crm.services.proposal_check``)."""
    deal = locked(Deal, deal.pk)
    if deal.agreed_at is not None:
        return deal
    lines = crm.agreeable_lines(deal)
    crm.proposal_check(deal, version=version, by_customer=by_customer)
    for line in lines:
        bookings.booking_create(
            deal=deal,
            by=by,
            equipment_type=line.equipment_type,
            min_capacity_t=line.min_capacity_t,
            start=line.start,
            end=line.end,
            site_address=line.site_address,
            ordered_hours=line.ordered_hours,
            min_hours=line.min_hours,
            rate_per_hour=line.rate_per_hour,
            rate_per_km=line.rate_per_km,
            planned_km=line.km,
            notes=line.notes,
        )
    return crm.deal_mark_agreed(deal=deal, by=by, by_customer=by_customer)


@transaction.atomic
def deal_move(*, deal: Deal, stage: str, by, reason: str = "") -> Deal:
    """A manager's move along the funnel (the board, the deal page, the API); the move to
    "agreed" agrees the deal."""
    deal = locked(Deal, deal.pk)
    if stage == Deal.Stage.AGREED and crm.move_allowed(deal, stage):
        return deal_agree(deal=deal, by=by)
    return crm.deal_move(deal=deal, stage=stage, by=by, reason=reason)


@transaction.atomic
def deal_update(*, instance: Deal, by, **data) -> Deal:
    """Change a deal's details and, with ``stage``, move it (``deal_move``)."""
    stage = data.pop("stage", None)
    reason = data.pop("lost_reason", None)
    deal = crm.deal_update(instance=instance, by=by, **data) if data else instance
    if stage and stage != deal.stage:
        deal = deal_move(deal=deal, stage=stage, by=by, reason=reason or "")
    return deal


# --- a booking's status -----------------------------------------------------------------------
@transaction.atomic
def booking_confirm(*, booking: Booking, by) -> Booking:
    """Confirm a reserved booking, when billing's prepayment rule allows it."""
    booking = locked(Booking, booking.pk)
    return bookings.booking_confirm(
        booking=booking, by=by, prepayment_satisfied=prepayment_satisfied(booking)
    )


@transaction.atomic
def booking_complete(*, booking: Booking, by) -> Booking:
    """The job is done; the deal follows."""
    booking = bookings.booking_complete(booking=booking, by=by)
    deal_follow(booking.deal_id)
    return booking


@transaction.atomic
def booking_cancel(*, booking: Booking, reason: str, by) -> Booking:
    """Cancel (the unit and driver are free at once); the deal follows."""
    booking = bookings.booking_cancel(booking=booking, reason=reason, by=by)
    deal_follow(booking.deal_id)
    return booking
