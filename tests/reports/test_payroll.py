from datetime import timedelta
from decimal import Decimal

import pytest

from arenda.core.money import to_money
from arenda.core.roles import Role
from tests import factories as f
from tests.reports.conftest import MONTH, msk, trip

pytestmark = pytest.mark.django_db


@pytest.fixture
def month():
    staff = f.DriverFactory(full_name="Иванов Пётр", employment="staff")
    outside = f.DriverFactory(full_name="Сидоров Олег", employment="contractor")
    crane = f.UnitFactory(name="КС-45717", capacity_t=Decimal("25"), plate="А123ВС77")
    truck = f.UnitFactory(name="Манипулятор Isuzu", capacity_t=Decimal("5"), plate="В456ЕК77")
    waybills = [
        trip(day=3, hours="8.5", pay="612.50", unit=crane, driver=staff),
        trip(day=4, hours="7.25", pay="612.50", unit=crane, driver=staff),
        trip(day=10, hours="11", pay="700.00", unit=truck, driver=outside),
        trip(day=17, hours="3.33", pay="650.15", unit=truck, driver=outside),
    ]
    # outside the month: the day before and the day after (Moscow time)
    trip(day=30, month=9, hours="5", unit=crane, driver=staff)
    trip(day=1, month=11, hours="6", unit=truck, driver=outside)
    return {"staff": staff, "outside": outside, "waybills": waybills}


def test_payroll_totals_are_hours_times_pay_of_the_waybills(ui, month):
    response = ui(Role.ACCOUNTANT).get("/reports/payroll/" + MONTH)
    assert response.status_code == 200
    totals = response.context["totals"]
    expected = sum((to_money(w.hours * w.hourly_pay) for w in month["waybills"]), Decimal("0"))
    assert totals["amount"] == expected
    assert totals["hours"] == sum(w.hours for w in month["waybills"])
    assert totals["count"] == 4
    assert totals["staff_amount"] == to_money(Decimal("8.5") * Decimal("612.50")) + to_money(
        Decimal("7.25") * Decimal("612.50")
    )
    assert totals["contractor_amount"] == to_money(Decimal("11") * 700) + to_money(
        Decimal("3.33") * Decimal("650.15")
    )
    rows = response.context["rows"]
    assert [r["amount"] for r in rows] == [to_money(w.hours * w.hourly_pay) for w in month["waybills"]]
    assert rows[0]["equipment"] == "КС-45717" and rows[0]["plate"] == "А123ВС77"
    assert rows[0]["capacity_t"] == Decimal("25") and rows[0]["employment"] == "Staff"
    by_driver = {r["driver"]: r for r in response.context["by_driver"]}
    assert by_driver["Иванов Пётр"]["hours"] == Decimal("15.75")
    html = response.content.decode()
    assert "<svg" in html and "Earnings per driver" in html


def test_pay_snapshot_is_the_trips_not_the_current_rate(ui, month):
    month["staff"].hourly_pay = Decimal("9999.00")
    month["staff"].save()
    rows = ui(Role.DIRECTOR).get("/reports/payroll/" + MONTH + f"&driver={month['staff'].pk}").context["rows"]
    assert {r["hourly_pay"] for r in rows} == {Decimal("612.50")}


def test_filters_by_driver_and_employment(ui, month):
    client = ui(Role.DIRECTOR)
    rows = client.get("/reports/payroll/" + MONTH + "&employment=contractor").context["rows"]
    assert {r["driver"] for r in rows} == {"Сидоров Олег"}
    rows = client.get("/reports/payroll/" + MONTH + f"&driver={month['staff'].pk}").context["rows"]
    assert {r["driver"] for r in rows} == {"Иванов Пётр"} and len(rows) == 2


def test_period_edges_are_moscow_local_dates(ui):
    driver = f.DriverFactory()
    unit = f.UnitFactory()
    # 31 October 20:00–23:30 Moscow is 17:00–20:30 UTC: October
    late = trip(day=31, start_hour=20, hours="3.5", unit=unit, driver=driver)
    # 1 November 00:30 Moscow is 31 October 21:30 UTC: November
    early = trip(day=1, month=11, start_hour=0, hours="2", unit=f.UnitFactory(), driver=f.DriverFactory())
    early.started_at = msk(1, 0, 30, month=11)
    early.finished_at = early.started_at + timedelta(hours=2)
    early.save()
    assert early.started_at.astimezone(tz=None).utcoffset() is not None
    client = ui(Role.DIRECTOR)
    october = client.get("/reports/payroll/" + MONTH).context["rows"]
    assert [r["booking"] for r in october] == [late.booking_id]
    assert october[0]["date"].isoformat() == "2026-10-31"
    november = client.get("/reports/payroll/?period=custom&start=2026-11-01&end=2026-11-30").context["rows"]
    assert [r["booking"] for r in november] == [early.booking_id]


def test_driver_view_shows_their_trips_and_weeks(ui, month):
    response = ui(Role.DIRECTOR).get(f"/reports/payroll/driver/{month['outside'].pk}/" + MONTH)
    assert response.status_code == 200
    assert [r["driver"] for r in response.context["rows"]] == ["Сидоров Олег"] * 2
    weeks = response.context["weeks"]
    assert sum(w["hours"] for w in weeks) == Decimal("14.33")
    assert len(weeks) == 2  # 10 and 17 October are in different weeks
    assert "Earnings per week" in response.content.decode()


def test_sorting_by_amount_descending(ui, month):
    rows = ui(Role.DIRECTOR).get("/reports/payroll/" + MONTH + "&sort=-amount").context["rows"]
    amounts = [r["amount"] for r in rows]
    assert amounts == sorted(amounts, reverse=True)


def test_presets_cover_this_and_last_month(ui, time_machine):
    time_machine.move_to(msk(15, 12, month=11))
    client = ui(Role.DIRECTOR)
    period = client.get("/reports/payroll/?period=last_month").context["report"].period
    assert (period.start.isoformat(), period.end.isoformat()) == ("2026-10-01", "2026-10-31")
    period = client.get("/reports/payroll/").context["report"].period
    assert (period.start.isoformat(), period.end.isoformat()) == ("2026-11-01", "2026-11-30")
    period = client.get("/reports/payroll/?period=this_quarter").context["report"].period
    assert (period.start.isoformat(), period.end.isoformat()) == ("2026-10-01", "2026-12-31")
