"""Closing documents' rules (``billing/acts.py``): the act follows the waybills, a booking is
in one act only, numbers per legal entity and year, a corrected waybill makes a correction,
the monthly act of a counterparty has a line per booking."""

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection

from arenda.billing import acts
from arenda.billing.models import Act, ActBooking
from arenda.billing.services import BillingRefused
from arenda.bookings.models import Booking
from arenda.flows.trips import waybill_record, waybill_update
from tests.bookings.test_waybills import job, sheet

pytestmark = pytest.mark.django_db
D = Decimal


def worked(booking, hours="8", km="0", number="ПЛ-1"):
    return waybill_record(
        booking=booking, data=sheet(booking, number, hours=hours, span=10, km=D(km)), by=booking.deal.manager
    )


def test_a_per_booking_customer_gets_a_draft_act_when_the_waybill_is_recorded():
    booking = job(min_hours="4", rate="3500.00")
    worked(booking, hours="9")
    act = Act.objects.get(booking_links__booking=booking)
    assert act.status == Act.Status.DRAFT
    assert act.counterparty == booking.deal.counterparty
    [line] = act.lines.all()
    assert (line.quantity, line.price, line.amount) == (D("9.000"), D("3500.00"), D("31500.00"))
    assert booking.unit.plate in line.description
    assert act.total == D("31500.00")
    assert act.vat_amount == D("5680.33")  # 22 % inside the price
    assert act.form == Act.Form.UPD and act.upd_status == 1


def test_the_act_bills_the_minimum_order_and_the_km():
    booking = job(min_hours="4", rate="3500.00", rate_km="120.00")
    worked(booking, hours="3", km="42")
    act = Act.objects.get(booking_links__booking=booking)
    hours, km = act.lines.order_by("position")
    assert (hours.quantity, hours.amount) == (D("4.000"), D("14000.00"))
    assert (km.quantity, km.unit, km.amount) == (D("42.000"), "км", D("5040.00"))
    assert act.total == D("19040.00")


def test_an_act_is_refused_before_the_work_is_done():
    booking = job()
    with pytest.raises(BillingRefused) as refused:
        acts.act_create(bookings=[booking], by=None)
    assert refused.value.code == "work_not_done"


def test_a_booking_is_never_in_two_acts():
    booking = job()
    worked(booking)
    with pytest.raises(BillingRefused) as refused:
        acts.act_create(bookings=[booking], by=None)
    assert refused.value.code == "already_in_act"
    act = Act.objects.get()
    with pytest.raises(IntegrityError):
        ActBooking.objects.create(act=act, booking=booking)


def test_a_cancelled_act_frees_its_booking():
    booking = job()
    worked(booking)
    act = acts.act_issue(act=Act.objects.get(), by=None)
    acts.act_cancel(act=act, reason="wrong customer", by=None)
    again = acts.act_create(bookings=[booking], by=None)
    assert again.pk != act.pk
    assert Act.objects.get(pk=act.pk).number == act.number  # kept, never reused


def test_numbers_run_per_legal_entity_and_year():
    first, second = job(), job()
    second.deal.organization = first.deal.organization
    second.deal.save()
    worked(first)
    worked(second)
    a1, a2 = (acts.act_issue(act=a, by=None) for a in Act.objects.order_by("pk"))
    assert (a1.number, a2.number) == ("1", "2")
    other = job()
    worked(other)
    a3 = acts.act_issue(act=Act.objects.get(booking_links__booking=other), by=None)
    assert a3.number == "1"


def test_a_corrected_waybill_rewrites_a_draft_act():
    booking = job(min_hours="4")
    recorded = worked(booking, hours="8")
    waybill_update(waybill=recorded.waybill, data={"hours": D("9")}, by=booking.deal.manager)
    act = Act.objects.get()
    assert act.lines.get().quantity == D("9.000")
    assert Act.objects.count() == 1


def test_a_corrected_waybill_after_an_issued_act_makes_a_correction_naming_it():
    booking = job(min_hours="4", rate="3500.00")
    recorded = worked(booking, hours="8")
    act = acts.act_issue(act=Act.objects.get(), by=None)
    waybill_update(waybill=recorded.waybill, data={"hours": D("10")}, by=booking.deal.manager)
    act.refresh_from_db()
    assert act.total == D("28000.00") and act.lines.get().quantity == D("8.000")  # never silently changed
    correction = Act.objects.get(corrects=act)
    line = correction.lines.get()
    assert (line.quantity_before, line.quantity) == (D("8.000"), D("10.000"))
    assert correction.total == D("7000.00")
    assert correction.status == Act.Status.DRAFT
    # the same correction again changes nothing; a further one rewrites the draft correction
    waybill_update(waybill=recorded.waybill, data={"hours": D("7")}, by=booking.deal.manager)
    correction.refresh_from_db()
    assert correction.total == D("-3500.00")
    assert Act.objects.filter(corrects=act).count() == 1


def one_customer(n=3, *, period="month"):
    """``n`` bookings of one customer and one legal entity of ours, each of its own deal."""
    bookings = [job() for _ in range(n)]
    first = bookings[0].deal
    first.counterparty.acts_period = period
    first.counterparty.save()
    for booking in bookings[1:]:
        booking.deal.counterparty, booking.deal.organization = first.counterparty, first.organization
        booking.deal.save()
    return bookings


def test_the_monthly_act_of_a_counterparty_with_three_bookings_has_three_lines(time_machine):
    time_machine.move_to("2026-11-18 12:00+03:00", tick=False)
    bookings = one_customer(3)
    for booking in bookings:
        worked(booking, number=f"ПЛ-{booking.pk}")
    assert not Act.objects.exists()  # a monthly customer's act waits for the month
    customer = bookings[0].deal.counterparty
    [act] = acts.act_for_month(counterparty=customer, month=bookings[0].start.date(), by=None)
    assert act.lines.count() == 3
    assert set(act.booking_links.values_list("booking", flat=True)) == {b.pk for b in bookings}
    assert act.deal is None
    assert act.total == D("84000.00")


def test_the_sweep_makes_the_monthly_acts_after_the_month(time_machine):
    time_machine.move_to("2026-11-18 12:00+03:00", tick=False)
    [booking, other] = one_customer(2)
    worked(booking)
    worked(other)
    assert Booking.objects.get(pk=booking.pk).status in acts.CLOSABLE_STATUSES
    assert acts.make_due_acts().acts == []  # not before the month is over
    time_machine.move_to("2026-12-01 06:00+03:00", tick=False)
    made = acts.make_due_acts()
    assert [a.lines.count() for a in made.acts] == [2]
    assert acts.make_due_acts().acts == []  # never twice


def _in_threads(target, args_list):
    barrier = threading.Barrier(len(args_list))
    errors, results = [], []

    def worker(*args):
        try:
            barrier.wait()
            results.append(target(*args))
        except Exception as exc:  # collected; the caller asserts on them
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=args) for args in args_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_issues_of_one_legal_entity_get_one_to_ten_exactly_once():
    bookings = one_customer(10, period="booking")
    for booking in bookings:
        worked(booking, number=f"ПЛ-{booking.pk}")
    ids = list(Act.objects.values_list("pk", flat=True))
    assert len(ids) == 10
    _results, errors = _in_threads(
        lambda pk: acts.act_issue(act=Act.objects.get(pk=pk), by=None), [(pk,) for pk in ids]
    )
    assert errors == []
    assert sorted(Act.objects.values_list("sequence", flat=True)) == list(range(1, 11))


@pytest.mark.django_db(transaction=True)
def test_two_acts_made_at_once_for_one_booking_one_is_refused():
    booking = job()
    booking.deal.counterparty.acts_period = "month"  # no act by itself: both are made by hand
    booking.deal.counterparty.save()
    worked(booking)
    results, errors = _in_threads(lambda: acts.act_create(bookings=[booking], by=None), [(), ()])
    assert len(results) == 1
    assert [getattr(e, "code", repr(e)) for e in errors] == ["already_in_act"]
    assert ActBooking.objects.filter(booking=booking, active=True).count() == 1
