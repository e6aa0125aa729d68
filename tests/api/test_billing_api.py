"""Invoices and payments through the API: shapes, filters, actions, refusals and the
roles of every endpoint."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks import default_task_backend

from arenda.billing.models import Invoice, Payment
from arenda.billing.services import payment_record
from arenda.core.roles import Role
from tests import factories as f

A, M, C, D = Role.ADMIN, Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR
ROLES = [A, M, C, D]


def _body(**extra):
    return {
        "kind": "postpayment",
        "counterparty": f.CounterpartyFactory().pk,
        "organization": f.OrganizationFactory().pk,
        "lines": [
            {"description": "Автокран 25 т, смена", "quantity": "8", "unit": "ч", "price": "3500.00"},
            {"description": "Доставка", "quantity": "20", "unit": "км", "price": "100"},
        ],
        **extra,
    }


def _paid(invoice, amount=None, reference=""):
    return payment_record(
        invoice=invoice,
        amount=amount or invoice.total,
        on=timezone.localdate(),
        source="manual",
        reference=reference,
    )


# --- invoices -------------------------------------------------------------------------------
def test_create_a_draft_with_lines(api):
    response = api(M).post("/api/v1/invoices/", _body(), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "draft" and data["number"] == ""
    assert data["total"] == "30000.00" and data["vat_rate"] == "22" and data["vat_amount"] == "5409.84"
    assert [(line["position"], line["amount"]) for line in data["lines"]] == [(1, "28000.00"), (2, "2000.00")]
    assert data["sync_status"] == "not_needed" and data["paid_amount"] == "0.00"


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ([], "lines"),
        ([{"description": "x", "quantity": "0", "price": "1"}], "quantity"),
        ([{"description": "x", "quantity": "1", "price": "-1"}], "price"),
        ([{"description": "", "quantity": "1", "price": "1"}], "description"),
        ([{"description": "x", "quantity": "abc", "price": "1"}], "quantity"),
        ([{"description": "x", "quantity": "1", "price": "1e400"}], "price"),
        ("not a list", "lines"),
    ],
)
def test_bad_lines_are_400_naming_the_field(api, lines, error):
    response = api(M).post("/api/v1/invoices/", _body(lines=lines), format="json")
    assert response.status_code == 400, response.content
    errors = response.json()["lines"]
    if error != "lines":
        assert error in errors["0"]
    assert Invoice.objects.count() == 0


@pytest.mark.parametrize("field", ["kind", "counterparty", "organization"])
def test_bad_header_fields_are_400(api, field):
    body = _body(**{field: "nonsense" if field == "kind" else 999999})
    response = api(M).post("/api/v1/invoices/", body, format="json")
    assert response.status_code == 400 and field in response.json()


def test_booking_of_another_deal_is_refused(api):
    booking = f.BookingFactory()
    body = _body(booking=booking.pk, deal=f.DealFactory().pk)
    assert list(api(M).post("/api/v1/invoices/", body, format="json").json()) == ["booking"]
    body = _body(booking=booking.pk, counterparty=booking.deal.counterparty_id)
    assert api(M).post("/api/v1/invoices/", body, format="json").json()["deal"] == booking.deal_id


def test_an_invoice_to_another_customer_than_its_deals_is_refused(api):
    """An invoice for counterparty A on B's booking and deal was accepted and issued."""
    booking = f.BookingFactory()
    for link in ({"booking": booking.pk}, {"deal": booking.deal_id}):
        response = api(M).post("/api/v1/invoices/", _body(**link), format="json")
        assert response.status_code == 400 and list(response.json()) == ["counterparty"], link
    assert not Invoice.objects.exists()


def test_lines_change_while_draft_then_freeze(api):
    client = api(M)
    invoice = f.InvoiceFactory()
    url = f"/api/v1/invoices/{invoice.pk}/"
    lines = [{"description": "Смена", "quantity": "10", "price": "1000"}]
    response = client.patch(url, {"lines": lines, "notes": "по звонку"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["total"] == "10000.00" and response.json()["notes"] == "по звонку"
    assert client.post(f"{url}issue/").status_code == 200
    response = client.patch(url, {"lines": lines}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "invoice_frozen"
    # the header is fixed after create
    client.patch(url, {"kind": "prepayment", "counterparty": f.CounterpartyFactory().pk}, format="json")
    invoice.refresh_from_db()
    assert invoice.kind == "postpayment" and invoice.counterparty_id != response.json().get("counterparty")


def test_issue_numbers_and_a_second_issue_is_409(api):
    client = api(M)
    invoice = f.InvoiceFactory()
    response = client.post(f"/api/v1/invoices/{invoice.pk}/issue/")
    data = response.json()
    assert response.status_code == 200 and data["status"] == "issued" and data["number"] == "1"
    assert data["date"] == timezone.localdate().isoformat()
    assert data["due_date"] == (timezone.localdate() + timedelta(days=5)).isoformat()
    again = client.post(f"/api/v1/invoices/{invoice.pk}/issue/")
    assert again.status_code == 409 and again.json()["code"] == "not_draft"


def test_only_a_draft_is_deleted(api):
    client = api(C)
    draft, issued = f.InvoiceFactory(), f.InvoiceFactory(issued=True)
    assert client.delete(f"/api/v1/invoices/{draft.pk}/").status_code == 204
    response = client.delete(f"/api/v1/invoices/{issued.pk}/")
    assert response.status_code == 409 and response.json()["code"] == "not_draft"
    assert Invoice.objects.filter(pk=issued.pk).exists()


@pytest.mark.parametrize("role", ROLES)
def test_cancel_is_the_accountants(api, role):
    invoice = f.InvoiceFactory(issued=True)
    response = api(role).post(f"/api/v1/invoices/{invoice.pk}/cancel/", {"reason": "ошибка в реквизитах"})
    assert response.status_code == (200 if role in (A, C) else 403), response.content
    invoice.refresh_from_db()
    assert (invoice.status == "cancelled") is (role in (A, C))
    if role in (A, C):
        assert invoice.number == "1" and invoice.cancel_reason == "ошибка в реквизитах"


def test_cancel_needs_a_reason_and_not_a_paid_invoice(api):
    client = api(C)
    invoice = f.InvoiceFactory(issued=True)
    assert client.post(f"/api/v1/invoices/{invoice.pk}/cancel/", {"reason": " "}).status_code == 400
    _paid(invoice)
    response = client.post(f"/api/v1/invoices/{invoice.pk}/cancel/", {"reason": "передумали"})
    assert response.status_code == 409 and response.json()["code"] == "cannot_cancel"


@pytest.mark.parametrize("role", ROLES)
def test_retry_sync_requeues_a_failed_push(api, role, django_capture_on_commit_callbacks):
    default_task_backend.clear()
    invoice = f.InvoiceFactory(issued=True)
    Invoice.objects.filter(pk=invoice.pk).update(sync_status="failed", sync_error="HTTP 500", sync_attempts=7)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(role).post(f"/api/v1/invoices/{invoice.pk}/retry-sync/")
    allowed = role in (A, C)
    assert response.status_code == (200 if allowed else 403)
    invoice.refresh_from_db()
    assert (invoice.sync_status, invoice.sync_attempts) == (("pending", 0) if allowed else ("failed", 7))
    queued = [(r.task.name, r.args) for r in default_task_backend.results]
    assert queued == ([("push_invoice", [invoice.pk])] if allowed else [])


def test_retry_sync_of_a_synced_invoice_is_409(api):
    invoice = f.InvoiceFactory(issued=True)
    response = api(C).post(f"/api/v1/invoices/{invoice.pk}/retry-sync/")
    assert response.status_code == 409 and response.json()["code"] == "not_failed"


def test_list_filters_and_search(api):
    client = api(D)
    cp = f.CounterpartyFactory(name="ООО «Мостострой»")
    mine = f.InvoiceFactory(issued=True, counterparty=cp)
    draft = f.InvoiceFactory(kind="prepayment")
    overdue = f.InvoiceFactory(issued=True)
    Invoice.objects.filter(pk=overdue.pk).update(due_date=timezone.localdate() - timedelta(days=1))

    def ids(query):
        response = client.get(f"/api/v1/invoices/?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("status=draft") == {draft.pk}
    assert ids("kind=prepayment") == {draft.pk}
    assert ids(f"counterparty={cp.pk}") == {mine.pk}
    assert ids("search=Мостострой") == {mine.pk}
    assert ids(f"organization={mine.organization_id}") == {mine.pk}
    assert ids("sync_status=not_needed") == {mine.pk, draft.pk, overdue.pk}
    assert ids("overdue=true") == {overdue.pk}
    today = timezone.localdate().isoformat()
    assert ids(f"date_after={today}&date_before={today}") == {mine.pk, overdue.pk}
    assert client.get("/api/v1/invoices/?date_after=yesterday").status_code == 400
    assert client.get("/api/v1/invoices/?status=nonsense").status_code == 400


def test_list_queries_do_not_grow(api):
    client = api(M)
    f.InvoiceFactory(issued=True)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/invoices/")
    for _ in range(5):
        f.InvoiceFactory(issued=True)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/invoices/")
    assert response.json()["count"] == 6
    assert len(many) == len(few)


# --- payments -------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_manual_payment_by_role(api, role):
    invoice = f.InvoiceFactory(issued=True)
    body = {"invoice": invoice.pk, "amount": "10000.00", "date": "2026-03-02", "reference": "пп 15"}
    response = api(role).post("/api/v1/payments/", body, format="json")
    assert response.status_code == (201 if role in (A, C) else 403), response.content
    invoice.refresh_from_db()
    assert invoice.status == ("partially_paid" if role in (A, C) else "issued")


def test_payment_twice_counts_once_and_pays_the_invoice(api):
    client = api(C)
    invoice = f.InvoiceFactory(issued=True)
    body = {"invoice": invoice.pk, "amount": "28000.00", "reference": "пп 16"}
    first = client.post("/api/v1/payments/", body, format="json")
    again = client.post("/api/v1/payments/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and first.json()["source"] == "manual"
    invoice.refresh_from_db()
    assert invoice.status == "paid" and invoice.paid_amount == Decimal("28000.00")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "x"}, "amount"),
        ({"date": "32.01"}, "date"),
    ],
)
def test_bad_payment_is_400(api, change, field):
    invoice = f.InvoiceFactory(issued=True)
    body = {"invoice": invoice.pk, "amount": "100", **change}
    response = api(C).post("/api/v1/payments/", body, format="json")
    assert response.status_code == 400 and field in response.json()


def test_a_draft_cannot_be_paid(api):
    response = api(C).post(
        "/api/v1/payments/", {"invoice": f.InvoiceFactory().pk, "amount": "1"}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "not_payable"


@pytest.mark.parametrize("role", ROLES)
def test_only_a_manual_payment_is_deleted_and_the_invoice_follows(api, role):
    invoice = f.InvoiceFactory(issued=True)
    manual = _paid(invoice).payment
    response = api(role).delete(f"/api/v1/payments/{manual.pk}/")
    assert response.status_code == (204 if role in (A, C) else 403)
    invoice.refresh_from_db()
    assert invoice.status == ("issued" if role in (A, C) else "paid")


def test_a_1c_payment_is_not_deleted(api):
    invoice = f.InvoiceFactory(issued=True)
    payment = payment_record(
        invoice=invoice, amount="5", on=timezone.localdate(), source="1c", reference="x"
    ).payment
    response = api(C).delete(f"/api/v1/payments/{payment.pk}/")
    assert response.status_code == 409 and response.json()["code"] == "not_manual"


@pytest.mark.parametrize("role", ROLES)
def test_payments_list_and_no_update(api, role):
    invoice = f.InvoiceFactory(issued=True)
    payment = _paid(invoice, amount="100", reference="пп 1").payment
    client = api(role)
    response = client.get(f"/api/v1/payments/?invoice={invoice.pk}")
    assert response.status_code == 200 and [p["id"] for p in response.json()["results"]] == [payment.pk]
    assert client.get("/api/v1/payments/?source=1c").json()["count"] == 0
    assert client.patch(f"/api/v1/payments/{payment.pk}/", {"amount": "1"}, format="json").status_code in (
        403,
        405,
    )
    assert Payment.objects.get(pk=payment.pk).amount == Decimal("100.00")


# --- the booking's prepayment invoice ------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_prepayment_invoice_of_a_booking(api, role):
    f.OrganizationFactory()
    booking = f.BookingFactory()
    response = api(role).post(f"/api/v1/bookings/{booking.pk}/prepayment-invoice/")
    allowed = role in (A, M)
    assert response.status_code == (201 if allowed else 403), response.content
    if allowed:
        data = response.json()
        assert data["kind"] == "prepayment" and data["status"] == "issued" and data["booking"] == booking.pk
        assert data["total"] == "28000.00" and data["lines"][0]["quantity"] == "8.000"
        again = api(role).post(f"/api/v1/bookings/{booking.pk}/prepayment-invoice/")
        assert again.status_code == 200 and again.json()["id"] == data["id"]


def test_prepayment_invoice_without_rate_is_400(api):
    booking = f.BookingFactory(rate_per_hour=Decimal("0"))
    response = api(M).post(f"/api/v1/bookings/{booking.pk}/prepayment-invoice/")
    assert response.status_code == 400 and "ordered_hours" in response.json()


def test_paid_prepayment_lets_the_booking_be_confirmed(api):
    from arenda.bookings.services import booking_reserve

    client = api(M)
    f.OrganizationFactory()
    booking = f.BookingFactory()
    unit = f.UnitFactory(equipment_type=booking.equipment_type)
    booking_reserve(booking=booking, unit=unit, driver=f.DriverFactory(), by=client.user)
    refused = client.post(f"/api/v1/bookings/{booking.pk}/confirm/")
    assert refused.status_code == 409 and refused.json()["code"] == "prepayment_missing"
    invoice_id = client.post(f"/api/v1/bookings/{booking.pk}/prepayment-invoice/").json()["id"]
    paid = api(C).post("/api/v1/payments/", {"invoice": invoice_id, "amount": "28000"}, format="json")
    assert paid.status_code == 201
    confirmed = client.post(f"/api/v1/bookings/{booking.pk}/confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"


def test_a_booking_shows_the_hours_its_invoices_bill(api):
    from tests.factories import BookingFactory, OrganizationFactory

    OrganizationFactory()
    client = api("manager")
    booking = BookingFactory(ordered_hours=Decimal("8"), rate_per_hour=Decimal("3500.00"))
    assert client.get(f"/api/v1/bookings/{booking.pk}/").json()["invoiced_hours"] == "0.00"
    assert client.post(f"/api/v1/bookings/{booking.pk}/prepayment-invoice/").status_code == 201
    assert client.get(f"/api/v1/bookings/{booking.pk}/").json()["invoiced_hours"] == "8.00"
    assert client.get("/api/v1/bookings/").json()["results"][0]["invoiced_hours"] == "8.00"


def test_an_organisation_without_its_requisites_is_not_invoiced(api):
    """Issuing to an organisation without ИНН or КПП answers which are missing and where to
    complete them; the invoice stays a draft."""
    customer = f.CounterpartyFactory(kind="legal", inn="", kpp="")
    invoice = f.InvoiceFactory(counterparty=customer)
    response = api(M).post(f"/api/v1/invoices/{invoice.pk}/issue/")
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["missing"], body["counterparty"]) == (
        "counterparty_incomplete",
        ["inn", "kpp"],
        customer.pk,
    )
    assert body["url"].endswith(f"/counterparties/{customer.pk}/edit/")
    assert Invoice.objects.get(pk=invoice.pk).status == "draft"
    customer.inn, customer.kpp = f.make_inn10(77), "773601001"
    customer.save()
    assert api(M).post(f"/api/v1/invoices/{invoice.pk}/issue/").status_code == 200
