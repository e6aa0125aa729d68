from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from arenda.billing import onec
from arenda.billing.models import BaseSync, Invoice, Payment
from arenda.billing.services import prepayment_invoice_for_booking
from arenda.bookings import services as bookings
from arenda.bookings.models import Booking
from arenda.bookings.services import BookingConflict
from arenda.flows import deals, payments
from arenda.integrations.onec.client import Client
from tests.billing.test_statements import build, doc
from tests.factories import BIK, BookingFactory, DealFactory, DriverFactory, UnitFactory, make_account
from tests.onec.conftest import PASSWORD, USER, control, issue, pay


@pytest.fixture
def pushed(fake, org, customer):
    invoice = issue(customer, org)  # 28 000,00
    assert onec.push_attempt(invoice.pk) == Invoice.SyncStatus.SYNCED
    invoice.refresh_from_db()
    return invoice


def test_a_posted_payment_is_recorded_once(fake, pushed, base_a):
    document = pay(fake, "a", pushed, "28000.00", date="2026-03-02T10:15:00")
    assert payments.pull_payments(base_a.pk) == 1
    assert payments.pull_payments(base_a.pk) == 0, "seen twice, counted once"
    [payment] = Payment.objects.filter(invoice=pushed)
    assert (payment.source, payment.amount, payment.date) == ("1c", Decimal("28000.00"), date(2026, 3, 2))
    assert payment.reference == f"{document['Ref_Key']}:1"
    pushed.refresh_from_db()
    assert (pushed.status, pushed.paid_amount) == (Invoice.Status.PAID, Decimal("28000.00"))
    state = BaseSync.objects.get(base=base_a)
    assert state.pulled_at and state.pull_error == ""


def test_unposted_and_deleted_payments_do_not_count(fake, pushed, base_a):
    unposted = pay(fake, "a", pushed, "10000.00", posted=False)
    pay(fake, "a", pushed, "10000.00", deleted=True, posted=False)
    assert payments.pull_payments(base_a.pk) == 0
    # The accountant posts it in 1C: now it counts.
    with Client(base_a.odata_url, USER, PASSWORD) as client:
        client.post_document(onec.PAYMENT_SET, unposted["Ref_Key"])
    assert payments.pull_payments(base_a.pk) == 1
    pushed.refresh_from_db()
    assert (pushed.status, pushed.paid_amount) == (Invoice.Status.PARTIALLY_PAID, Decimal("10000.00"))


def test_partial_then_full_makes_it_paid(fake, pushed, base_a):
    pay(fake, "a", pushed, "8000.00")
    payments.pull_payments(base_a.pk)
    pushed.refresh_from_db()
    assert pushed.status == Invoice.Status.PARTIALLY_PAID
    pay(fake, "a", pushed, "20000.00")
    assert payments.pull_payments(base_a.pk) == 1
    pushed.refresh_from_db()
    assert (pushed.status, pushed.paid_amount) == (Invoice.Status.PAID, Decimal("28000.00"))


def test_a_failed_pull_is_kept_on_the_base_and_records_nothing(fake, pushed, base_a):
    pay(fake, "a", pushed, "28000.00")
    control(fake, "a", fail="500", times=1)
    assert payments.pull_payments(base_a.pk) == 0
    assert "500" in BaseSync.objects.get(base=base_a).pull_error
    assert payments.pull_payments(base_a.pk) == 1
    assert BaseSync.objects.get(base=base_a).pull_error == ""


def test_sync_base_pushes_and_pulls(fake, org, customer, base_a):
    invoices = [issue(customer, org), issue(customer, org)]
    control(fake, "a", fail="500", times=1)
    assert payments.sync_base(base_a.pk) == {"pushed": 1, "failed": 1, "payments": 0}
    assert payments.sync_base(base_a.pk) == {"pushed": 1, "failed": 0, "payments": 0}
    invoices[0].refresh_from_db()
    pay(fake, "a", invoices[0], "28000.00")
    assert payments.sync_base(base_a.pk) == {"pushed": 0, "failed": 0, "payments": 1}


def test_the_whole_loop_prepayment_to_confirmed_booking(fake, org, base_a, base_b, customer, make_user):
    """Issue the prepayment invoice → pushed to the counterparty's 1C base (not the other)
    → the payment is posted there → sync → paid → the booking can be confirmed."""
    manager = make_user()
    booking = BookingFactory(deal=DealFactory(counterparty=customer, organization=org, manager=manager))
    unit = UnitFactory(equipment_type=booking.equipment_type)
    booking = bookings.booking_reserve(booking=booking, unit=unit, driver=DriverFactory(), by=manager)
    invoice = prepayment_invoice_for_booking(booking=booking, by=manager)
    with pytest.raises(BookingConflict):
        deals.booking_confirm(booking=booking, by=manager)

    onec.push_due()
    invoice.refresh_from_db()
    assert invoice.sync_status == Invoice.SyncStatus.SYNCED and invoice.accounting_base == base_a
    assert not fake.dump("b").get("b", {}).get(onec.INVOICE_SET), "not in the other base"

    pay(fake, "a", invoice, invoice.total)
    assert payments.sync_base(base_a.pk) == {"pushed": 0, "failed": 0, "payments": 1}
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert deals.booking_confirm(booking=booking, by=manager).status == Booking.Status.CONFIRMED


def test_money_a_statement_brought_first_is_not_counted_again_by_the_pull(
    fake, pushed, base_a, org, customer
):
    """The statement is imported first; then the accountant loads the same bank document
    into 1C and the pull read it as a new payment: 10 000 ₽ received, 20 000 ₽ paid (found by
    tests/billing/test_ledger_state_machine.py). A second payment of the same amount and day
    is other money and counts."""
    today = timezone.localdate()
    on = today.strftime("%d.%m.%Y")
    purpose = f"Оплата по счету № {pushed.number} от {on}"
    payer = make_account(BIK, 990001)  # not one of our legal entities' accounts
    data = build(
        doc("31", "10000.00", customer.inn, purpose, on=on, payer_account=payer, recipient=org.account)
    )
    assert payments.statement_import(file_name="bank.txt", data=data, by=None).matched
    pay(fake, "a", pushed, "10000.00", date=f"{today.isoformat()}T10:00:00")
    assert payments.pull_payments(base_a.pk) == 0
    assert payments.pull_payments(base_a.pk) == 0
    pushed.refresh_from_db()
    assert pushed.paid_amount == Decimal("10000.00")
    pay(fake, "a", pushed, "10000.00", date=f"{today.isoformat()}T11:00:00")
    assert payments.pull_payments(base_a.pk) == 1
    pushed.refresh_from_db()
    assert pushed.paid_amount == Decimal("20000.00")
