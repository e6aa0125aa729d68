import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from arenda.bookings.models import Booking, SupplyOrder
from arenda.core.models import CompanySettings
from arenda.core.roles import Role
from tests.factories import (
    BookingFactory,
    CounterpartyFactory,
    DriverFactory,
    EquipmentTypeFactory,
    MaintenanceWindowFactory,
    SupplierFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db


def day_at(days, hour):
    return (timezone.localtime() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def crane():
    return EquipmentTypeFactory(name="Автокран")


def test_deal_and_booking_created_through_the_api(api, crane):
    client = api(Role.MANAGER)
    counterparty = CounterpartyFactory()
    deal = client.post("/api/v1/deals/", {"title": "Кран на Ленина", "counterparty": counterparty.pk})
    assert deal.status_code == 201, deal.data
    assert deal.data["manager"] == client.user.pk
    start = day_at(3, 8)
    created = client.post(
        "/api/v1/bookings/",
        {
            "deal": deal.data["id"],
            "equipment_type": crane.pk,
            "min_capacity_t": "25",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=8)).isoformat(),
            "site_address": "Москва, Ленина 1",
            "ordered_hours": "8",
            "min_hours": "4",
            "rate_per_hour": "3500.00",
            "rate_per_km": "0",
        },
    )
    assert created.status_code == 201, created.data
    assert created.data["status"] == "draft"
    assert created.data["unit"] is None


def test_booking_end_before_start_names_the_field(api, crane):
    deal = BookingFactory().deal
    start = day_at(3, 8)
    response = api(Role.MANAGER).post(
        "/api/v1/bookings/",
        {
            "deal": deal.pk,
            "equipment_type": crane.pk,
            "start": start.isoformat(),
            "end": (start - timedelta(hours=1)).isoformat(),
            "site_address": "x",
        },
    )
    assert response.status_code == 400 and "end" in response.data


def test_reserve_conflict_is_409_with_code_and_conflicts(api, crane):
    client = api(Role.MANAGER)
    unit = UnitFactory(equipment_type=crane)
    first = BookingFactory(equipment_type=crane, start=day_at(3, 8), end=day_at(3, 16))
    second = BookingFactory(equipment_type=crane, start=day_at(3, 12), end=day_at(3, 18))
    ok = client.post(f"/api/v1/bookings/{first.pk}/reserve/", {"unit": unit.pk, "driver": DriverFactory().pk})
    assert ok.status_code == 200 and ok.data["status"] == "reserved"
    busy = client.post(
        f"/api/v1/bookings/{second.pk}/reserve/", {"unit": unit.pk, "driver": DriverFactory().pk}
    )
    assert busy.status_code == 409
    assert busy.data["code"] == "unit_busy"
    assert busy.data["conflicts"][0]["booking"] == first.pk
    assert "start" in busy.data["conflicts"][0] and "end" in busy.data["conflicts"][0]


def test_reserve_maintenance_licence_and_wrong_type(api, crane):
    client = api(Role.MANAGER)
    unit = UnitFactory(equipment_type=crane)
    MaintenanceWindowFactory(unit=unit, start=day_at(3, 0), end=day_at(4, 0))
    booking = BookingFactory(equipment_type=crane, start=day_at(3, 8), end=day_at(3, 16))
    r = client.post(
        f"/api/v1/bookings/{booking.pk}/reserve/", {"unit": unit.pk, "driver": DriverFactory().pk}
    )
    assert (r.status_code, r.data["code"]) == (409, "unit_maintenance")
    expired = DriverFactory(license_valid_until=timezone.localdate() - timedelta(days=1))
    r = client.post(
        f"/api/v1/bookings/{booking.pk}/reserve/",
        {"unit": UnitFactory(equipment_type=crane).pk, "driver": expired.pk},
    )
    assert (r.status_code, r.data["code"]) == (409, "license_expired")
    r = client.post(
        f"/api/v1/bookings/{booking.pk}/reserve/",
        {
            "unit": UnitFactory(equipment_type=EquipmentTypeFactory(name="Экскаватор")).pk,
            "driver": DriverFactory().pk,
        },
    )
    assert r.status_code == 400 and "unit" in r.data
    r = client.post(f"/api/v1/bookings/{booking.pk}/reserve/", {"unit": "abc", "driver": 999999})
    assert r.status_code == 400 and set(r.data) == {"unit", "driver"}


def test_availability_lists_free_and_busy_with_what_blocks(api, crane):
    client = api(Role.MANAGER)
    busy_unit, free_unit = (
        UnitFactory(equipment_type=crane, capacity_t=Decimal("50")),
        UnitFactory(equipment_type=crane),
    )
    UnitFactory(equipment_type=crane, capacity_t=Decimal("5"))  # too small: not listed
    driver = DriverFactory()
    taken = BookingFactory(equipment_type=crane, start=day_at(3, 8), end=day_at(3, 16))
    client.post(f"/api/v1/bookings/{taken.pk}/reserve/", {"unit": busy_unit.pk, "driver": driver.pk})
    response = client.get(
        "/api/v1/availability/",
        {
            "equipment_type": crane.pk,
            "min_capacity_t": "20",
            "start": day_at(3, 10).isoformat(),
            "end": day_at(3, 12).isoformat(),
        },
    )
    assert response.status_code == 200
    units = {row["unit"]: row for row in response.data["units"]}
    assert set(units) == {busy_unit.pk, free_unit.pk}
    assert units[free_unit.pk]["free"] is True
    assert units[busy_unit.pk]["free"] is False and units[busy_unit.pk]["conflicts"][0]["booking"] == taken.pk
    drivers = {row["driver"]: row for row in response.data["drivers"]}
    assert drivers[driver.pk]["free"] is False
    bad = client.get("/api/v1/availability/", {"start": "tomorrow", "end": day_at(3, 12).isoformat()})
    assert bad.status_code == 400 and "start" in bad.data


def test_request_supply_confirm_and_cancel(api, crane):
    client = api(Role.MANAGER)
    booking = BookingFactory(equipment_type=crane, rate_per_hour=Decimal("4000.00"))
    supplier = SupplierFactory()
    r = client.post(
        f"/api/v1/bookings/{booking.pk}/request-supply/",
        {
            "supplier": supplier.pk,
            "unit_plate": "А777АА77",
            "driver_name": "Сидоров",
            "cost_per_hour": "3000.00",
        },
    )
    assert r.status_code == 201, r.data
    assert r.data["status"] == "requested"
    detail = client.get(f"/api/v1/bookings/{booking.pk}/")
    assert detail.data["status"] == "reserved" and detail.data["supply_order"] == r.data["id"]
    assert detail.data["margin_per_hour"] == "1000.00"
    confirm = client.post(f"/api/v1/bookings/{booking.pk}/confirm/")
    assert (confirm.status_code, confirm.data["code"]) == (409, "prepayment_missing")
    no_reason = client.post(f"/api/v1/bookings/{booking.pk}/cancel/", {})
    assert no_reason.status_code == 400 and "reason" in no_reason.data
    cancelled = client.post(f"/api/v1/bookings/{booking.pk}/cancel/", {"reason": "Заказчик отказался"})
    assert cancelled.status_code == 200 and cancelled.data["status"] == "cancelled"
    assert SupplyOrder.objects.get(pk=r.data["id"]).status == "cancelled"


def test_supply_order_status_moves_are_checked(api, crane):
    client = api(Role.MANAGER)
    booking = BookingFactory(equipment_type=crane)
    order = client.post(
        f"/api/v1/bookings/{booking.pk}/request-supply/", {"supplier": SupplierFactory().pk}
    ).data
    bad = client.patch(f"/api/v1/supply-orders/{order['id']}/", {"status": "completed"})
    assert (bad.status_code, bad.data["code"]) == (409, "wrong_status")
    good = client.patch(f"/api/v1/supply-orders/{order['id']}/", {"status": "confirmed"})
    assert good.status_code == 200 and good.data["status"] == "confirmed"


@pytest.mark.parametrize(
    ("role", "create", "act"),
    [
        (Role.ADMIN, 201, 200),
        (Role.MANAGER, 201, 200),
        (Role.ACCOUNTANT, 403, 403),
        (Role.DIRECTOR, 403, 403),
    ],
)
def test_booking_permissions(api, crane, role, create, act):
    client = api(role)
    booking = BookingFactory(equipment_type=crane)
    assert client.get("/api/v1/bookings/").status_code == 200
    start = day_at(5, 8)
    r = client.post(
        "/api/v1/bookings/",
        {
            "deal": booking.deal.pk,
            "equipment_type": crane.pk,
            "start": start.isoformat(),
            "end": (start + timedelta(hours=4)).isoformat(),
            "site_address": "x",
        },
    )
    assert r.status_code == create
    r = client.post(
        f"/api/v1/bookings/{booking.pk}/reserve/",
        {"unit": UnitFactory(equipment_type=crane).pk, "driver": DriverFactory().pk},
    )
    assert r.status_code == act
    assert (
        client.get(
            "/api/v1/availability/",
            {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()},
        ).status_code
        == 200
    )
    assert APIClient().get("/api/v1/bookings/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_twenty_api_requests_race_for_one_unit(make_user):
    crane = EquipmentTypeFactory(name="Автокран")
    unit = UnitFactory(equipment_type=crane)
    user = make_user(Role.MANAGER)
    jobs = [
        (BookingFactory(equipment_type=crane, start=day_at(3, 8), end=day_at(3, 12)).pk, DriverFactory().pk)
        for _ in range(20)
    ]
    barrier, statuses = threading.Barrier(20), []

    def worker(booking_id, driver_id):
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait()
            r = client.post(f"/api/v1/bookings/{booking_id}/reserve/", {"unit": unit.pk, "driver": driver_id})
            statuses.append((r.status_code, r.data.get("code")))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses).count((200, None)) == 1, statuses
    assert statuses.count((409, "unit_busy")) == 19, statuses
    assert Booking.objects.active().filter(unit=unit).count() == 1


def test_availability_shows_the_first_five_conflicts_and_the_count(api, crane):
    client = api(Role.MANAGER)
    unit, driver = UnitFactory(equipment_type=crane), DriverFactory()
    for hour in range(0, 21, 3):
        booking = BookingFactory(equipment_type=crane, start=day_at(3, hour), end=day_at(3, hour + 2))
        assert (
            client.post(
                f"/api/v1/bookings/{booking.pk}/reserve/", {"unit": unit.pk, "driver": driver.pk}
            ).status_code
            == 200
        )
    response = client.get(
        "/api/v1/availability/",
        {"equipment_type": crane.pk, "start": day_at(3, 0).isoformat(), "end": day_at(4, 0).isoformat()},
    )
    row = next(r for r in response.data["units"] if r["unit"] == unit.pk)
    assert row["busy_count"] == 7 and len(row["conflicts"]) == 5
    assert [c["start"] for c in row["conflicts"]] == sorted(c["start"] for c in row["conflicts"])


def test_availability_query_count_does_not_grow_with_rows(api, crane, django_assert_max_num_queries):
    client = api(Role.MANAGER)
    params = {"equipment_type": crane.pk, "start": day_at(3, 0).isoformat(), "end": day_at(5, 0).isoformat()}
    for _ in range(30):
        UnitFactory(equipment_type=crane)
        DriverFactory()
    for _ in range(10):
        b = BookingFactory(equipment_type=crane, start=day_at(3, 8), end=day_at(3, 12))
        client.post(
            f"/api/v1/bookings/{b.pk}/reserve/",
            {"unit": UnitFactory(equipment_type=crane).pk, "driver": DriverFactory().pk},
        )
    with django_assert_max_num_queries(12):
        assert client.get("/api/v1/availability/", params).status_code == 200


def test_reserve_names_a_unit_or_driver_that_does_not_exist_and_writes_nothing(api, crane):
    client = api(Role.MANAGER)
    booking = BookingFactory(equipment_type=crane, start=day_at(3, 8), end=day_at(3, 16))
    unit, driver = UnitFactory(equipment_type=crane), DriverFactory()
    url = f"/api/v1/bookings/{booking.pk}/reserve/"
    r = client.post(url, {"unit": 987654, "driver": driver.pk})
    assert r.status_code == 400 and list(r.data) == ["unit"]
    assert "987654" in str(r.data["unit"][0])
    r = client.post(url, {"unit": unit.pk, "driver": 987654})
    assert r.status_code == 400 and list(r.data) == ["driver"]
    r = client.post(url, {"unit": 987654, "driver": 987655})
    assert r.status_code == 400 and set(r.data) == {"unit", "driver"}
    r = client.post(url, {"unit": 2**63, "driver": "x"})
    assert r.status_code == 400 and set(r.data) == {"unit", "driver"}, r.data
    for body in ([1, 2], "x", 5, None):  # not an object: a 400, not a 500
        r = client.post(url, body, format="json")
        assert r.status_code == 400, body
    booking.refresh_from_db()
    assert (booking.unit_id, booking.driver_id, booking.status) == (None, None, "draft")


def test_reserve_reads_each_row_once(api, crane, django_assert_max_num_queries):
    """The unit and the driver are read under their locks only (not again by the
    serializer): the queries of one reservation do not grow."""
    client = api(Role.MANAGER)
    booking = BookingFactory(equipment_type=crane, start=day_at(3, 8), end=day_at(3, 16))
    unit, driver = UnitFactory(equipment_type=crane), DriverFactory()
    CompanySettings.current()  # made on first use, not by the reservation
    with django_assert_max_num_queries(13):
        r = client.post(f"/api/v1/bookings/{booking.pk}/reserve/", {"unit": unit.pk, "driver": driver.pk})
    assert r.status_code == 200
