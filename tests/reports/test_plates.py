from decimal import Decimal

import pytest

from arenda.billing.services import LineData, invoice_create, invoice_issue
from arenda.bookings.models import SupplyOrder
from arenda.core.money import to_money
from arenda.core.roles import Role
from tests import factories as f
from tests.reports.conftest import MONTH, trip

pytestmark = pytest.mark.django_db


def _invoice_booking(booking):
    """Bill a booking as the company does: max(Σ waybill hours, minimum) × rate, km × rate."""
    worked = sum((w.hours for w in booking.waybills.all()), Decimal("0"))
    km = sum((w.km for w in booking.waybills.all()), Decimal("0"))
    hours = max(worked, booking.min_hours)
    lines = [LineData("Услуги автокрана", hours, booking.rate_per_hour)]
    if booking.rate_per_km > 0 and km > 0:
        lines.append(LineData("Доставка", km, booking.rate_per_km, unit="км"))
    invoice = invoice_create(
        kind="postpayment",
        counterparty=booking.deal.counterparty,
        deal=booking.deal,
        booking=booking,
        lines=lines,
        billed_hours=hours,
        organization=f.OrganizationFactory(),
        by=None,
    )
    return invoice_issue(invoice=invoice, by=None)


@pytest.fixture
def month():
    customer = f.CounterpartyFactory(name="ООО «СтройМонтаж»")
    crane = f.UnitFactory(plate="А123ВС77", rate_per_hour=Decimal("3500"))
    driver = f.DriverFactory()
    # a two-day booking under its minimum: 2 × 3 h against a 10 h minimum → 4 h top-up on day 2
    first = trip(
        day=5,
        hours="3",
        km="12.5",
        unit=crane,
        driver=driver,
        min_hours="10",
        rate_per_km="95.50",
        counterparty=customer,
        rate_per_hour="3500.00",
    )
    second = trip(day=6, hours="3", km="7", booking=first.booking, unit=crane, driver=driver, number="2")
    # a long day over its minimum
    third = trip(
        day=12,
        hours="9.25",
        unit=crane,
        driver=driver,
        min_hours="4",
        rate_per_hour="3750.00",
        counterparty=customer,
    )
    # a supplier's machine: no unit, no driver of ours
    supplier = f.SupplierFactory(name="ИП Краны Подмосковья")
    booking = f.BookingFactory(
        start=first.booking.start.replace(day=20),
        end=first.booking.start.replace(day=20, hour=18),
        busy_until=first.booking.start.replace(day=20, hour=18),
        status="completed",
        rate_per_hour=Decimal("4000.00"),
        min_hours=Decimal("4"),
        deal=f.DealFactory(counterparty=customer),
    )
    SupplyOrder.objects.create(
        booking=booking,
        supplier=supplier,
        unit_plate="Е777КХ50",
        cost_per_hour=Decimal("3000.00"),
        status="completed",
    )
    fourth = trip(day=20, hours="6.5", booking=booking)
    invoices = [_invoice_booking(b) for b in (first.booking, third.booking, booking)]
    return {"waybills": [first, second, third, fourth], "invoices": invoices, "supplier_booking": booking}


def test_plates_revenue_reconciles_with_the_invoices(ui, month):
    response = ui(Role.DIRECTOR).get("/reports/plates/" + MONTH)
    assert response.status_code == 200
    totals = response.context["totals"]
    invoiced = sum((i.total for i in month["invoices"]), Decimal("0"))
    assert totals["revenue"] == invoiced
    rows = response.context["rows"]
    assert [r["billed_hours"] for r in rows] == [Decimal("3"), Decimal("7"), Decimal("9.25"), Decimal("6.5")]
    assert rows[0]["revenue_km"] == to_money(Decimal("12.5") * Decimal("95.50"))
    assert rows[1]["revenue_hours"] == Decimal("24500.00")  # (3 + 4 top-up) × 3500
    assert totals["revenue_hours"] + totals["revenue_km"] == totals["revenue"]
    assert totals["billed_hours"] == Decimal("25.75") and totals["hours"] == Decimal("21.75")


def test_a_suppliers_machine_shows_its_supplier_cost_and_margin(ui, month):
    response = ui(Role.MANAGER).get("/reports/plates/" + MONTH + "&owner=supplier")
    rows = response.context["rows"]
    assert len(rows) == 1
    row = rows[0]
    assert row["plate"] == "Е777КХ50" and row["supplier"] == "ИП Краны Подмосковья"
    assert row["revenue"] == Decimal("26000.00")
    assert row["purchase_cost"] == Decimal("19500.00")
    assert row["margin"] == Decimal("6500.00")
    totals = response.context["totals"]
    assert totals["margin"] == Decimal("6500.00") and totals["own_revenue"] == Decimal("0.00")
    own = ui(Role.MANAGER).get("/reports/plates/" + MONTH + "&owner=own").context["rows"]
    assert len(own) == 3 and all(r["supplier"] == "" and r["margin"] is None for r in own)


def test_totals_by_plate(ui, month):
    response = ui(Role.DIRECTOR).get("/reports/plates/" + MONTH)
    by_plate = {r["plate"]: r for r in response.context["by_plate"]}
    assert set(by_plate) == {"А123ВС77", "Е777КХ50"}
    assert by_plate["А123ВС77"]["trips"] == 3
    assert (
        by_plate["А123ВС77"]["revenue"] + by_plate["Е777КХ50"]["revenue"]
        == response.context["totals"]["revenue"]
    )
    assert "Revenue per plate" in response.content.decode()
