"""The КП is what gets invoiced: a line with hours and delivery km goes from the proposal
to its booking, to the prepayment invoice, to the waybill and the overtime settlement, and
every sum agrees. (The prepayment said 28 000 ₽ for a line of 8 h × 3 500 + 30 km × 100 =
31 000 ₽: the booking kept no planned km.)"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from arenda.billing import overtime
from arenda.billing.services import prepayment_invoice_for_booking
from arenda.bookings import services as bookings
from arenda.flows import deals, payments, trips
from tests import factories as f

pytestmark = pytest.mark.django_db
D = Decimal


def agreed_booking(**line):
    """A deal of yesterday's job (8 h × 3 500, 30 km × 100, minimum 4 h), agreed by the
    customer, its booking reserved: the state before the prepayment."""
    f.OrganizationFactory()
    deal = f.DealFactory(counterparty=f.CounterpartyFactory(prepayment_required=True))
    start = (timezone.localtime() - timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    values = {
        "deal": deal,
        "start": start,
        "end": start + timedelta(hours=10),
        "ordered_hours": D("8"),
        "min_hours": D("4"),
        "rate_per_hour": D("3500.00"),
        "km": D("30"),
        "rate_per_km": D("100.00"),
    } | line
    kp_line = f.DealLineFactory(**values)
    assert line or kp_line.amount == D("31000.00")
    deals.deal_agree(deal=deal, by=None, by_customer=True)
    booking = deal.bookings.get()
    unit = f.UnitFactory(equipment_type=booking.equipment_type, capacity_t=D("50"))
    return bookings.booking_reserve(booking=booking, unit=unit, driver=f.DriverFactory(), by=None)


def waybill(booking, *, hours, km, number="ПЛ-1"):
    start = timezone.localtime(booking.start)
    data = {
        "number": number,
        "started_at": start,
        "finished_at": start + timedelta(hours=10),
        "hours": D(hours),
        "km": D(km),
    }
    return trips.waybill_record(booking=booking, data=data, by=None)


def test_the_booking_keeps_the_lines_km_and_minimum_order():
    booking = agreed_booking()
    assert (booking.planned_km, booking.rate_per_km, booking.min_hours) == (
        D("30.00"),
        D("100.00"),
        D("4.00"),
    )


def test_the_prepayment_bills_exactly_the_agreed_line(django_capture_on_commit_callbacks):
    booking = agreed_booking()
    invoice = prepayment_invoice_for_booking(booking=booking, by=None)
    assert invoice.total == D("31000.00")
    assert (invoice.billed_hours, invoice.billed_km) == (D("8.00"), D("30.00"))
    assert [(line.quantity, line.price, line.amount) for line in invoice.lines.order_by("position")] == [
        (D("8.000"), D("3500.00"), D("28000.00")),
        (D("30.000"), D("100.00"), D("3000.00")),
    ]


def test_from_proposal_to_overtime_every_sum_agrees(django_capture_on_commit_callbacks):
    booking = agreed_booking()
    prepayment = prepayment_invoice_for_booking(booking=booking, by=None)
    with django_capture_on_commit_callbacks(execute=True):
        payments.payment_record(invoice=prepayment, amount="31000.00", on=prepayment.date, source="manual")
    booking = deals.booking_confirm(booking=booking, by=None)
    recorded = waybill(booking, hours="10", km="45")
    extra = recorded.overtime_invoice
    # 2 h and 15 km beyond the prepaid 8 h and 30 km: 2 × 3 500 + 15 × 100
    assert (extra.billed_hours, extra.billed_km, extra.total) == (D("2.00"), D("15.00"), D("8500.00"))
    state = overtime.settlement(booking)
    assert (state.billable_hours, state.invoiced_hours, state.extra_hours) == (D("10"), D("10.00"), D("0"))
    assert (state.billable_km, state.invoiced_km, state.extra_km) == (D("45"), D("45.00"), D("0"))
    assert prepayment.total + extra.total == D("10") * D("3500") + D("45") * D("100")


def test_fewer_km_than_planned_is_the_customers_credit(django_capture_on_commit_callbacks):
    booking = agreed_booking()
    prepayment = prepayment_invoice_for_booking(booking=booking, by=None)
    with django_capture_on_commit_callbacks(execute=True):
        payments.payment_record(invoice=prepayment, amount="31000.00", on=prepayment.date, source="manual")
    booking = deals.booking_confirm(booking=booking, by=None)
    recorded = waybill(booking, hours="8", km="20")
    assert recorded.overtime_invoice is None
    state = overtime.settlement(booking)
    assert (state.extra_hours, state.extra_km, state.credit_amount) == (D("0"), D("0"), D("1000.00"))


def test_a_line_without_km_bills_hours_only():
    booking = agreed_booking(km=D("0"))
    invoice = prepayment_invoice_for_booking(booking=booking, by=None)
    assert (invoice.total, invoice.billed_km, invoice.lines.count()) == (D("28000.00"), D("0.00"), 1)
