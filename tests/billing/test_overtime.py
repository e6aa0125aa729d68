"""Overtime from the waybills: the table of cases (below, at and above the minimum; with and
without km; a prepayment covering more than was worked), corrections (draft, issued, paid),
a multi-day booking, two concurrent waybills, and the whole loop up to the manager's
notification. After every step nothing is billed twice: Σ billed over the non-cancelled
invoices equals the billable hours (or exceeds them only by a paid credit)."""

import re
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from arenda.billing import overtime
from arenda.billing.models import Invoice
from arenda.billing.services import prepayment_invoice_for_booking
from arenda.bookings.models import Booking, Waybill
from arenda.core.models import CompanySettings, Notification
from arenda.core.money import format_rub
from arenda.core.roles import Role
from arenda.flows.payments import payment_record
from arenda.flows.trips import waybill_record, waybill_update
from tests.bookings.test_waybills import as_json, job, sheet

D = Decimal


def billed(booking) -> tuple[Decimal, Decimal]:
    sums = booking.invoices.exclude(status="cancelled").aggregate(h=Sum("billed_hours"), km=Sum("billed_km"))
    return sums["h"] or D(0), sums["km"] or D(0)


def prepay(booking, *, paid=True):
    invoice = prepayment_invoice_for_booking(booking=booking, by=booking.deal.manager)
    if paid:
        payment_record(invoice=invoice, amount=invoice.total, on=invoice.date, source="manual")
    return invoice


def record(booking, number="ПЛ-1", **kw):
    kw.setdefault("span", max(9, int(D(kw.get("hours", "8"))) + 1))
    return waybill_record(booking=booking, data=sheet(booking, number, **kw), by=booking.deal.manager)


def correct(waybill, **data):
    data = {k: D(v) if k in ("hours", "km") else v for k, v in data.items()}
    return waybill_update(waybill=waybill, data=data, by=waybill.booking.deal.manager)


# --- the table --------------------------------------------------------------------------------------
# min h, prepaid h, worked h, km, rate/km → overtime billed h, billed km, invoice total, credit h, credit ₽
TABLE = [
    pytest.param("4", None, "3", "0", "0", "4", "0", "14000.00", "0", "0.00", id="below-minimum"),
    pytest.param("4", None, "4", "0", "0", "4", "0", "14000.00", "0", "0.00", id="at-minimum"),
    pytest.param("4", None, "9", "0", "0", "9", "0", "31500.00", "0", "0.00", id="above-minimum"),
    pytest.param("4", "8", "10", "0", "0", "2", "0", "7000.00", "0", "0.00", id="above-prepaid"),
    pytest.param("4", "8", "8", "0", "0", None, None, None, "0", "0.00", id="exactly-prepaid"),
    pytest.param("4", "8", "3", "0", "0", None, None, None, "4", "14000.00", id="prepaid-more-than-worked"),
    pytest.param(
        "4", None, "9", "42", "120.00", "9", "42", "36540.00", "0", "0.00", id="above-minimum-with-km"
    ),
    pytest.param(
        "4", "8", "6", "50", "120.00", "0", "50", "6000.00", "2", "7000.00", id="prepaid-hours-km-billed"
    ),
    pytest.param(
        "4", None, "9", "42", "0", "9", "0", "31500.00", "0", "0.00", id="km-not-billed-at-zero-rate"
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("min_h", "prepaid", "worked", "km", "rate_km", "over_h", "over_km", "total", "credit_h", "credit"), TABLE
)
def test_the_overtime_table(min_h, prepaid, worked, km, rate_km, over_h, over_km, total, credit_h, credit):
    booking = job(min_hours=min_h, rate="3500.00", rate_km=rate_km)
    if prepaid:
        booking.ordered_hours = D(prepaid)
        booking.save()
        prepay(booking)
    result = record(booking, hours=worked, km=D(km))
    invoice = result.overtime_invoice
    if over_h is None:
        assert invoice is None
        assert not booking.invoices.filter(is_overtime=True).exists()
    else:
        assert invoice.is_overtime and invoice.kind == "postpayment" and invoice.status == "issued"
        assert (invoice.billed_hours, invoice.billed_km, invoice.total) == (D(over_h), D(over_km), D(total))
        assert invoice.booking == booking and invoice.deal == booking.deal and invoice.number
        units = [line.unit for line in invoice.lines.order_by("position")]
        assert units == (["ч"] if D(over_h) else []) + (["км"] if D(over_km) else [])
    state = overtime.settlement(booking)
    assert state.actual_hours == D(worked) and state.billable_hours == max(D(worked), D(min_h))
    assert state.extra_hours == 0 and state.extra_km == 0
    assert state.credit_hours == D(credit_h) and state.credit_amount == D(credit)
    hours, _km = billed(booking)
    assert hours == state.billable_hours + state.credit_hours


@pytest.mark.django_db
def test_the_settlement_panel_shows_the_prepayment_credit(client):
    booking = job(min_hours="4")
    prepay(booking)  # 8 h paid
    record(booking, hours="3")
    client.force_login(booking.deal.manager)
    page = client.get(f"/bookings/{booking.pk}/").content.decode()
    assert 'id="settlement"' in page and "14" in page.split('id="settlement"')[1]
    # Everything invoiced is paid: the booking closes; the credit stays in the settlement.
    assert Booking.objects.get(pk=booking.pk).status == "closed"


# --- corrections ---------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_corrected_waybill_rewrites_the_draft_overtime_invoice():
    CompanySettings.objects.filter(pk=CompanySettings.current().pk).update(overtime_auto_issue=False)
    booking = job(min_hours="4")
    prepay(booking)  # 8 h
    draft = record(booking, hours="9.5").overtime_invoice
    assert draft.status == "draft" and draft.billed_hours == D("1.5") and draft.total == D("5250.00")
    waybill = Waybill.objects.get()
    again = correct(waybill, hours="9").overtime_invoice
    assert again.pk == draft.pk and again.billed_hours == 1 and again.total == D("3500.00")
    assert billed(booking)[0] == 9
    assert correct(waybill, hours="7").overtime_invoice is None
    assert not Invoice.objects.filter(pk=draft.pk).exists()  # a draft has no number to keep
    assert billed(booking)[0] == 8  # the prepayment; 1 h of credit
    assert overtime.settlement(booking).credit_hours == 1


@pytest.mark.django_db
def test_more_hours_on_an_issued_overtime_invoice_bill_the_difference_with_a_correcting_invoice():
    booking = job(min_hours="4")
    prepay(booking)
    first = record(booking, hours="9").overtime_invoice  # 1 h
    assert first.status == "issued" and first.billed_hours == 1
    second = correct(Waybill.objects.get(), hours="9.5").overtime_invoice
    assert second.pk != first.pk and second.corrects == first and second.billed_hours == D("0.5")
    assert second.status == "issued" and second.total == D("1750.00")
    first.refresh_from_db()
    assert first.status == "issued"
    assert billed(booking)[0] == D("9.5")


@pytest.mark.django_db
def test_fewer_hours_on_an_unpaid_overtime_invoice_cancel_it_and_issue_the_right_amount():
    booking = job(min_hours="4")
    prepay(booking)
    first = record(booking, hours="9.5").overtime_invoice  # 1.5 h
    waybill = Waybill.objects.get()
    second = correct(waybill, hours="8.5").overtime_invoice
    first.refresh_from_db()
    assert first.status == "cancelled" and first.cancel_reason == "corrected waybill"
    assert second.corrects == first and second.billed_hours == D("0.5") and second.status == "issued"
    assert billed(booking)[0] == D("8.5")
    # and down to the prepaid hours: cancelled, nothing new
    assert correct(waybill, hours="7").overtime_invoice is None
    second.refresh_from_db()
    assert second.status == "cancelled"
    assert billed(booking)[0] == 8


@pytest.mark.django_db
def test_fewer_hours_on_a_paid_overtime_invoice_bill_nothing_and_tell_the_manager_of_the_credit(
    django_capture_on_commit_callbacks,
):
    booking = job(min_hours="4")
    prepay(booking)
    first = record(booking, hours="9.5").overtime_invoice
    with django_capture_on_commit_callbacks(execute=True):
        payment_record(invoice=first, amount=first.total, on=first.date, source="manual", reference="p-1")
    booking.refresh_from_db()
    assert booking.status == "closed"  # everything paid
    # A paid, closed booking's waybill is final; on a completed one a correction leaves a credit:
    Booking.objects.filter(pk=booking.pk).update(status="completed")
    before = Invoice.objects.count()
    assert correct(Waybill.objects.get(), hours="8").overtime_invoice is None
    assert Invoice.objects.count() == before
    first.refresh_from_db()
    assert first.status == "paid"
    state = overtime.settlement(booking)
    assert state.credit_hours == D("1.5") and state.credit_amount == D("5250.00")
    note = Notification.objects.filter(user=booking.deal.manager).order_by("-pk").first()
    assert "5" in note.text and str(booking.pk) in note.text
    # the hours and the money as a person reads them: «1,5 ч», «5 250,00 ₽»
    assert re.search(r"\b1[.,]5 (h|ч)\b", note.text) and format_rub(D("5250.00")) in note.text
    assert "5250.00" not in note.text and "1.50" not in note.text
    assert billed(booking)[0] == D("9.5")  # billed once: 8 prepaid + 1.5 paid overtime


@pytest.mark.django_db
def test_two_waybills_of_a_multi_day_booking_bill_each_days_hours_once():
    booking = job(min_hours="4", days=2)
    first = record(booking, "ПЛ-1", day=0, hours="7").overtime_invoice
    assert Booking.objects.get(pk=booking.pk).status == "completed"
    second = record(booking, "ПЛ-2", day=1, hours="6").overtime_invoice
    assert first.billed_hours == 7 and second.billed_hours == 6 and second.corrects is None
    assert billed(booking)[0] == 13
    state = overtime.settlement(booking)
    assert state.actual_hours == 13 and state.waybills == 2 and not state.has_extra
    assert "–" in second.lines.get().description  # the dates of both days


@pytest.mark.django_db
def test_settling_again_bills_nothing_more():
    booking = job(min_hours="4")
    record(booking, hours="9")
    assert overtime.settle(booking=booking, by=None) is None
    assert booking.invoices.count() == 1 and billed(booking)[0] == 9


# --- the whole loop ----------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_done_when_a_waybill_over_the_minimum_issues_an_overtime_invoice_queued_for_1c_and_tells_the_manager(
    api, django_capture_on_commit_callbacks
):
    booking = job(min_hours="4")
    prepay(booking)  # 8 h prepaid and paid; the booking is confirmed
    manager = booking.deal.manager
    client = api(Role.MANAGER, user=manager)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            f"/api/v1/bookings/{booking.pk}/waybill/", as_json(sheet(booking, hours="9.5")), format="json"
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["booking"]["status"] == "completed"
    invoice = Invoice.objects.get(pk=body["overtime_invoice"])
    assert invoice.is_overtime and invoice.status == "issued" and invoice.number
    assert invoice.sync_status == "pending" and invoice.accounting_base is not None
    assert callbacks, "the 1C push is queued after commit"
    assert invoice.billed_hours == D("1.5") and invoice.total == D("5250.00")
    assert invoice.vat_amount > 0
    note = Notification.objects.get(user=manager, url=invoice.get_absolute_url())
    assert invoice.number in note.text
    assert re.search(r"\b1[.,]5 (h|ч)\b", note.text) and format_rub(D("5250.00")) in note.text
    assert "5250.00" not in note.text and "1.50" not in note.text
    assert client.get(f"/api/v1/bookings/{booking.pk}/").json()["actual_hours"] == "9.50"


# --- concurrency -----------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_waybills_saved_at_once_bill_the_overtime_once():
    booking = job(min_hours="4", days=2)
    prepay(booking)  # 8 h
    barrier = threading.Barrier(2)
    outcomes = []

    def worker(number, day):
        try:
            barrier.wait()
            fresh = Booking.objects.get(pk=booking.pk)
            waybill_record(booking=fresh, data=sheet(fresh, number, day=day, hours="5"), by=None)
            outcomes.append("ok")
        except Exception as exc:  # any failure is the test's
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n, d)) for n, d in (("ПЛ-1", 0), ("ПЛ-2", 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes == ["ok", "ok"], outcomes
    overtime_invoices = booking.invoices.filter(is_overtime=True).exclude(status="cancelled")
    assert overtime_invoices.count() == 1
    assert overtime_invoices.get().billed_hours == 2
    assert billed(booking)[0] == 10


@pytest.mark.django_db
def test_a_second_days_km_add_an_invoice_and_leave_the_first_days_alone():
    booking = job(min_hours="4", rate_km="100.00", days=2)
    booking.ordered_hours = D("16")
    booking.save()
    prepay(booking)  # 16 h: the hours are covered, the km are not
    first = record(booking, "ПЛ-1", day=0, hours="8", km=D("56")).overtime_invoice
    second = record(booking, "ПЛ-2", day=1, hours="7", km=D("57")).overtime_invoice
    first.refresh_from_db()
    assert first.status == "issued" and first.billed_km == 56 and first.billed_hours == 0
    assert second.billed_km == 57 and second.total == D("5700.00") and second.corrects is None
    assert not booking.invoices.filter(status="cancelled").exists()
    assert billed(booking) == (D("16"), D("113"))
    assert overtime.settlement(booking).credit_hours == 1


@pytest.mark.django_db
def test_no_prepayment_invoice_once_the_waybills_bill_the_job(api):
    booking = job(min_hours="4")
    record(booking, hours="9")  # 9 h billed by the overtime invoice
    response = api(Role.MANAGER).post(f"/api/v1/bookings/{booking.pk}/prepayment-invoice/")
    assert response.status_code == 400 and "booking" in response.json()
    assert billed(booking)[0] == 9
