from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from arenda.bookings import services
from arenda.bookings.models import Booking
from arenda.bookings.services import BookingConflict
from arenda.core.models import CompanySettings
from arenda.flows import deals
from tests.factories import (
    BookingFactory,
    DriverFactory,
    EquipmentTypeFactory,
    MaintenanceWindowFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def crane_type():
    return EquipmentTypeFactory(name="Автокран")


def booking_at(crane_type, start, hours=8, **kw):
    return BookingFactory(equipment_type=crane_type, start=start, end=start + timedelta(hours=hours), **kw)


def at(day, hour, minute=0):
    base = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=day)
    return base.replace(hour=hour, minute=minute)


def test_reserve_assigns_and_moves_to_reserved(crane_type, make_user):
    unit, driver = UnitFactory(equipment_type=crane_type), DriverFactory()
    booking = booking_at(crane_type, at(3, 8))
    booking = services.booking_reserve(booking=booking, unit=unit, driver=driver, by=make_user())
    assert booking.status == Booking.Status.RESERVED
    assert booking.unit == unit and booking.driver == driver
    assert booking.busy_until == booking.end


def test_overlapping_unit_is_refused_with_the_conflicting_booking(crane_type, make_user):
    unit = UnitFactory(equipment_type=crane_type)
    first = booking_at(crane_type, at(3, 8))
    services.booking_reserve(booking=first, unit=unit, driver=DriverFactory(), by=make_user())
    second = booking_at(crane_type, at(3, 12))
    with pytest.raises(BookingConflict) as err:
        services.booking_reserve(booking=second, unit=unit, driver=DriverFactory(), by=make_user())
    assert err.value.code == "unit_busy"
    assert [c["booking"] for c in err.value.conflicts] == [first.pk]
    second.refresh_from_db()
    assert second.status == Booking.Status.DRAFT and second.unit is None


def test_overlapping_driver_is_refused(crane_type, make_user):
    driver = DriverFactory()
    services.booking_reserve(
        booking=booking_at(crane_type, at(3, 8)),
        unit=UnitFactory(equipment_type=crane_type),
        driver=driver,
        by=None,
    )
    with pytest.raises(BookingConflict) as err:
        services.booking_reserve(
            booking=booking_at(crane_type, at(3, 15)),
            unit=UnitFactory(equipment_type=crane_type),
            driver=driver,
            by=None,
        )
    assert err.value.code == "driver_busy"


def test_morning_and_afternoon_jobs_on_one_day_are_fine(crane_type):
    unit, driver = UnitFactory(equipment_type=crane_type), DriverFactory()
    services.booking_reserve(
        booking=booking_at(crane_type, at(3, 7), hours=4), unit=unit, driver=driver, by=None
    )
    services.booking_reserve(
        booking=booking_at(crane_type, at(3, 13), hours=4), unit=unit, driver=driver, by=None
    )
    assert Booking.objects.active().filter(unit=unit).count() == 2


def test_touching_ranges_are_fine_without_buffer_and_conflict_with_one(crane_type):
    unit, driver = UnitFactory(equipment_type=crane_type), DriverFactory()
    services.booking_reserve(
        booking=booking_at(crane_type, at(3, 8), hours=4), unit=unit, driver=driver, by=None
    )
    services.booking_reserve(
        booking=booking_at(crane_type, at(3, 12), hours=4), unit=unit, driver=driver, by=None
    )

    CompanySettings.objects.update_or_create(pk=1, defaults={"transit_buffer_minutes": 30})
    services.booking_reserve(
        booking=booking_at(crane_type, at(4, 8), hours=4), unit=unit, driver=driver, by=None
    )
    with pytest.raises(BookingConflict) as err:
        services.booking_reserve(
            booking=booking_at(crane_type, at(4, 12), hours=4), unit=unit, driver=driver, by=None
        )
    assert err.value.code == "unit_busy"
    # 30 minutes later than the end is fine again.
    services.booking_reserve(
        booking=booking_at(crane_type, at(4, 12, 30), hours=4), unit=unit, driver=driver, by=None
    )


def test_a_booking_before_another_is_widened_by_the_buffer_too(crane_type):
    unit = UnitFactory(equipment_type=crane_type)
    CompanySettings.objects.update_or_create(pk=1, defaults={"transit_buffer_minutes": 60})
    services.booking_reserve(
        booking=booking_at(crane_type, at(3, 12), hours=4), unit=unit, driver=DriverFactory(), by=None
    )
    with pytest.raises(BookingConflict):
        services.booking_reserve(
            booking=booking_at(crane_type, at(3, 7, 30), hours=4),  # ends 11:30, 30 min before
            unit=unit,
            driver=DriverFactory(),
            by=None,
        )


def test_time_zones_moscow_and_utc_describe_the_same_instant(crane_type):
    unit = UnitFactory(equipment_type=crane_type)
    moscow_start = at(3, 10)  # 10:00 Moscow == 07:00 UTC
    services.booking_reserve(
        booking=booking_at(crane_type, moscow_start, hours=2), unit=unit, driver=DriverFactory(), by=None
    )
    utc_start = moscow_start.astimezone(UTC)
    assert utc_start.hour == 7
    with pytest.raises(BookingConflict):
        services.booking_reserve(
            booking=booking_at(crane_type, utc_start + timedelta(hours=1), hours=2),
            unit=unit,
            driver=DriverFactory(),
            by=None,
        )
    # 12:00 Moscow (09:00 UTC) starts exactly when the first ends.
    services.booking_reserve(
        booking=booking_at(crane_type, utc_start + timedelta(hours=2), hours=2),
        unit=unit,
        driver=DriverFactory(),
        by=None,
    )


def test_maintenance_window_refuses(crane_type):
    unit = UnitFactory(equipment_type=crane_type)
    MaintenanceWindowFactory(unit=unit, start=at(3, 0), end=at(3, 12))
    with pytest.raises(BookingConflict) as err:
        services.booking_reserve(
            booking=booking_at(crane_type, at(3, 10)), unit=unit, driver=DriverFactory(), by=None
        )
    assert err.value.code == "unit_maintenance"
    services.booking_reserve(
        booking=booking_at(crane_type, at(3, 12)), unit=unit, driver=DriverFactory(), by=None
    )


def test_licence_expiring_before_the_end_refuses(crane_type):
    driver = DriverFactory(license_valid_until=timezone.localdate(at(3, 8)))
    unit = UnitFactory(equipment_type=crane_type)
    services.booking_reserve(booking=booking_at(crane_type, at(3, 8)), unit=unit, driver=driver, by=None)
    with pytest.raises(BookingConflict) as err:
        services.booking_reserve(booking=booking_at(crane_type, at(4, 8)), unit=unit, driver=driver, by=None)
    assert err.value.code == "license_expired"


def test_wrong_type_capacity_or_inactive_unit_is_a_validation_error(crane_type):
    other = UnitFactory(equipment_type=EquipmentTypeFactory(name="Экскаватор"))
    small = UnitFactory(equipment_type=crane_type, capacity_t=Decimal("5"))
    idle = UnitFactory(equipment_type=crane_type, is_active=False)
    for unit, code in ((other, "wrong_type"), (small, "capacity"), (idle, "inactive")):
        with pytest.raises(ValidationError) as err:
            services.booking_reserve(
                booking=booking_at(crane_type, at(3, 8)), unit=unit, driver=DriverFactory(), by=None
            )
        assert "unit" in err.value.message_dict, code


def test_the_capacity_refusal_writes_tonnes_as_a_person_would(crane_type):
    """«The unit lifts 5 t, … at least 10 t», not «5.00 t» (the day board shows it where a block is dropped)."""
    small = UnitFactory(equipment_type=crane_type, capacity_t=Decimal("5"))
    with pytest.raises(ValidationError) as err:
        services.booking_reserve(
            booking=booking_at(crane_type, at(3, 8)), unit=small, driver=DriverFactory(), by=None
        )
    [message] = err.value.message_dict["unit"]
    assert " 5 t" in message and ".00" not in message


def test_cancel_frees_the_unit_at_once_and_needs_a_reason(crane_type):
    unit, driver = UnitFactory(equipment_type=crane_type), DriverFactory()
    first = services.booking_reserve(
        booking=booking_at(crane_type, at(3, 8)), unit=unit, driver=driver, by=None
    )
    with pytest.raises(ValidationError):
        deals.booking_cancel(booking=first, reason="  ", by=None)
    deals.booking_cancel(booking=first, reason="Заказчик перенёс работы", by=None)
    services.booking_reserve(booking=booking_at(crane_type, at(3, 8)), unit=unit, driver=driver, by=None)


def test_moving_a_reserved_booking_onto_another_is_refused(crane_type):
    unit, driver = UnitFactory(equipment_type=crane_type), DriverFactory()
    services.booking_reserve(booking=booking_at(crane_type, at(3, 8)), unit=unit, driver=driver, by=None)
    later = services.booking_reserve(
        booking=booking_at(crane_type, at(5, 8)), unit=unit, driver=driver, by=None
    )
    with pytest.raises(BookingConflict):
        services.booking_update(booking=later, start=at(3, 9), end=at(3, 17), by=None)
    later.refresh_from_db()
    assert later.start == at(5, 8)


def test_confirm_needs_prepayment_unless_the_customer_works_without(crane_type):
    unit, driver = UnitFactory(equipment_type=crane_type), DriverFactory()
    booking = services.booking_reserve(
        booking=booking_at(crane_type, at(3, 8)), unit=unit, driver=driver, by=None
    )
    with pytest.raises(BookingConflict) as err:
        deals.booking_confirm(booking=booking, by=None)
    assert err.value.code == "prepayment_missing"
    booking.deal.counterparty.prepayment_required = False
    booking.deal.counterparty.save()
    assert deals.booking_confirm(booking=booking, by=None).status == Booking.Status.CONFIRMED


@pytest.mark.postgres
def test_the_database_itself_refuses_an_overlap_on_postgresql(crane_type):
    unit = UnitFactory(equipment_type=crane_type)
    services.booking_reserve(
        booking=booking_at(crane_type, at(3, 8)), unit=unit, driver=DriverFactory(), by=None
    )
    rogue = booking_at(crane_type, at(3, 9))
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(pk=rogue.pk).update(unit=unit, status="reserved", busy_until=rogue.end)
