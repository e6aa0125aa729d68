"""Reads about bookings: conflicts of a time range, availability of units and drivers."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from arenda.bookings.models import Booking, ShiftReport
from arenda.core.models import CompanySettings
from arenda.directory.models import Driver, MaintenanceWindow, Unit
from arenda.directory.selectors import qualification_gaps


def transit_buffer() -> timedelta:
    return timedelta(minutes=CompanySettings.current().transit_buffer_minutes)


def busy_range(start: datetime, end: datetime, buffer: timedelta | None = None) -> tuple[datetime, datetime]:
    """The range a booking keeps its unit and driver busy: [start, end + transit buffer)."""
    return start, end + (transit_buffer() if buffer is None else buffer)


def maintenance_conflicts(unit_id: int, start: datetime, end: datetime):
    return list(
        MaintenanceWindow.objects.filter(unit_id=unit_id, start__lt=end, end__gt=start).order_by("start")
    )


def license_expired(driver: Driver, end: datetime) -> bool:
    """A driver may not work a booking that ends after the licence's last valid day."""
    if driver.license_valid_until is None:
        return True
    return driver.license_valid_until < timezone.localdate(end)


@dataclass(frozen=True, slots=True)
class Busy:
    """A booking that blocks a unit or driver, as much as a list needs of it."""

    pk: int
    start: datetime
    end: datetime
    counterparty: str
    of_total: int = 1

    def get_absolute_url(self):
        return reverse("bookings:booking_detail", args=[self.pk])


@dataclass
class Availability:
    unit: Unit | Driver
    conflicts: list = field(default_factory=list)
    maintenance: list = field(default_factory=list)
    license_expired: bool = False
    # What the driver lacks for the type of machine (directory.selectors.Missing)
    missing: list = field(default_factory=list)

    @property
    def free(self) -> bool:
        return not (self.conflicts or self.maintenance or self.license_expired or self.missing)

    @property
    def qualified(self) -> bool:
        return not self.missing

    @property
    def busy_count(self) -> int:
        """How many bookings block it (``conflicts`` holds the first few)."""
        return self.conflicts[0].of_total if self.conflicts else 0


# A fortnight can hold dozens of bookings of one driver; the picker shows the first few
# and how many there are (Availability.busy_count).
CONFLICTS_SHOWN = 5


def _first_blocking(bookings, key: str) -> list[tuple]:
    """The first CONFLICTS_SHOWN blocking bookings per unit or driver with their count, as
    (owner, pk, start, end, total). The database numbers the rows so only those travel."""
    partition = [F(key)]
    ranked = bookings.annotate(
        rank=Window(RowNumber(), partition_by=partition, order_by=[F("start").asc(), F("pk").asc()]),
        total=Window(Count("pk"), partition_by=partition),
    ).filter(rank__lte=CONFLICTS_SHOWN)
    return list(ranked.order_by(key, "start").values_list(key, "pk", "start", "end", "total"))


def _with_customers(*groups: list[tuple]) -> list[dict[int, list]]:
    """The rows as Busy lists per owner, the customers' names fetched in one query for just
    these rows (joining before the numbering would join every blocking booking)."""
    pks = {row[1] for rows in groups for row in rows}
    names = (
        dict(Booking.objects.filter(pk__in=pks).values_list("pk", "deal__counterparty__name")) if pks else {}
    )
    result = []
    for rows in groups:
        found: dict[int, list] = {}
        for owner, pk, start, end, total in rows:
            found.setdefault(owner, []).append(Busy(pk, start, end, names.get(pk, ""), total))
        result.append(found)
    return result


def availability(
    *, equipment_type_id: int | None, min_capacity_t, start: datetime, end: datetime, exclude_booking=None
) -> tuple[list[Availability], list[Availability]]:
    """Every matching active unit and every active driver, free or busy, with what blocks
    it. Six queries whatever the number of rows: units, drivers, maintenance windows,
    and the first blocking bookings of each unit and each driver with their customers; two
    more when the type requires documents (the requirements, the drivers' documents).
    Drivers qualified for the type come first, then the others with what they lack."""
    range_start, busy_until = busy_range(start, end)
    # Only what a picker shows: timestamps and notes of a thousand rows cost real time.
    units_qs = (
        Unit.objects.filter(is_active=True)
        .select_related("equipment_type", "supplier")
        .only(
            "pk",
            "name",
            "plate",
            "capacity_t",
            "owner",
            "rate_per_hour",
            "rate_per_km",
            "min_hours",
            "equipment_type__name",
            "supplier__name",
        )
    )
    if equipment_type_id:
        units_qs = units_qs.filter(equipment_type_id=equipment_type_id)
    if min_capacity_t:
        units_qs = units_qs.filter(capacity_t__gte=min_capacity_t)
    units = list(units_qs.order_by("-capacity_t", "plate"))
    unit_ids = {u.pk for u in units}

    overlapping = Booking.objects.overlapping(range_start, busy_until)
    if exclude_booking is not None:
        overlapping = overlapping.exclude(pk=exclude_booking)
    by_unit, by_driver = _with_customers(
        _first_blocking(overlapping.filter(unit_id__in=unit_ids), "unit_id"),
        _first_blocking(overlapping.filter(driver__isnull=False), "driver_id"),
    )
    windows: dict[int, list] = {}
    for window in MaintenanceWindow.objects.filter(unit_id__in=unit_ids, start__lt=end, end__gt=start):
        windows.setdefault(window.unit_id, []).append(window)

    unit_rows = [Availability(u, by_unit.get(u.pk, []), windows.get(u.pk, [])) for u in units]
    last_day = timezone.localdate(end)
    drivers = list(
        Driver.objects.filter(is_active=True)
        .only("pk", "full_name", "phone", "employment", "license_valid_until", "hourly_pay")
        .order_by("full_name")
    )
    gaps = qualification_gaps([d.pk for d in drivers], equipment_type_id, last_day)
    driver_rows = [
        Availability(
            d,
            by_driver.get(d.pk, []),
            [],
            d.license_valid_until is None or d.license_valid_until < last_day,
            gaps[d.pk],
        )
        for d in drivers
    ]
    unit_rows.sort(key=lambda row: not row.free)
    driver_rows.sort(key=lambda row: (not row.qualified, not row.free))
    return unit_rows, driver_rows


def shift_reports_of_booking(booking_id) -> list[ShiftReport]:
    """The shift reports signed on site for a booking, newest first: the customer's
    confirmation of the hours (the booking page, an overtime invoice's page, the API)."""
    if not booking_id:
        return []
    return list(ShiftReport.objects.filter(booking_id=booking_id).order_by("-signed_at", "-id"))
