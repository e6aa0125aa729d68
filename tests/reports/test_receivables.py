from datetime import date
from decimal import Decimal

import pytest

from arenda.billing.services import LineData, invoice_create, invoice_issue, payment_record
from arenda.core.roles import Role
from tests import factories as f

pytestmark = pytest.mark.django_db
AS_OF = "?as_of=2026-10-31"


def issued(counterparty, amount, on: date, *, terms=5, overtime=False, organization=None):
    counterparty.payment_terms_days = terms
    counterparty.save()
    invoice = invoice_create(
        kind="postpayment",
        counterparty=counterparty,
        lines=[LineData("Услуги автокрана", Decimal("1"), Decimal(amount))],
        organization=organization or f.OrganizationFactory(),
        by=None,
    )
    invoice = invoice_issue(invoice=invoice, by=None, on=on)
    if overtime:
        invoice.is_overtime = True
        invoice.save(update_fields=["is_overtime"])
    return invoice


@pytest.fixture
def debts():
    a = f.CounterpartyFactory(name="ООО «Альфа»")
    b = f.CounterpartyFactory(name="ООО «Бета»")
    org = f.OrganizationFactory()
    inv = {
        # due 30.10 → 1 day overdue; half paid before as_of, the rest after
        "a1": issued(a, "100000.00", date(2026, 10, 25), organization=org),
        # due 05.11 → not due yet
        "a2": issued(a, "20000.00", date(2026, 10, 31), organization=org, overtime=True),
        # due 20.08 → 72 days overdue
        "b1": issued(b, "50000.00", date(2026, 8, 15), organization=org),
        # due 01.10 → 30 days overdue; paid in full before as_of: not owed
        "b2": issued(b, "7000.00", date(2026, 9, 26), organization=org),
        # issued after as_of: not counted
        "b3": issued(b, "9000.00", date(2026, 11, 2), organization=org),
    }
    payment_record(invoice=inv["a1"], amount="40000.00", on=date(2026, 10, 28), source="manual")
    payment_record(invoice=inv["a1"], amount="60000.00", on=date(2026, 11, 3), source="manual")
    payment_record(invoice=inv["b2"], amount="7000.00", on=date(2026, 10, 2), source="manual")
    return {"a": a, "b": b, **inv}


def test_receivables_are_issued_minus_paid_by_the_date(ui, debts):
    response = ui(Role.ACCOUNTANT).get("/reports/receivables/" + AS_OF)
    assert response.status_code == 200
    rows = {r["counterparty"]: r for r in response.context["rows"]}
    # a1 is paid in full now, but on 31.10 60 000 were still owed
    assert rows["ООО «Альфа»"]["total"] == Decimal("80000.00")
    assert rows["ООО «Альфа»"]["d1_7"] == Decimal("60000.00")
    assert rows["ООО «Альфа»"]["not_due"] == Decimal("20000.00")
    assert rows["ООО «Альфа»"]["overtime"] == Decimal("20000.00")
    assert rows["ООО «Бета»"]["total"] == Decimal("50000.00")
    assert rows["ООО «Бета»"]["d60"] == Decimal("50000.00")
    assert rows["ООО «Бета»"]["invoices"] == 1
    totals = response.context["totals"]
    assert totals["total"] == Decimal("130000.00")
    assert totals["overdue"] == Decimal("110000.00")
    assert totals["overtime"] == Decimal("20000.00")
    html = response.content.decode()
    assert f"/invoices/{debts['a1'].pk}/" in html and "Ageing of the debt" in html


def test_receivables_today_count_later_payments(ui, debts):
    rows = {r["counterparty"]: r for r in ui(Role.DIRECTOR).get("/reports/receivables/").context["rows"]}
    assert rows["ООО «Альфа»"]["total"] == Decimal("20000.00")
    assert rows["ООО «Бета»"]["total"] == Decimal("59000.00")


def test_receivables_of_one_counterparty(ui, debts):
    response = ui(Role.MANAGER).get(f"/reports/receivables/{AS_OF}&counterparty={debts['a'].pk}")
    assert [r["counterparty"] for r in response.context["rows"]] == ["ООО «Альфа»"]
    assert {i["number"] for i in response.context["invoice_rows"]} == {debts["a1"].number, debts["a2"].number}


@pytest.mark.postgres
def test_owed_on_a_date_is_answered_by_the_range_index():
    from django.db import connection

    from arenda.billing.models import Invoice
    from arenda.billing.selectors import OWED_ON_SQL

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = (
            Invoice.objects.counted()
            .extra(where=[OWED_ON_SQL], params=["2026-11-27", "2026-11-27"])
            .query.sql_with_params()
        )
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "invoice_owed_range_idx" in plan, plan


@pytest.mark.postgres
def test_the_selector_the_dashboard_and_the_report_read_uses_the_range_index():
    from django.db import connection

    from arenda.billing.selectors import owed_on

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = owed_on(date(2026, 11, 27)).query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "invoice_owed_range_idx" in plan, plan


def test_what_was_owed_on_each_day_is_the_total_less_the_payments_dated_by_then(debts):
    """``owed_on`` reads the paid amount of an invoice last paid by the day and sums the
    payments only of one paid again later: every day around the payments agrees with the
    payments themselves."""
    from datetime import timedelta

    from arenda.billing.models import Invoice, Payment
    from arenda.billing.selectors import owed_on

    payment_record(invoice=debts["b1"], amount="1000.00", on=date(2026, 8, 20), source="manual")
    payment_record(invoice=debts["b1"], amount="2500.50", on=date(2026, 10, 30), source="manual")
    invoices = list(Invoice.objects.counted())
    payments = list(Payment.objects.values_list("invoice_id", "date", "applied"))
    day = date(2026, 8, 14)
    while day <= date(2026, 11, 6):
        expected = {}
        for invoice in invoices:
            paid = sum((a for i, d, a in payments if i == invoice.pk and d <= day), Decimal("0"))
            if invoice.date <= day and invoice.total - paid > 0:
                expected[invoice.pk] = int((invoice.total - paid) * 100)
        assert dict(owed_on(day).values_list("pk", "due_k")) == expected, day
        day += timedelta(days=1)


def test_an_invoice_knows_the_date_of_its_latest_payment(debts):
    from arenda.billing.services import payment_delete

    a1 = debts["a1"]
    a1.refresh_from_db()
    assert a1.last_paid_on == date(2026, 11, 3)
    later = a1.payments.get(date=date(2026, 11, 3))
    payment_delete(payment=later, by=None)
    a1.refresh_from_db()
    assert a1.last_paid_on == date(2026, 10, 28)
    debts["a2"].refresh_from_db()
    assert debts["a2"].last_paid_on is None
