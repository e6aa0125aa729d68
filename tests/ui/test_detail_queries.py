"""A booking's page and an invoice's page cost the same number of queries however many
waybills, invoices, lines and payments they show (docs/large-lists.md)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from arenda.billing import services
from arenda.core.roles import Role
from tests import factories as f

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx)


@pytest.fixture
def manager():
    client = Client(headers={"Accept-Language": "ru"})
    client.force_login(f.UserFactory(role=Role.MANAGER))
    return client


def test_a_bookings_page_costs_the_same_with_many_waybills_and_invoices(manager):
    start = timezone.now().replace(microsecond=0) - timedelta(days=10)
    booking = f.BookingFactory(
        status="completed", start=start, end=start + timedelta(hours=8), busy_until=start + timedelta(hours=8)
    )
    f.WaybillFactory(booking=booking)
    f.InvoiceFactory(counterparty=booking.deal.counterparty, deal=booking.deal, booking=booking, issued=True)
    url = booking.get_absolute_url()
    manager.get(url)  # the first request's one-time reads (settings, the session)
    few = _queries(manager, url)
    for day in range(1, 6):
        f.WaybillFactory(booking=booking, number=f"Д-{day}", started_at=booking.start + timedelta(days=day))
        f.InvoiceFactory(
            counterparty=booking.deal.counterparty, deal=booking.deal, booking=booking, issued=True
        )
    assert _queries(manager, url) == few


def test_an_invoices_page_costs_the_same_with_many_payments(manager):
    invoice = f.InvoiceFactory(issued=True, quantity=Decimal("100"))
    pay = lambda n: services.payment_record(  # noqa: E731
        invoice=invoice, amount="10", on=timezone.localdate(), source="manual", reference=f"пп {n}"
    )
    pay(0)
    url = invoice.get_absolute_url()
    manager.get(url)
    few = _queries(manager, url)
    for n in range(1, 6):
        pay(n)
    assert _queries(manager, url) == few
