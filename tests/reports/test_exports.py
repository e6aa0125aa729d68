"""XLSX and CSV of the reports: types, totals, separators, formula neutralising."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from arenda.core.roles import Role
from tests import factories as f
from tests.reports.conftest import MONTH, trip

pytestmark = pytest.mark.django_db
EVIL = '=HYPERLINK("http://x","y")'


@pytest.fixture
def month():
    driver = f.DriverFactory(full_name="Иванов Пётр", employment="staff")
    unit = f.UnitFactory(name="КС-45717", plate="А123ВС77")
    evil = f.CounterpartyFactory(name=EVIL)
    trips = [
        trip(day=3, hours="8.5", pay="612.50", unit=unit, driver=driver, counterparty=evil),
        trip(
            day=4,
            hours="7.25",
            pay="612.50",
            unit=unit,
            driver=driver,
            counterparty=evil,
            km="10.5",
            rate_per_km="100.00",
        ),
        trip(day=5, hours="3", pay="700.00", unit=unit, driver=driver, min_hours="4"),
    ]
    return {"trips": trips, "evil": evil, "driver": driver}


def _xlsx(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    data = b"".join(response.streaming_content)
    return openpyxl.load_workbook(io.BytesIO(data))


def _csv(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return b"".join(response.streaming_content).decode("utf-8")


def test_payroll_xlsx_has_types_totals_frozen_header_and_filter(ui, month):
    response = ui(Role.ACCOUNTANT).get("/reports/payroll/" + MONTH + "&format=xlsx")
    assert "payroll_2026-10-01_2026-10-31.xlsx" in response["Content-Disposition"]
    ws = _xlsx(response).active
    assert "Driver payroll" in ws["A1"].value and "01.10.2026" in ws["A1"].value
    header = [c.value for c in ws[3]]
    assert header[:3] == ["Date", "Booking", "Machine"] and header[-1] == "Amount"
    assert ws.freeze_panes == "A4"
    assert ws.auto_filter.ref == "A3:J6"
    first = list(ws[4])
    assert isinstance(first[0].value, datetime) and first[0].value.date() == date(2026, 10, 3)
    assert first[0].number_format == "DD.MM.YYYY"
    assert isinstance(first[7].value, int | float) and first[7].value == 8.5
    assert first[9].value == pytest.approx(5206.25) and first[9].number_format == "#,##0.00"
    totals = [c.value for c in ws[7]]
    assert totals[0] == "Total"
    assert totals[7] == pytest.approx(18.75)
    assert totals[9] == pytest.approx(5206.25 + 4440.63 + 2100)
    assert ws.column_dimensions["C"].width > 20


def test_csv_round_trips_with_bom_and_both_separators(ui, month):
    client = ui(Role.DIRECTOR)
    text = _csv(client.get("/reports/payroll/" + MONTH + "&format=csv"))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][0] == "Date" and len(rows) == 5
    assert rows[1][0] == "2026-10-03" and Decimal(rows[1][9]) == Decimal("5206.25")
    assert rows[-1][0] == "Total" and Decimal(rows[-1][9]) == Decimal("11746.88")
    text = _csv(client.get("/reports/payroll/" + MONTH + "&format=csv&sep=semicolon"))
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert len(rows) == 5 and len(rows[1]) == 10
    assert rows[2][9] == "4440,63" and rows[2][7] == "7,25"


def test_formulas_are_neutralised_in_csv_and_xlsx(ui, month):
    client = ui(Role.DIRECTOR)
    text = _csv(client.get("/reports/plates/" + MONTH + "&format=csv"))
    rows = list(csv.reader(io.StringIO(text[1:])))
    names = {r[1] for r in rows[1:-1]}
    assert "'" + EVIL in names and EVIL not in names
    ws = _xlsx(client.get("/reports/plates/" + MONTH + "&format=xlsx")).active
    values = [ws.cell(row=r, column=2).value for r in range(4, 7)]
    assert "'" + EVIL in values and EVIL not in values
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)
    # a negative number (a margin, say) stays a number: only text is touched
    revenue = ws.cell(row=4, column=14)
    assert isinstance(revenue.value, int | float)
    ws = _xlsx(client.get("/reports/receivables/?format=xlsx")).active
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)


def test_receivables_csv_neutralises_the_counterparty(ui, month):
    from arenda.billing.services import LineData, invoice_create, invoice_issue

    invoice = invoice_create(
        kind="postpayment",
        counterparty=month["evil"],
        by=None,
        organization=f.OrganizationFactory(),
        lines=[LineData("Услуги", Decimal("1"), Decimal("1000"))],
    )
    invoice_issue(invoice=invoice, by=None)
    text = _csv(ui(Role.ACCOUNTANT).get("/reports/receivables/?format=csv&sep=semicolon"))
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[1][0] == "'" + EVIL
    assert rows[1][-1] == "1000,00"


def test_plates_xlsx_totals_and_top_up(ui, month):
    ws = _xlsx(ui(Role.DIRECTOR).get("/reports/plates/" + MONTH + "&format=xlsx")).active
    header = [c.value for c in ws[3]]
    billed = header.index("Hours billed") + 1
    assert [ws.cell(row=r, column=billed).value for r in range(4, 7)] == [8.5, 7.25, 4]
    revenue = header.index("Revenue") + 1
    assert ws.cell(row=7, column=revenue).value == pytest.approx((8.5 + 7.25 + 4) * 3500 + 10.5 * 100)
