"""The timeline board's data (``arenda/bookings/timeline.py``): bars placed by percent of the
range and clipped to it, rows grouped by type, maintenance shaded, suppliers' machines in
their own rows, drivers with an expired licence marked, and the day columns."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from arenda.bookings import services
from arenda.bookings.timeline import Span, build_timeline, day_start, month_shift, short_name
from tests.factories import (
    BookingFactory,
    DealFactory,
    DriverFactory,
    EquipmentTypeFactory,
    MaintenanceWindowFactory,
    SupplierFactory,
    UnitFactory,
)

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)  # before the board's range


def at(day_offset: int, hour: int) -> datetime:
    return day_start(MONDAY + timedelta(days=day_offset)) + timedelta(hours=hour)


def test_a_span_is_placed_by_percent_and_clipped_to_the_range():
    span = Span(at(0, 0), at(10, 0))
    assert span(at(1, 0), at(2, 0)) == ("10.000", "10.000")
    assert span(at(-3, 0), at(1, 0)) == ("0.000", "10.000"), "starts before the board: clipped"
    assert span(at(9, 12), at(12, 0)) == ("95.000", "5.000"), "ends after it: clipped"
    assert span(at(4, 0), at(4, 0))[1] == "0.150", "a moment still shows as a sliver"


def test_short_names_and_month_shifts():
    assert short_name("ООО «Мостострой»") == "Мостострой"
    assert short_name("ИП Иванов И. И.") == "Иванов И. И."
    assert short_name("Петров Пётр") == "Петров Пётр"
    assert month_shift(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert month_shift(date(2026, 1, 15), -1) == date(2025, 12, 15)


@pytest.mark.django_db
def test_units_grouped_by_type_with_bars_maintenance_and_suppliers():
    crane, manipulator = EquipmentTypeFactory(name="Автокран"), EquipmentTypeFactory(name="Манипулятор")
    big = UnitFactory(equipment_type=crane, capacity_t=50)
    small = UnitFactory(equipment_type=crane, capacity_t=25)
    other = UnitFactory(equipment_type=manipulator)
    customer = DealFactory(counterparty__name="ООО «Мостострой»")
    booking = BookingFactory(deal=customer, equipment_type=crane, start=at(1, 8), end=at(1, 17))
    services.booking_reserve(booking=booking, unit=small, driver=DriverFactory(), by=None)
    MaintenanceWindowFactory(unit=big, start=at(2, 0), end=at(3, 0), reason="ТО-2")
    supplied = BookingFactory(equipment_type=crane, start=at(4, 8), end=at(4, 16))
    services.booking_request_supply(
        booking=supplied, supplier=SupplierFactory(name="ООО «КранСервис»"), unit_plate="В555ВВ77", by=None
    )
    board = build_timeline(start=MONDAY, days=14, by="unit", today=MONDAY, now=NOW)

    titles = [group["title"] for group in board["groups"]]
    assert titles == ["Автокран", "Манипулятор", "Supplier machines"]
    cranes = board["groups"][0]["rows"]
    assert [row["obj"] for row in cranes] == [big, small], "the bigger crane first"
    (bar,) = cranes[1]["bars"]
    assert bar["label"] == "Мостострой" and bar["status"] == "reserved"
    assert float(bar["left"]) == pytest.approx((24 + 8) / (14 * 24) * 100, abs=0.001)
    assert cranes[0]["shaded"][0]["title"].startswith("ТО-2")
    assert board["groups"][1]["rows"][0]["obj"] == other and not board["groups"][1]["rows"][0]["bars"]
    (supplier_row,) = board["groups"][2]["rows"]
    assert supplier_row["obj"]["plate"] == "В555ВВ77" and supplier_row["bars"][0]["url"].endswith(
        f"/{supplied.pk}/"
    )


@pytest.mark.django_db
def test_drivers_with_an_expired_licence_are_marked():
    fine = DriverFactory(full_name="Алексеев Алексей")
    expired = DriverFactory(full_name="Борисов Борис", license_valid_until=MONDAY + timedelta(days=3))
    board = build_timeline(start=MONDAY, days=14, by="driver", today=MONDAY, now=NOW)
    (group,) = board["groups"]
    rows = {row["obj"]: row for row in group["rows"]}
    assert rows[fine]["expired"] is False and rows[expired]["expired"] is True


@pytest.mark.django_db
def test_columns_weekends_today_and_navigation():
    today = MONDAY + timedelta(days=2)
    board = build_timeline(start=MONDAY, days=14, by="unit", today=today, now=NOW)
    assert len(board["columns"]) == 14 and board["end"] == MONDAY + timedelta(days=13)
    assert [c["date"].weekday() for c in board["columns"] if c["weekend"]] == [5, 6, 5, 6]
    assert [c["date"] for c in board["columns"] if c["today"]] == [today]
    assert board["today_at"] is None, "now is before the range"
    inside = build_timeline(start=MONDAY, days=14, by="unit", today=today, now=at(7, 0))
    assert inside["today_at"] == "50.000"
    assert board["nav"]["prev_week"] == MONDAY - timedelta(days=7)
    assert board["nav"]["today"] == MONDAY and board["nav"]["next_month"] == date(2027, 1, 7)
    assert timezone.is_aware(day_start(MONDAY))
