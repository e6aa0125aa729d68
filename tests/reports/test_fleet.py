import io
from decimal import Decimal

import openpyxl
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
    # the working calendar's defaults: October 2026 has 22 weekdays of 12 h and 5 Saturdays of 9 h
    period_hours = Decimal(22 * 12 + 5 * 9)
    crane = rows["А123ВС77"]
    # the trip's booking is 8 h long (the factory books 8 h) + 4 h of the night booking
    assert crane["booked_hours"] == Decimal("12.00")
    assert crane["available_hours"] == period_hours
    assert crane["utilisation"] == (Decimal("12") / period_hours).quantize(Decimal("0.0001"))
    assert crane["revenue"] == Decimal("35000.00") and crane["trips"] == 1
    assert crane["revenue_per_hour"] == (Decimal("35000") / 12).quantize(Decimal("0.01"))
    idle = rows["В456ЕК77"]
    # maintenance from Friday 30.10: 12 working hours that day and 9 on Saturday 31.10
    assert idle["booked_hours"] == 0 and idle["maintenance_hours"] == Decimal("21.00")
    assert idle["available_hours"] == period_hours - 21
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


# --- utilisation against the working calendar (docs/working-calendar.md) ---------------------
WEEK = "?period=custom&start=2026-10-05&end=2026-10-11"  # Monday to Sunday, no holiday
NOVEMBER_WEEK = "?period=custom&start=2026-11-02&end=2026-11-08"  # 4 November is a holiday


def _busy_all_working_hours(unit, first_day: int, month: int = 10):
    """Bookings over every default working hour of a week: Mon–Fri 08–20, Sat 09–18."""
    for offset in range(6):
        start_hour, end_hour = (9, 18) if offset == 5 else (8, 20)
        f.BookingFactory(
            unit=unit,
            start=msk(first_day + offset, start_hour, month=month),
            end=msk(first_day + offset, end_hour, month=month),
            busy_until=msk(first_day + offset, end_hour, month=month),
            equipment_type=unit.equipment_type,
            status="confirmed",
        )


def test_a_unit_busy_all_working_hours_shows_100_percent(ui, api):
    crane = f.UnitFactory(plate="А123ВС77")
    _busy_all_working_hours(crane, 5)
    response = ui(Role.DIRECTOR).get("/reports/fleet/" + WEEK)
    (row,) = [r for r in response.context["rows"] if r["plate"] == "А123ВС77"]
    assert row["booked_hours"] == Decimal("69.00")
    assert row["available_hours"] == Decimal("69.00")  # not 7 × 24 = 168
    assert row["utilisation"] == Decimal("1.0000")
    assert "working hours" in response.content.decode()
    # the API and the XLSX say the same
    data = api(Role.DIRECTOR).get("/api/v1/reports/fleet/" + WEEK).json()
    (api_row,) = [r for r in data["results"] if r["plate"] == "А123ВС77"]
    assert Decimal(str(api_row["utilisation"])) == Decimal("1")
    assert Decimal(str(api_row["available_hours"])) == Decimal("69")
    book = openpyxl.load_workbook(
        io.BytesIO(
            b"".join(ui(Role.DIRECTOR).get("/reports/fleet/" + WEEK + "&format=xlsx").streaming_content)
        )
    )
    rows = list(book.active.iter_rows(values_only=True))
    header = next(r for r in rows if r and "Utilisation" in r)
    (xlsx_row,) = [r for r in rows if r and r[0] == "А123ВС77"]
    assert Decimal(str(xlsx_row[header.index("Utilisation")])) == Decimal("1")
    assert Decimal(str(xlsx_row[header.index("Available hours")])) == Decimal("69")
    totals = response.context["totals"]
    assert totals["utilisation"] == Decimal("1.0000")
    by_type = {g["equipment_type"]: g for g in response.context["by_type"]}
    assert by_type[crane.equipment_type.name]["utilisation"] == Decimal("1.0000")


def test_a_public_holiday_reduces_the_available_hours(ui):
    crane = f.UnitFactory(plate="А123ВС77")
    f.BookingFactory(
        unit=crane,
        start=msk(2, 8, month=11),
        end=msk(2, 20, month=11),
        equipment_type=crane.equipment_type,
        busy_until=msk(2, 20, month=11),
        status="confirmed",
    )
    rows = ui(Role.DIRECTOR).get("/reports/fleet/" + NOVEMBER_WEEK).context["rows"]
    (row,) = [r for r in rows if r["plate"] == "А123ВС77"]
    assert row["available_hours"] == Decimal(4 * 12 + 9)  # Wednesday 4.11 is a holiday
    assert row["utilisation"] == (Decimal(12) / Decimal(57)).quantize(Decimal("0.0001"))


def test_maintenance_is_taken_out_in_working_hours_and_counted_once(ui):
    crane = f.UnitFactory(plate="А123ВС77")
    # Monday all day and an overlapping window into Tuesday noon: 12 h + 4 h of work
    f.MaintenanceWindowFactory(unit=crane, start=msk(5, 0), end=msk(6, 0))
    f.MaintenanceWindowFactory(unit=crane, start=msk(5, 18), end=msk(6, 12))
    # Sunday is a day off: maintenance then takes no working hours
    f.MaintenanceWindowFactory(unit=crane, start=msk(11, 0), end=msk(11, 23))
    rows = ui(Role.DIRECTOR).get("/reports/fleet/" + WEEK).context["rows"]
    (row,) = [r for r in rows if r["plate"] == "А123ВС77"]
    assert row["maintenance_hours"] == Decimal("16.00")
    assert row["available_hours"] == Decimal(69 - 16)
