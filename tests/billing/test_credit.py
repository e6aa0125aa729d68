"""Payments that can't vanish or double: what a payment brings beyond its invoice's debt is
the counterparty's credit, in a ledger, spent on another of its invoices in one action;
payment dates are bounded; an identical manual payment entered twice in a few minutes is
asked about; payments sent at once are recorded once."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from arenda.billing.models import CreditEntry, Invoice, Payment
from arenda.billing.services import BillingRefused, credit_balance, payment_delete
from arenda.core.roles import Role
from arenda.flows import payments
from tests import factories as f

pytestmark = pytest.mark.django_db
D = Decimal


def issued(counterparty=None, price="17500.00"):
    return f.InvoiceFactory(
        issued=True, counterparty=counterparty or f.CounterpartyFactory(), quantity=D("1"), price=D(price)
    )


def pay(invoice, amount, **extra):
    extra.setdefault("on", timezone.localdate())
    return payments.payment_record(invoice=invoice, amount=amount, source="manual", **extra)


def test_an_overpayment_is_the_counterpartys_credit(api):
    """A manual payment of 999 999 ₽ on a 17 500 ₽ invoice: the invoice was «Оплачен» and the
    982 499 ₽ appeared nowhere."""
    invoice = issued()
    response = api(Role.ACCOUNTANT).post(
        "/api/v1/payments/", {"invoice": invoice.pk, "amount": "999999.00"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["amount"], body["applied"], body["credit"]) == ("999999.00", "17500.00", "982499.00")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_amount) == ("paid", D("17500.00"))
    assert credit_balance(invoice.counterparty) == D("982499.00")
    entry = CreditEntry.objects.get()
    assert (entry.kind, entry.payment_id, entry.counterparty_id) == (
        "overpayment",
        body["id"],
        invoice.counterparty_id,
    )


def test_credit_pays_another_invoice_of_the_same_counterparty(api):
    customer = f.CounterpartyFactory()
    first, second = issued(customer), issued(customer, price="30000.00")
    pay(first, "40000.00")  # 22 500 beyond the debt
    client = api(Role.ACCOUNTANT)
    response = client.post(f"/api/v1/counterparties/{customer.pk}/apply-credit/", {"invoice": second.pk})
    assert response.status_code == 200, response.content
    assert response.json() | {"payment": 0} == {
        "payment": 0,
        "amount": "22500.00",
        "credit": "0.00",
        "invoice_status": "partially_paid",
    }
    second.refresh_from_db()
    assert second.paid_amount == D("22500.00") and second.payments.get().source == "credit"
    assert [e.amount for e in CreditEntry.objects.order_by("pk")] == [D("22500.00"), D("-22500.00")]
    again = client.post(f"/api/v1/counterparties/{customer.pk}/apply-credit/", {"invoice": second.pk})
    assert again.status_code == 409 and again.json()["code"] == "no_credit"


def test_credit_goes_only_to_the_same_counterpartys_open_invoice(api):
    customer = f.CounterpartyFactory()
    pay(issued(customer), "20000.00")
    client = api(Role.ACCOUNTANT)
    stranger = issued()
    response = client.post(f"/api/v1/counterparties/{customer.pk}/apply-credit/", {"invoice": stranger.pk})
    assert response.status_code == 400 and "invoice" in response.json()
    assert (
        api(Role.MANAGER)
        .post(f"/api/v1/counterparties/{customer.pk}/apply-credit/", {"invoice": stranger.pk})
        .status_code
        == 403
    )
    assert credit_balance(customer) == D("2500.00")


def test_a_payment_on_a_paid_invoice_is_all_credit():
    invoice = issued()
    pay(invoice, "17500.00")
    recorded = pay(invoice, "5000.00", reference="п/п 12")
    assert (recorded.payment.applied, recorded.credit) == (D("0.00"), D("5000.00"))
    invoice.refresh_from_db()
    assert invoice.paid_amount == invoice.total


@pytest.mark.parametrize(
    "days, refused",
    [(1, True), (0, False), (-30, False), (-400, True)],
)
def test_a_payment_date_is_today_or_earlier_and_within_a_year_of_the_invoice(api, days, refused):
    """A payment dated 01.01.2030 was accepted."""
    invoice = issued()
    on = timezone.localdate() + timedelta(days=days)
    response = api(Role.ACCOUNTANT).post(
        "/api/v1/payments/",
        {"invoice": invoice.pk, "amount": "100.00", "date": on.isoformat()},
        format="json",
    )
    if refused:
        assert response.status_code == 400 and list(response.json()) == ["date"]
        assert not Payment.objects.exists()
    else:
        assert response.status_code == 201


def test_the_same_manual_payment_twice_is_asked_about(api):
    invoice = issued()
    client = api(Role.ACCOUNTANT)
    body = {"invoice": invoice.pk, "amount": "5000.00"}
    assert client.post("/api/v1/payments/", body, format="json").status_code == 201
    twice = client.post("/api/v1/payments/", body, format="json")
    assert twice.status_code == 409 and twice.json()["code"] == "possible_duplicate"
    assert Payment.objects.count() == 1
    confirmed = client.post("/api/v1/payments/", body | {"confirm_duplicate": True}, format="json")
    assert confirmed.status_code == 201 and Payment.objects.count() == 2
    with_reference = body | {"reference": "п/п 77"}
    assert client.post("/api/v1/payments/", with_reference, format="json").status_code == 201
    assert client.post("/api/v1/payments/", with_reference, format="json").status_code == 200  # the same one


def test_the_invoice_page_asks_before_recording_the_same_payment_again(client, make_user):
    client.force_login(make_user(Role.ACCOUNTANT))
    invoice = issued()
    url = f"/invoices/{invoice.pk}/payment/"
    data = {"amount": "5000.00", "date": timezone.localdate().isoformat(), "reference": "", "payer": ""}
    assert client.post(url, data).status_code == 302
    asked = client.post(url, data)
    assert asked.status_code == 400 and 'name="confirm_duplicate"' in asked.content.decode()
    assert Payment.objects.count() == 1
    assert client.post(url, data | {"confirm_duplicate": "on"}).status_code == 302
    assert Payment.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_five_identical_payments_sent_at_once_are_recorded_once():
    invoice = issued()
    barrier = threading.Barrier(5)
    outcomes = []

    def worker():
        try:
            barrier.wait()
            pay(Invoice.objects.get(pk=invoice.pk), "5000.00")
            outcomes.append("recorded")
        except BillingRefused as exc:
            outcomes.append(exc.code)
        except Exception as exc:  # any other failure is the test's
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["possible_duplicate"] * 4 + ["recorded"], outcomes
    assert Payment.objects.count() == 1


def test_a_payment_whose_credit_was_spent_cannot_be_deleted():
    customer = f.CounterpartyFactory()
    first, second = issued(customer), issued(customer)
    overpaid = pay(first, "20000.00").payment
    payments.credit_apply(counterparty=customer, invoice=second, by=None)
    with pytest.raises(BillingRefused) as refused:
        payment_delete(payment=overpaid, by=None)
    assert refused.value.code == "credit_used"
    lone = pay(issued(customer), "20000.00").payment
    invoice = payment_delete(payment=lone, by=None)
    assert invoice.paid_amount == 0 and credit_balance(customer) == 0


def test_the_credit_is_shown_everywhere_and_applied_from_the_pages(client, make_user):
    """The counterparty's page, the invoice's page, the dashboard and the receivables report
    show the same credit; the accountant applies it from the counterparty's page or the
    invoice's."""
    customer = f.CounterpartyFactory(name="ООО «Альфа»")
    first, second = issued(customer), issued(customer, price="30000.00")
    pay(first, "40000.00")  # 22 500 ₽ of credit
    client.force_login(make_user(Role.ACCOUNTANT))
    page = client.get(customer.get_absolute_url())
    assert page.context["debt"]["owed"].credit == D("22500.00")
    assert f'value="{second.pk}"' in page.content.decode()
    assert client.get("/").context["receivables"]["credit"] == D("22500.00")
    report = client.get("/reports/receivables/").context["totals"]
    assert report["credit"] == D("22500.00")
    invoice_page = client.get(second.get_absolute_url())
    assert (
        invoice_page.context["credit"] == D("22500.00")
        and 'id="apply-credit"' in invoice_page.content.decode()
    )
    paid = client.post(
        f"/invoices/credit/{customer.pk}/apply/", {"invoice": second.pk, "next": second.get_absolute_url()}
    )
    assert paid.status_code == 302 and paid["Location"] == second.get_absolute_url()
    second.refresh_from_db()
    assert second.paid_amount == D("22500.00") and credit_balance(customer) == 0
    assert client.get(customer.get_absolute_url()).context["debt"]["owed"].credit == 0
    stranger = issued()
    refused = client.post(f"/invoices/credit/{customer.pk}/apply/", {"invoice": stranger.pk})
    assert refused.status_code == 302 and stranger.payments.count() == 0


def test_a_manager_sees_the_credit_but_does_not_apply_it(client, make_user):
    customer = f.CounterpartyFactory()
    pay(issued(customer), "20000.00")
    client.force_login(make_user(Role.MANAGER))
    page = client.get(customer.get_absolute_url())
    assert page.context["debt"]["owed"].credit == D("2500.00") and not page.context["debt"]["open_invoices"]
    assert client.post(f"/invoices/credit/{customer.pk}/apply/", {"invoice": 1}).status_code == 403
