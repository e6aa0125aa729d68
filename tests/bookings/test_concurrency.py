"""However concurrent the requests, no unit and no driver is double-booked — on SQLite
(IMMEDIATE transactions) and on PostgreSQL (row locks + the exclusion constraint)."""

import multiprocessing
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from arenda.bookings import services
from arenda.bookings.models import Booking
from arenda.bookings.services import BookingConflict
from arenda.directory.models import Driver, Unit
from tests.factories import BookingFactory, DriverFactory, EquipmentTypeFactory, UnitFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _race(booking_ids, unit_for, driver_for):
    """Reserve every booking in its own thread, all released at once; returns outcomes."""
    barrier = threading.Barrier(len(booking_ids))
    outcomes = {}

    def worker(booking_id):
        try:
            barrier.wait()
            booking = Booking.objects.get(pk=booking_id)
            services.booking_reserve(
                booking=booking,
                unit=Unit.objects.get(pk=unit_for(booking_id)),
                driver=Driver.objects.get(pk=driver_for(booking_id)),
                by=None,
            )
            outcomes[booking_id] = "ok"
        except BookingConflict as exc:
            outcomes[booking_id] = exc.code
        except Exception as exc:  # anything else is a failure of the test
            outcomes[booking_id] = f"error: {exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(pk,)) for pk in booking_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def _bookings(n, crane, start):
    return [
        BookingFactory(
            equipment_type=crane,
            start=start + timedelta(minutes=i),
            end=start + timedelta(hours=4, minutes=i),
        ).pk
        for i in range(n)
    ]


def _start():
    return (timezone.localtime() + timedelta(days=3)).replace(hour=8, minute=0, second=0, microsecond=0)


def test_twenty_threads_race_for_one_unit_exactly_one_wins():
    crane = EquipmentTypeFactory(name="Автокран")
    unit = UnitFactory(equipment_type=crane)
    drivers = [DriverFactory().pk for _ in range(20)]
    ids = _bookings(20, crane, _start())
    outcomes = _race(ids, lambda pk: unit.pk, lambda pk: drivers[ids.index(pk)])
    assert sorted(outcomes.values()).count("ok") == 1, outcomes
    assert set(outcomes.values()) == {"ok", "unit_busy"}, outcomes
    assert Booking.objects.active().filter(unit=unit).count() == 1


def test_twenty_threads_race_for_one_driver_on_different_units_exactly_one_wins():
    crane = EquipmentTypeFactory(name="Автокран")
    driver = DriverFactory()
    units = [UnitFactory(equipment_type=crane).pk for _ in range(20)]
    ids = _bookings(20, crane, _start())
    outcomes = _race(ids, lambda pk: units[ids.index(pk)], lambda pk: driver.pk)
    assert list(outcomes.values()).count("ok") == 1, outcomes
    assert set(outcomes.values()) == {"ok", "driver_busy"}, outcomes
    assert Booking.objects.active().filter(driver=driver).count() == 1


def _reserve_in_child(args):
    booking_id, unit_id, driver_id = args
    connections.close_all()
    try:
        services.booking_reserve(
            booking=Booking.objects.get(pk=booking_id),
            unit=Unit.objects.get(pk=unit_id),
            driver=Driver.objects.get(pk=driver_id),
            by=None,
        )
        return "ok"
    except BookingConflict as exc:
        return exc.code
    finally:
        connections.close_all()


@pytest.mark.postgres
def test_several_processes_race_for_one_unit_exactly_one_wins():
    crane = EquipmentTypeFactory(name="Автокран")
    unit = UnitFactory(equipment_type=crane)
    ids = _bookings(8, crane, _start())
    jobs = [(pk, unit.pk, DriverFactory().pk) for pk in ids]
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(4) as pool:
        outcomes = pool.map(_reserve_in_child, jobs)
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) == {"ok", "unit_busy"}
    assert Booking.objects.active().filter(unit=unit).count() == 1
