"""Closing: a completed booking closes by itself once its work is done and every invoice of
it is paid — at the payment that pays the last one, after settling a waybill, or by the
periodic sweep; never before. The deal follows (all closed and paid → won)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from arenda.billing import overtime
from arenda.billing.services import invoice_cancel, prepayment_invoice_for_booking
from arenda.bookings.models import Booking
from arenda.core.models import CompanySettings
from arenda.crm.models import Deal
from arenda.flows import tasks, trips
from arenda.flows.payments import payment_record
from arenda.flows.trips import waybill_record
from tests.bookings.test_waybills import job, sheet

pytestmark = pytest.mark.django_db


def status(booking) -> str:
    return Booking.objects.get(pk=booking.pk).status


def pay(invoice, amount=None, reference=""):
    return payment_record(
        invoice=invoice, amount=amount or invoice.total - invoice.paid_amount, on=invoice.date,
        source="manual", reference=reference,
    )  # fmt: skip


def record(booking, number="ПЛ-1", **kw):
    return waybill_record(booking=booking, data=sheet(booking, number, **kw), by=None)


def test_closes_when_the_last_invoice_is_paid_and_not_before(django_capture_on_commit_callbacks):
    booking = job(min_hours="4")
    with django_capture_on_commit_callbacks(execute=True):
        invoice = record(booking, hours="9").overtime_invoice  # 9 h × 3 500 = 31 500
    assert status(booking) == "completed"
    with django_capture_on_commit_callbacks(execute=True):
        pay(invoice, Decimal("10000.00"), "part-1")
    assert status(booking) == "completed"  # partly paid
    with django_capture_on_commit_callbacks(execute=True):
        pay(invoice, reference="part-2")
    assert status(booking) == "closed"
    assert Deal.objects.get(pk=booking.deal_id).stage == "won"


def test_an_unpaid_overtime_invoice_keeps_a_prepaid_booking_open(django_capture_on_commit_callbacks):
    booking = job(min_hours="4")
    prepayment = prepayment_invoice_for_booking(booking=booking, by=None)  # 8 h
    with django_capture_on_commit_callbacks(execute=True):
        pay(prepayment, reference="pre")
        extra = record(booking, hours="9").overtime_invoice
    assert status(booking) == "completed" and extra.billed_hours == 1
    with django_capture_on_commit_callbacks(execute=True):
        pay(extra, reference="extra")
    assert status(booking) == "closed"


def test_a_waybill_that_leaves_everything_paid_closes_at_once():
    booking = job(min_hours="4")
    prepayment = prepayment_invoice_for_booking(booking=booking, by=None)
    pay(prepayment, reference="pre")
    assert status(booking) == "confirmed"
    result = record(booking, hours="7")
    assert result.overtime_invoice is None and result.booking.status == "closed"


def test_a_draft_overtime_invoice_keeps_it_open():
    CompanySettings.objects.filter(pk=CompanySettings.current().pk).update(overtime_auto_issue=False)
    booking = job(min_hours="4")
    pay(prepayment_invoice_for_booking(booking=booking, by=None), reference="pre")
    draft = record(booking, hours="9").overtime_invoice
    assert draft.status == "draft" and status(booking) == "completed"
    assert not trips.close_if_settled(booking=booking)


def test_a_multi_day_booking_waits_for_the_waybill_of_every_day():
    booking = job(min_hours="4", days=2)
    booking.ordered_hours = Decimal("20")
    booking.save()
    pay(prepayment_invoice_for_booking(booking=booking, by=None), reference="pre")
    assert record(booking, "ПЛ-1", day=0, hours="8").booking.status == "completed"
    assert record(booking, "ПЛ-2", day=1, hours="8").booking.status == "closed"


def test_a_multi_day_booking_short_of_waybills_is_closed_by_the_sweep_a_week_after_its_end(time_machine):
    booking = job(min_hours="4", days=2)
    booking.ordered_hours = Decimal("20")
    booking.save()
    pay(prepayment_invoice_for_booking(booking=booking, by=None), reference="pre")
    record(booking, "ПЛ-1", day=0, hours="8")
    assert trips.close_settled_bookings() == 0
    time_machine.move_to(booking.end + timedelta(days=7, minutes=1))
    assert not trips.close_if_settled(booking=booking)  # the hooks wait for every day
    assert trips.close_settled_bookings() == 1
    assert status(booking) == "closed"


def test_the_sweep_closes_what_a_missed_hook_left_and_is_registered():
    from arenda.core.scheduler import configured_jobs

    booking = job(min_hours="4")
    invoice = record(booking, hours="5").overtime_invoice
    pay(invoice, reference="p")  # on_commit never runs inside the test's transaction: the hook is missed
    assert status(booking) == "completed"
    unsettled = job(min_hours="4")
    record(unsettled, hours="5")  # its invoice is unpaid
    assert configured_jobs()["bookings.close_settled_bookings"].task is tasks.close_settled_bookings
    assert tasks.close_settled_bookings.call() == 1
    assert status(booking) == "closed" and status(unsettled) == "completed"


def test_a_cancelled_invoice_does_not_hold_the_booking_open():
    booking = job(min_hours="4")
    stale = prepayment_invoice_for_booking(booking=booking, by=None)
    invoice_cancel(invoice=stale, reason="ordered again", by=None)
    invoice = record(booking, hours="5").overtime_invoice
    assert invoice.billed_hours == 5
    pay(invoice, reference="p")
    assert trips.close_if_settled(booking=booking) is True


def test_a_booking_without_waybills_never_closes_by_itself():
    booking = job(min_hours="4", status="completed")
    assert trips.close_settled_bookings() == 0 and not trips.close_if_settled(booking=booking)


def test_the_demo_has_jobs_with_waybills_overtime_closed_bookings_and_a_credit():
    from django.core.management import call_command

    from arenda.billing.models import Invoice
    from arenda.bookings.models import Waybill

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Waybill.objects.count() >= 14 and Waybill.objects.exclude(hourly_pay=0).exists()
    statuses = set(Booking.objects.values_list("status", flat=True))
    assert {"closed", "completed", "confirmed"} <= statuses
    extra = Invoice.objects.filter(is_overtime=True)
    assert extra.filter(status="paid").exists() and extra.filter(status="issued").exists()
    assert extra.filter(billed_km__gt=0).exists()
    for booking in Booking.objects.filter(status="closed"):
        assert not booking.invoices.exclude(status__in=["paid", "cancelled"]).exists()
        assert not overtime.settlement(booking).has_extra
    assert any(overtime.settlement(b).credit_amount > 0 for b in Booking.objects.filter(status="closed"))
    multi = [b for b in Booking.objects.all() if b.waybills.count() > 1]
    assert multi and all(b.waybills.count() == 2 for b in multi)
