from decimal import Decimal

import pytest

from arenda.core.roles import Role
from tests import factories as f
from tests.reports.conftest import MONTH, msk, trip

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet():
    crane_type = f.EquipmentTypeFactory(name="Автокран")
    crane = f.UnitFactory(equipment_type=crane_type, plate="А123ВС77", name="КС-45717")
    idle = f.UnitFactory(equipment_type=crane_type, plate="В456ЕК77", name="КС-55713")
    hired = f.UnitFactory(plate="Е777КХ50", owner="supplier", supplier=f.SupplierFactory(name="ИП Краны"))
    driver = f.DriverFactory()
    # 10 h inside October, and a booking from 30.09 20:00 to 01.10 04:00 — 4 h of it in October
    trip(day=7, hours="10", unit=crane, driver=driver, rate_per_hour="3500.00")
    f.BookingFactory(
        unit=crane,
        start=msk(30, 20, month=9),
        end=msk(1, 4),
        busy_until=msk(1, 4),
        equipment_type=crane_type,
        status="closed",
    )
    # cancelled and draft bookings do not count
    f.BookingFactory(
        unit=crane, start=msk(15), end=msk(15, 18), status="cancelled", equipment_type=crane_type
    )
    f.BookingFactory(unit=idle, start=msk(16), end=msk(16, 18), status="draft", equipment_type=crane_type)
    # the idle crane spent 2 days (48 h) of October in maintenance, one more day in November
    f.MaintenanceWindowFactory(unit=idle, start=msk(30, 0), end=msk(2, 0, month=11))
    trip(day=9, hours="5", unit=hired, rate_per_hour="4000.00")
    return {"crane": crane, "idle": idle, "hired": hired}


def test_fleet_booked_hours_utilisation_and_revenue(ui, fleet):
    response = ui(Role.DIRECTOR).get("/reports/fleet/" + MONTH)
    assert response.status_code == 200
    rows = {r["plate"]: r for r in response.context["rows"]}
    period_hours = Decimal(31 * 24)
    crane = rows["А123ВС77"]
    # the trip's booking is 8 h long (the factory books 8 h) + 4 h of the night booking
    assert crane["booked_hours"] == Decimal("12.00")
    assert crane["available_hours"] == period_hours
    assert crane["utilisation"] == (Decimal("12") / period_hours).quantize(Decimal("0.0001"))
    assert crane["revenue"] == Decimal("35000.00") and crane["trips"] == 1
    assert crane["revenue_per_hour"] == (Decimal("35000") / 12).quantize(Decimal("0.01"))
    idle = rows["В456ЕК77"]
    assert idle["booked_hours"] == 0 and idle["maintenance_hours"] == Decimal("48.00")
    assert idle["available_hours"] == period_hours - 48
    totals = response.context["totals"]
    assert totals["revenue"] == Decimal("55000.00")
    assert totals["own_revenue"] == Decimal("35000.00") and totals["supplier_revenue"] == Decimal("20000.00")
    by_type = {g["equipment_type"]: g for g in response.context["by_type"]}
    assert by_type["Автокран"]["units"] == 2 and by_type["Автокран"]["revenue"] == Decimal("35000.00")
    assert "Utilisation per unit" in response.content.decode()


def test_fleet_filters_and_sort(ui, fleet):
    client = ui(Role.MANAGER)
    rows = client.get("/reports/fleet/" + MONTH + "&owner=supplier").context["rows"]
    assert [r["plate"] for r in rows] == ["Е777КХ50"]
    rows = client.get("/reports/fleet/" + MONTH + "&sort=-maintenance_hours").context["rows"]
    assert rows[0]["plate"] == "В456ЕК77"
    rows = client.get("/reports/fleet/" + MONTH + "&sort=plate").context["rows"]
    assert [r["plate"] for r in rows] == sorted(r["plate"] for r in rows)
