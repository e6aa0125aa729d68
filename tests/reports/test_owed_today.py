"""billing/selectors.py: what customers owe is counted once — the dashboard, the receivables
report and a counterparty's page read the same selector, so they agree even when a payment
is dated after today."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from arenda.billing import selectors, services
from arenda.billing.models import Invoice, Payment
from arenda.core.roles import Role
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_tomorrow():
    """28 000 owed, paid in full by a payment dated tomorrow (recorded before payments ahead
    of today were refused); another 28 000 half paid today and overdue."""
    today = timezone.localdate()
    customer = f.CounterpartyFactory(name="ООО «Альфа»")
    ahead = f.InvoiceFactory(issued=True, counterparty=customer)
    payment = services.payment_record(invoice=ahead, amount="28000", on=today, source="manual").payment
    Payment.objects.filter(pk=payment.pk).update(date=today + timedelta(days=1))
    services.invoice_recompute(invoice=ahead)
    late = f.InvoiceFactory(issued=True, counterparty=customer)
    Invoice.objects.filter(pk=late.pk).update(due_date=today - timedelta(days=2))
    services.payment_record(invoice=late, amount="14000", on=today, source="manual")
    f.InvoiceFactory(issued=True)  # someone else's, not overdue
    ahead.refresh_from_db()
    assert ahead.status == "paid", "the invoice list and the old dashboard took it as paid already"
    return customer


def test_the_dashboard_and_the_report_agree_on_today(ui, paid_tomorrow):
    client = ui(Role.ACCOUNTANT)
    dashboard = client.get("/").context["receivables"]
    report = client.get(reverse("reports:receivables")).context["totals"]
    assert dashboard["unpaid"] == report["total"] == Decimal("70000.00")
    assert dashboard["overdue"] == report["overdue"] == Decimal("14000.00")
    assert selectors.receivables(timezone.localdate()) == selectors.Owed(
        Decimal("70000.00"), Decimal("14000.00")
    )
    # tomorrow the payment counts
    assert selectors.receivables(timezone.localdate() + timedelta(days=1)).total == Decimal("42000.00")


def test_the_dashboards_oldest_debts_show_what_is_owed_today(ui, paid_tomorrow):
    oldest = ui(Role.DIRECTOR).get("/").context["receivables"]["oldest"]
    assert [(i.counterparty, i.owed) for i in oldest][:1] == [(paid_tomorrow, Decimal("14000.00"))]
    assert {i.owed for i in oldest} == {Decimal("14000.00"), Decimal("28000.00")}
    assert len(oldest) == 3


def test_a_counterpartys_debt_is_the_reports_row_and_is_on_its_page(ui, paid_tomorrow):
    debt = selectors.counterparty_debt(paid_tomorrow)
    assert debt == selectors.Owed(Decimal("42000.00"), Decimal("14000.00"))
    client = ui(Role.MANAGER)
    report = client.get(reverse("reports:receivables"), {"counterparty": paid_tomorrow.pk}).context["totals"]
    assert (report["total"], report["overdue"]) == (debt.total, debt.overdue)
    page = client.get(paid_tomorrow.get_absolute_url())
    assert page.context["debt"]["owed"] == debt
    html = page.content.decode()
    assert 'id="debt"' in html and f"counterparty={paid_tomorrow.pk}" in html


def test_an_untouched_counterparty_owes_nothing(paid_tomorrow):
    assert selectors.counterparty_debt(f.CounterpartyFactory()) == selectors.Owed(
        Decimal("0.00"), Decimal("0.00")
    )


def test_a_debt_on_a_past_day_counts_the_payments_up_to_it(paid_tomorrow):
    yesterday = timezone.localdate() - timedelta(days=1)
    # issued today: nothing was owed yesterday
    assert selectors.counterparty_debt(paid_tomorrow, yesterday).total == Decimal("0.00")
