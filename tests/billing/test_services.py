"""Billing services and the database's own guarantees: numbering (also under concurrency),
totals = Σ lines, frozen lines, VAT and rounding, due dates, payments and what they unlock."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from arenda.billing import services
from arenda.billing.models import Invoice, InvoiceLine, Payment
from arenda.billing.services import BillingRefused, LineData
from arenda.bookings.models import Booking
from arenda.core.money import to_money
from arenda.core.roles import Role
from arenda.crm.models import Deal
from arenda.directory.models import VatRate
from arenda.flows import payments
from tests import factories as f

pytestmark = pytest.mark.django_db


def _draft(organization=None, lines=None, **kwargs):
    return services.invoice_create(
        kind=kwargs.pop("kind", "postpayment"),
        counterparty=kwargs.pop("counterparty", None) or f.CounterpartyFactory(),
        organization=organization or f.OrganizationFactory(),
        lines=lines or [LineData("Автокран 25 т, смена", Decimal("8"), Decimal("3500"))],
        by=None,
        **kwargs,
    )


def _issue(invoice, on=None):
    return services.invoice_issue(invoice=invoice, by=None, on=on)


# --- numbering ------------------------------------------------------------------------------
def test_numbers_are_consecutive_per_legal_entity_and_year():
    ours, other = f.OrganizationFactory(), f.OrganizationFactory()
    numbers = [_issue(_draft(ours)).number for _ in range(3)]
    assert numbers == ["1", "2", "3"]
    assert _issue(_draft(other)).number == "1"
    assert _issue(_draft(ours)).number == "4"


def test_a_cancelled_number_is_never_reused_and_a_new_year_restarts():
    ours = f.OrganizationFactory()
    first = _issue(_draft(ours), on=date(2026, 12, 30))
    services.invoice_cancel(invoice=first, reason="ошибка в сумме", by=None)
    first.refresh_from_db()
    assert (first.status, first.number) == ("cancelled", "1")
    assert _issue(_draft(ours), on=date(2026, 12, 31)).number == "2"
    january = _issue(_draft(ours), on=date(2027, 1, 9))
    assert (january.year, january.number) == (2027, "1")


def test_a_draft_has_no_number_and_issuing_twice_is_refused():
    invoice = _draft()
    assert invoice.number == "" and invoice.sequence is None
    _issue(invoice)
    with pytest.raises(BillingRefused) as refused:
        _issue(invoice)
    assert refused.value.code == "not_draft"


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_issues_get_one_to_twenty_exactly_once():
    """20 threads issue drafts of one legal entity at the same moment (SQLite: IMMEDIATE
    transactions; PostgreSQL: the counter row lock)."""
    ours = f.OrganizationFactory()
    ids = [_draft(ours).pk for _ in range(20)]
    barrier = threading.Barrier(len(ids))
    errors = []

    def worker(pk):
        try:
            barrier.wait()
            _issue(Invoice.objects.get(pk=pk))
        except Exception as exc:  # any failure fails the test below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(pk,)) for pk in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    sequences = sorted(Invoice.objects.filter(pk__in=ids).values_list("sequence", flat=True))
    assert sequences == list(range(1, 21))


# --- totals, the database triggers ----------------------------------------------------------
def test_total_is_the_sum_of_kopeck_rounded_lines():
    invoice = _draft(
        lines=[
            LineData("Смена", Decimal("3"), Decimal("333.335")),
            LineData("Доставка", Decimal("2.5"), Decimal("99.99")),
        ]
    )
    amounts = list(invoice.lines.order_by("position").values_list("amount", flat=True))
    # the price is kept to kopecks first (333.34), then × quantity
    assert amounts == [to_money(Decimal("3") * to_money("333.335")), to_money("249.975")]
    assert amounts == [Decimal("1000.02"), Decimal("249.98")]
    assert invoice.total == sum(amounts) == Decimal("1250.00")


def _raw_total_update(invoice, total):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE billing_invoice SET total = %s WHERE id = %s", [str(total), invoice.pk])


def test_the_database_refuses_an_issued_total_that_is_not_the_sum_of_lines():
    invoice = _issue(_draft())
    with pytest.raises((IntegrityError, DatabaseError)):
        _raw_total_update(invoice, invoice.total + 1)
    invoice.refresh_from_db()
    assert invoice.total == Decimal("28000.00")
    # a draft is still being written: the check waits for issue
    draft = _draft()
    _raw_total_update(draft, draft.total + 1)


def test_the_database_freezes_the_lines_of_an_issued_invoice():
    invoice = _issue(_draft())
    line = invoice.lines.get()
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        InvoiceLine.objects.create(
            invoice=invoice, position=2, description="ещё", quantity=1, price=1, amount=Decimal("1.00")
        )
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        InvoiceLine.objects.filter(pk=line.pk).update(description="другое")
    if connection.vendor == "postgresql":  # SQLite: removal is the services' (see migration 0002)
        with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
            InvoiceLine.objects.filter(pk=line.pk).delete()
    assert invoice.lines.get().description == line.description


def test_the_service_refuses_to_change_issued_lines():
    invoice = _issue(_draft())
    with pytest.raises(BillingRefused) as refused:
        services.invoice_update_lines(
            invoice=invoice, lines=[LineData("x", Decimal("1"), Decimal("1"))], by=None
        )
    assert refused.value.code == "invoice_frozen"


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([], "lines"),
        ([LineData("x", Decimal("0"), Decimal("1"))], "lines.1.quantity"),
        ([LineData("x", Decimal("1"), Decimal("-1"))], "lines.1.price"),
        (
            [LineData("ok", Decimal("1"), Decimal("1")), LineData(" ", Decimal("1"), Decimal("1"))],
            "lines.2.description",
        ),
    ],
)
def test_bad_lines_are_refused_by_name(lines, field):
    with pytest.raises(ValidationError) as refused:
        services.invoice_create(
            kind="postpayment", counterparty=f.CounterpartyFactory(), organization=f.OrganizationFactory(),
            lines=lines, by=None,
        )  # fmt: skip
    assert field in refused.value.message_dict
    assert not Invoice.objects.exists()


# --- VAT ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("org_rate", "on", "rate", "vat"),
    [
        (VatRate.VAT22, date(2026, 3, 1), "22", Decimal("5049.18")),
        (VatRate.VAT22, date(2025, 12, 31), "20", Decimal("4666.67")),
        (VatRate.VAT20, date(2026, 3, 1), "20", Decimal("4666.67")),
        (VatRate.VAT10, date(2026, 3, 1), "10", Decimal("2545.45")),
        (VatRate.VAT0, date(2026, 3, 1), "0", Decimal("0.00")),
        (VatRate.NONE, date(2026, 3, 1), "none", Decimal("0.00")),
    ],
)
def test_vat_inside_the_prices_by_rate_and_date(org_rate, on, rate, vat):
    organization = f.OrganizationFactory(vat_rate=org_rate)
    invoice = _issue(_draft(organization, lines=[LineData("Смена", Decimal("8"), Decimal("3500"))]), on=on)
    assert (invoice.vat_rate, invoice.vat_amount, invoice.total) == (rate, vat, Decimal("28000.00"))


def test_without_vat_the_invoice_page_says_so(client, make_user):
    invoice = _issue(_draft(f.OrganizationFactory(vat_rate=VatRate.NONE)))
    client.force_login(make_user("accountant"))
    html = client.get(invoice.get_absolute_url(), headers={"Accept-Language": "en"}).content.decode()
    assert "No VAT" in html and "incl. VAT" not in html


# --- due date and payments ------------------------------------------------------------------
def test_due_date_follows_the_counterpartys_payment_terms():
    counterparty = f.CounterpartyFactory(payment_terms_days=14)
    invoice = _issue(_draft(counterparty=counterparty), on=date(2026, 2, 20))
    assert invoice.due_date == date(2026, 3, 6)


def _pay(invoice, amount, reference="", source="manual"):
    return payments.payment_record(
        invoice=invoice, amount=amount, on=timezone.localdate(), source=source, reference=reference
    )


def test_payments_move_the_status_to_partially_paid_then_paid():
    invoice = _issue(_draft())
    _pay(invoice, "10000")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_amount, invoice.debt) == (
        "partially_paid",
        Decimal("10000.00"),
        Decimal("18000.00"),
    )
    _pay(invoice, "18000")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.debt) == ("paid", Decimal("0.00"))


def test_the_same_reference_twice_counts_once():
    invoice = _issue(_draft())
    first = _pay(invoice, "5000", reference="1c:ab12|1", source="1c")
    again = _pay(invoice, "5000", reference="1c:ab12|1", source="1c")
    assert first.created and not again.created and again.payment.pk == first.payment.pk
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("5000.00") and Payment.objects.count() == 1
    # the same reference from another source is another payment
    assert _pay(invoice, "1", reference="1c:ab12|1", source="manual").created


def test_drafts_and_cancelled_invoices_cannot_be_paid():
    with pytest.raises(BillingRefused):
        _pay(_draft(), "1")
    cancelled = services.invoice_cancel(invoice=_issue(_draft()), reason="дубль", by=None)
    with pytest.raises(BillingRefused):
        _pay(cancelled, "1")


# --- what a payment unlocks -----------------------------------------------------------------
def _reserved_booking():
    from arenda.bookings.services import booking_reserve

    f.OrganizationFactory()
    booking = f.BookingFactory()
    unit = f.UnitFactory(equipment_type=booking.equipment_type)
    return booking_reserve(booking=booking, unit=unit, driver=f.DriverFactory(), by=None)


def test_paid_prepayment_lets_the_booking_be_confirmed(django_capture_on_commit_callbacks):
    from arenda.bookings.services import BookingConflict
    from arenda.flows.deals import booking_confirm

    booking = _reserved_booking()
    with pytest.raises(BookingConflict) as refused:
        booking_confirm(booking=booking, by=None)
    assert refused.value.code == "prepayment_missing"
    invoice = services.prepayment_invoice_for_booking(booking=booking, by=None)
    assert (invoice.kind, invoice.status, invoice.total, invoice.billed_hours) == (
        "prepayment",
        "issued",
        Decimal("28000.00"),
        Decimal("8.00"),
    )
    assert services.prepayment_invoice_for_booking(booking=booking, by=None).pk == invoice.pk
    _pay(invoice, "10000")
    with pytest.raises(BookingConflict):
        booking_confirm(booking=Booking.objects.get(pk=booking.pk), by=None)
    with django_capture_on_commit_callbacks(execute=True):
        _pay(invoice, "18000")
    assert booking_confirm(booking=Booking.objects.get(pk=booking.pk), by=None).status == "confirmed"


def test_the_deal_is_won_when_bookings_are_closed_and_invoices_paid(django_capture_on_commit_callbacks):
    from arenda.flows.deals import deal_follow

    f.OrganizationFactory()
    deal = f.DealFactory(stage="in_progress")
    booking = f.BookingFactory(deal=deal)
    invoice = services.prepayment_invoice_for_booking(booking=booking, by=None)
    Booking.objects.filter(pk=booking.pk).update(status="closed")
    with transaction.atomic():
        deal_follow(deal.pk)
    deal.refresh_from_db()
    assert deal.stage == "closing"  # an invoice is still unpaid
    with django_capture_on_commit_callbacks(execute=True):
        _pay(invoice, invoice.total)
    assert Deal.objects.get(pk=deal.pk).stage == "won"


def test_settled_on_is_the_day_the_payments_first_covered_the_total():
    from datetime import date

    invoice = _issue(_draft())
    services.payment_record(invoice=invoice, amount=invoice.total / 2, on=date(2026, 3, 2), source="manual")
    invoice.refresh_from_db()
    assert invoice.settled_on is None
    services.payment_record(invoice=invoice, amount=invoice.total, on=date(2026, 3, 9), source="manual")
    invoice.refresh_from_db()
    assert invoice.status == "paid" and invoice.settled_on == date(2026, 3, 9)


def test_a_draft_is_refused_cancelling_not_a_server_error(api):
    """Cancelling a draft over the API broke the invoice_issued_has_number constraint (a 500):
    a draft has no number to keep; it is deleted instead (found by
    tests/billing/test_ledger_state_machine.py)."""
    draft = _draft()
    response = api(Role.ACCOUNTANT).post(f"/api/v1/invoices/{draft.pk}/cancel/", {"reason": "дубль"})
    assert response.status_code == 409 and response.json()["code"] == "cannot_cancel"
    draft.refresh_from_db()
    assert draft.status == Invoice.Status.DRAFT
