"""Reads about bookings: conflicts of a time range, availability of units and drivers."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q

from arenda.bookings.models import Booking
from arenda.core.models import CompanySettings
from arenda.directory.models import Driver, MaintenanceWindow, Unit


def transit_buffer() -> timedelta:
    return timedelta(minutes=CompanySettings.current().transit_buffer_minutes)


def busy_range(start: datetime, end: datetime, buffer: timedelta | None = None) -> tuple[datetime, datetime]:
    """The range a booking keeps its unit and driver busy: [start, end + transit buffer)."""
    return start, end + (transit_buffer() if buffer is None else buffer)


def unit_conflicts(unit_id: int, start: datetime, busy_until: datetime, *, exclude_booking=None):
    qs = Booking.objects.overlapping(start, busy_until).filter(unit_id=unit_id)
    if exclude_booking is not None:
        qs = qs.exclude(pk=exclude_booking)
    return list(qs.order_by("start"))


def driver_conflicts(driver_id: int, start: datetime, busy_until: datetime, *, exclude_booking=None):
    qs = Booking.objects.overlapping(start, busy_until).filter(driver_id=driver_id)
    if exclude_booking is not None:
        qs = qs.exclude(pk=exclude_booking)
    return list(qs.order_by("start"))


def maintenance_conflicts(unit_id: int, start: datetime, end: datetime):
    return list(
        MaintenanceWindow.objects.filter(unit_id=unit_id, start__lt=end, end__gt=start).order_by("start")
    )


def license_expired(driver: Driver, end: datetime) -> bool:
    """A driver may not work a booking that ends after the licence's last valid day."""
    from django.utils import timezone

    if driver.license_valid_until is None:
        return True
    return driver.license_valid_until < timezone.localdate(end)


@dataclass
class Availability:
    unit: Unit | Driver
    conflicts: list = field(default_factory=list)
    maintenance: list = field(default_factory=list)
    license_expired: bool = False

    @property
    def free(self) -> bool:
        return not (self.conflicts or self.maintenance or self.license_expired)


def availability(
    *, equipment_type_id: int | None, min_capacity_t, start: datetime, end: datetime, exclude_booking=None
) -> tuple[list[Availability], list[Availability]]:
    """Every matching active unit and every active driver, free or busy, with what blocks
    it. Three queries for units (units, bookings, maintenance) and two for drivers,
    whatever the number of rows."""
    range_start, busy_until = busy_range(start, end)
    units_qs = Unit.objects.filter(is_active=True).select_related("equipment_type", "supplier")
    if equipment_type_id:
        units_qs = units_qs.filter(equipment_type_id=equipment_type_id)
    if min_capacity_t:
        units_qs = units_qs.filter(capacity_t__gte=min_capacity_t)
    units = list(units_qs.order_by("-capacity_t", "plate"))
    unit_ids = [u.pk for u in units]

    overlapping = Booking.objects.overlapping(range_start, busy_until).select_related("deal__counterparty")
    if exclude_booking is not None:
        overlapping = overlapping.exclude(pk=exclude_booking)
    by_unit: dict[int, list] = {}
    by_driver: dict[int, list] = {}
    unit_id_set = set(unit_ids)
    for booking in overlapping.filter(Q(unit_id__in=unit_ids) | Q(driver__isnull=False)).order_by("start"):
        if booking.unit_id in unit_id_set:
            by_unit.setdefault(booking.unit_id, []).append(booking)
        if booking.driver_id:
            by_driver.setdefault(booking.driver_id, []).append(booking)
    windows: dict[int, list] = {}
    for window in MaintenanceWindow.objects.filter(unit_id__in=unit_ids, start__lt=end, end__gt=start):
        windows.setdefault(window.unit_id, []).append(window)

    unit_rows = [Availability(u, by_unit.get(u.pk, []), windows.get(u.pk, [])) for u in units]
    drivers = Driver.objects.filter(is_active=True).order_by("full_name")
    driver_rows = [Availability(d, by_driver.get(d.pk, []), [], license_expired(d, end)) for d in drivers]
    unit_rows.sort(key=lambda row: not row.free)
    driver_rows.sort(key=lambda row: not row.free)
    return unit_rows, driver_rows
