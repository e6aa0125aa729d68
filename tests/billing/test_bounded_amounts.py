"""Bounded amounts: an overflowing line was saved (SQLite stores the product as REAL) and
then broke every invoice page; deal lines overflowed the same way. Every amount now has its
bounds (``arenda/core/money.py``), checked by the API, the forms and the services, and held
by CHECK constraints in the database."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from arenda.billing.models import Invoice, InvoiceLine, Payment
from arenda.core.money import MAX_AMOUNT, MAX_LINES, MAX_PRICE, MAX_QUANTITY
from arenda.core.roles import Role
from arenda.crm.models import DealLine
from tests import factories as f

pytestmark = pytest.mark.django_db


def body(lines, **extra):
    return {
        "kind": "postpayment",
        "counterparty": f.CounterpartyFactory().pk,
        "organization": f.OrganizationFactory().pk,
        "lines": lines,
        **extra,
    }


def line(quantity="8", price="3500.00"):
    return {"description": "Автокран 25 т, смена", "quantity": quantity, "unit": "ч", "price": price}


def test_an_overflowing_invoice_is_refused_and_nothing_is_written(api, client, make_user):
    manager = api(Role.MANAGER)
    response = manager.post(
        "/api/v1/invoices/", body([line("999999999.999", "999999999999.99")]), format="json"
    )
    assert response.status_code == 400
    errors = response.json()["lines"]["0"]
    assert set(errors) == {"quantity", "price"}
    assert not Invoice.objects.exists() and not InvoiceLine.objects.exists()
    assert manager.get("/api/v1/invoices/").status_code == 200
    client.force_login(make_user(Role.MANAGER))
    assert client.get(reverse("billing:invoice_list")).status_code == 200


def test_the_largest_line_is_accepted_and_a_total_beyond_the_bound_is_refused(api):
    manager = api(Role.MANAGER)
    biggest = line(str(MAX_QUANTITY / 1000), str(MAX_PRICE))  # 100 × 100 million = 10 billion
    assert manager.post("/api/v1/invoices/", body([biggest]), format="json").status_code == 201
    response = manager.post("/api/v1/invoices/", body([biggest, line("1", "0.01")]), format="json")
    assert response.status_code == 400 and "lines" in response.json()
    assert Invoice.objects.count() == 1


def test_an_invoice_has_at_most_200_lines(api):
    manager = api(Role.MANAGER)
    response = manager.post("/api/v1/invoices/", body([line()] * (MAX_LINES + 1)), format="json")
    assert response.status_code == 400 and "lines" in response.json()
    assert manager.post("/api/v1/invoices/", body([line()] * MAX_LINES), format="json").status_code == 201


def test_the_invoice_form_refuses_overflowing_lines(client, make_user):
    client.force_login(make_user(Role.MANAGER))
    data = {
        "counterparty": f.CounterpartyFactory().pk,
        "organization": f.OrganizationFactory().pk,
        "kind": "postpayment",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": str(MAX_LINES),
        "lines-0-description": "Смена",
        "lines-0-quantity": "999999999.999",
        "lines-0-unit": "ч",
        "lines-0-price": "999999999999.99",
    }
    response = client.post(reverse("billing:invoice_create"), data)
    assert response.status_code in (200, 400) and not Invoice.objects.exists()


def test_a_payment_beyond_the_bound_is_refused(api):
    invoice = f.InvoiceFactory(issued=True)
    response = api(Role.ACCOUNTANT).post(
        "/api/v1/payments/",
        {"invoice": invoice.pk, "amount": str(MAX_AMOUNT + 1)},
        format="json",
    )
    assert response.status_code == 400 and "amount" in response.json()
    assert not Payment.objects.exists()


def test_deal_lines_are_bounded_and_at_most_200(api):
    deal = f.DealFactory()
    client = api(Role.MANAGER)
    start = "2030-03-10T08:00:00+03:00"
    values = {
        "equipment_type": f.EquipmentTypeFactory().pk,
        "start": start,
        "end": "2030-03-10T16:00:00+03:00",
        "ordered_hours": "99999.99",
        "rate_per_hour": "999999999999.99",
        "km": "9999999.99",
        "site_address": "Москва, ул. Ленина, 1",
    }
    response = client.post(f"/api/v1/deals/{deal.pk}/lines/", values, format="json")
    assert response.status_code == 400 and {"rate_per_hour", "km"} <= set(response.json())
    assert not DealLine.objects.exists() and client.get("/api/v1/deals/").status_code == 200
    f.DealLineFactory.create_batch(MAX_LINES, deal=deal)
    values |= {"ordered_hours": "8", "rate_per_hour": "3500.00", "km": "0"}
    assert client.post(f"/api/v1/deals/{deal.pk}/lines/", values, format="json").status_code == 400
    assert deal.lines.count() == MAX_LINES


def test_the_database_refuses_what_the_services_would(is_postgres):
    invoice = f.InvoiceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.create(
            invoice=invoice, description="x", quantity=Decimal("1"), price=MAX_PRICE + 1, amount=MAX_PRICE + 1
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(invoice=invoice, amount=MAX_AMOUNT + 1, date="2026-12-01", source="manual")
    booking = f.BookingFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(booking).objects.filter(pk=booking.pk).update(rate_per_hour=MAX_PRICE + 1)
    unit = f.UnitFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(unit).objects.filter(pk=unit.pk).update(rate_per_km=MAX_PRICE + 1)
