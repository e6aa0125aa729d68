"""Writes of waybills («путевой лист»): the first one completes its booking. What a waybill
sets off in billing — the overtime settlement, closing the booking when it is paid, the
deal following — is ``flows/trips.py``'s, which every path (the booking page, the API,
the driver's report) calls; it calls these.

The booking row is locked first, so two waybills of one booking saved at the same moment
settle one after the other and the second sees the first's invoice: nothing is billed twice.
Everything is checked before anything is written; a scan is stored only with a valid waybill.
"""

from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from arenda.bookings import ledger
from arenda.bookings.models import Booking, Waybill
from arenda.bookings.services import BookingConflict, booking_complete

# The scan's checks are shared with drivers' documents; re-exported for the waybill form.
from arenda.core.files import (  # noqa: F401
    CONTENT_TYPES,
    MAX_SCAN_BYTES,
    SCAN_KINDS,
    display_name,
    scan_kind,
    sniff,
)
from arenda.core.formats import format_number
from arenda.core.models import CompanySettings
from arenda.core.services import locked, set_author
from arenda.core.validators import period_error
from arenda.directory.selectors import pay_rate_on

FIELDS = (
    "number",
    "started_at",
    "finished_at",
    "hours",
    "km",
    "odometer_start",
    "odometer_end",
    "engine_hours",
    "downtime_hours",
    "notes",
)


def scan_to_serve(waybill: Waybill):
    """``(open file, content type, download name)`` of a waybill's stored scan, or None when
    it has none or its file is gone. The type is the one sniffed at upload; a scan stored
    before that was kept is sniffed now (``application/octet-stream`` if it is none of the
    kinds). Who may read it is the caller's to check (docs/security.md, «Files»)."""
    if not waybill.scan:
        return None
    try:
        handle = waybill.scan.open("rb")
    except FileNotFoundError:
        return None
    content_type = waybill.scan_type
    if not content_type:
        content_type = CONTENT_TYPES.get(sniff(handle.read(32)), "application/octet-stream")
        handle.seek(0)
    name = waybill.scan_name or waybill.scan.name
    return handle, content_type, display_name(name, content_type, fallback=f"waybill-{waybill.pk}")


# --- checks -------------------------------------------------------------------------------------
def _hours_between(start, finish) -> Decimal:
    return Decimal((finish - start).total_seconds()) / Decimal(3600)


def _check(waybill: Waybill, booking: Booking, *, km_given: bool) -> None:
    """The rules of a waybill, all of them at once, by field."""
    errors: dict[str, str] = {}
    waybill.number = (waybill.number or "").strip()
    if not waybill.number:
        errors["number"] = _("Give the waybill number.")
    elif (
        Waybill.objects.filter(booking_id=booking.pk, number__iexact=waybill.number)
        .exclude(pk=waybill.pk)
        .exists()
    ):
        errors["number"] = _("This booking already has a waybill with this number.")
    start, finish = waybill.started_at, waybill.finished_at
    settings_row = CompanySettings.current()
    if start is None:
        errors["started_at"] = _("Give the start time.")
    elif start > timezone.now() + timedelta(minutes=settings_row.waybill_ahead_minutes):
        errors["started_at"] = _("The work has not started yet: a waybill is recorded after the job.")
    if finish is None:
        errors["finished_at"] = _("Give the finish time.")
    elif error := period_error(start, finish, _("The finish must be after the start.")):
        errors["finished_at"] = error
    if waybill.hours is None:
        errors["hours"] = _("Give the hours worked.")
    elif waybill.hours < 0:
        errors["hours"] = _("The hours cannot be negative.")
    elif start is not None and finish is not None and finish > start:
        tolerance = settings_row.waybill_tolerance_minutes
        span = finish - start + timedelta(minutes=tolerance)
        if waybill.hours > _hours_between(start, start + span):
            errors["hours"] = _(
                "%(hours)s h is more than the time from start to finish (%(span)s h, with %(tolerance)s min of tolerance)."
            ) % {
                "hours": format_number(waybill.hours),
                "span": format_number(_hours_between(start, finish)),
                "tolerance": tolerance,
            }
    if waybill.downtime_hours is None:
        waybill.downtime_hours = Decimal("0")
    if waybill.downtime_hours < 0:
        errors["downtime_hours"] = _("The downtime cannot be negative.")
    elif (
        start is not None
        and finish is not None
        and finish > start
        and (waybill.downtime_hours > _hours_between(start, finish))
    ):
        errors["downtime_hours"] = _("The downtime is longer than the time from start to finish.")
    o_start, o_end = waybill.odometer_start, waybill.odometer_end
    if o_start is not None and o_start < 0:
        errors["odometer_start"] = _("The odometer cannot be negative.")
    if o_end is not None and o_end < 0:
        errors["odometer_end"] = _("The odometer cannot be negative.")
    odometer = o_start is not None and o_end is not None
    if (o_start is None) != (o_end is None):
        missing = "odometer_end" if o_end is None else "odometer_start"
        errors.setdefault(missing, _("Give the odometer at both start and end, or at neither."))
    elif odometer and o_end < o_start:
        errors.setdefault("odometer_end", _("The odometer cannot go down: the end is below the start."))
    if waybill.km is not None and waybill.km < 0:
        errors["km"] = _("The kilometres cannot be negative.")
    elif odometer and o_end >= o_start and "odometer_start" not in errors:
        driven = o_end - o_start
        if not km_given or waybill.km is None:
            waybill.km = driven
        elif waybill.km != driven:
            errors["km"] = _("%(km)s km does not match the odometer (%(driven)s km driven).") % {
                "km": waybill.km,
                "driven": driven,
            }
    if waybill.km is None:
        waybill.km = Decimal("0")
    if waybill.engine_hours is not None:
        unit = booking.unit
        if unit is None or not unit.has_hour_meter:
            errors["engine_hours"] = _("This unit has no engine-hour meter; leave the engine hours empty.")
        elif waybill.engine_hours < 0:
            errors["engine_hours"] = _("The engine hours cannot be negative.")
    if errors:
        raise ValidationError(errors)


def waybill_check(*, booking: Booking, data: dict) -> dict:
    """The rules of a new waybill of ``booking`` on ``data`` (the names of ``FIELDS``), as
    the manager's form has them — every error at once, by field — without writing anything.
    Returns the data as a waybill would keep it (km taken from the odometer, no downtime =
    0). The driver's report from the trip page is checked with it (``trip_reports.py``)."""
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    waybill = Waybill(booking=booking)
    for name, value in data.items():
        setattr(waybill, name, value)
    _check(waybill, booking, km_given=data.get("km") is not None)
    return {
        name: getattr(waybill, name) for name in FIELDS if name in data or name in ("km", "downtime_hours")
    }


def _check_all(waybill: Waybill, booking: Booking, *, scan, km_given: bool) -> None:
    """The scan and the rules, every error at once."""
    errors: dict = {}
    for check in (
        lambda: scan is not None and scan_kind(scan),
        lambda: _check(waybill, booking, km_given=km_given),
    ):
        try:
            check()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)


def _copy_from_booking(waybill: Waybill, booking: Booking) -> None:
    waybill.unit = booking.unit
    waybill.driver = booking.driver
    # The rate for the unit's kind of machine when the driver has one, else the general one.
    machine = booking.unit.equipment_type_id if booking.unit_id else booking.equipment_type_id
    waybill.hourly_pay = (
        pay_rate_on(booking.driver, waybill.started_at, machine) if booking.driver else Decimal("0")
    )


def original_name(scan) -> str:
    """The uploader's file name, for display only (no path, at most 255 characters)."""
    name = str(getattr(scan, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable())[-255:]


def _save(waybill: Waybill, *, scan, by) -> None:
    if scan is not None:
        # Stored under a generated name with the extension of what the content is, whatever
        # the upload was called (models.waybill_scan_path; docs/security.md, «Files»).
        waybill.scan_type = CONTENT_TYPES[scan_kind(scan)]
        waybill.scan_name = original_name(scan)
        waybill.scan = scan
    # Every rule was checked by _check (the constraints stand behind it in the database).
    waybill.full_clean(exclude=["scan"], validate_unique=False, validate_constraints=False)
    set_author(waybill, by)
    waybill.save()


def _locked_booking(pk) -> Booking:
    locked(Booking, pk)
    return Booking.objects.select_related("unit", "driver", "deal").get(pk=pk)


@transaction.atomic
def waybill_create(
    *, booking: Booking, data: dict, by, scan=None, source: str = Waybill.Source.MANUAL
) -> Waybill:
    """Write a waybill of a booking (under the booking's lock, which the caller's
    transaction keeps). The first one completes a confirmed or dispatched booking."""
    booking = _locked_booking(booking.pk)
    if not booking.takes_waybills():
        raise BookingConflict(
            "wrong_status",
            _("A booking in status «%(status)s» takes no waybills.")
            % {"status": booking.get_status_display()},
        )
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    waybill = Waybill(
        booking=booking, source=source, created_by=by if getattr(by, "is_authenticated", False) else None
    )
    for name, value in data.items():
        setattr(waybill, name, value)
    _check_all(waybill, booking, scan=scan, km_given=data.get("km") is not None)  # before any write
    _copy_from_booking(waybill, booking)
    with scan_removed_on_error(waybill):
        _save(waybill, scan=scan, by=by)
        ledger.refresh([booking.pk])  # the reports' row of this trip (docs/trip-ledger.md)
        if booking.can_complete():
            waybill.booking = booking_complete(booking=booking, by=by)
    return waybill


@transaction.atomic
def waybill_correct(*, waybill: Waybill, data: dict, by, scan=None) -> Waybill:
    """Correct a waybill (under its booking's lock). A closed booking's waybills are final.
    A replaced scan's old file goes once the caller's transaction commits."""
    booking = _locked_booking(waybill.booking_id)
    if not booking.is_editable():
        raise BookingConflict("booking_closed", _("A closed booking's waybills cannot be changed."))
    waybill = locked(Waybill, waybill.pk)
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    for name, value in data.items():
        setattr(waybill, name, value)
    odometer_changed = "odometer_start" in data or "odometer_end" in data
    _check_all(waybill, booking, scan=scan, km_given=data.get("km") is not None or not odometer_changed)
    if "started_at" in data:
        _copy_from_booking(waybill, booking)
    old_scan = waybill.scan.name if (scan is not None and waybill.scan) else ""
    with scan_removed_on_error(waybill, only_new=scan is not None):
        _save(waybill, scan=scan, by=by)
        ledger.refresh([booking.pk])
    if old_scan and old_scan != waybill.scan.name:
        storage = waybill.scan.storage
        transaction.on_commit(lambda: storage.delete(old_scan))
    waybill.booking = booking
    return waybill


class scan_removed_on_error:
    """If anything fails after the scan was stored, the stored file goes too (the database
    rolls back; the file system would not). ``before``: the scan the waybill had before
    this change (kept), when the waybill has been saved with a new one already."""

    def __init__(self, waybill: Waybill, only_new: bool = True, before: str | None = None):
        self.waybill, self.only_new = waybill, only_new
        self.before = before if before is not None else (waybill.scan.name if waybill.scan else "")

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.only_new and self.waybill.scan:
            name = self.waybill.scan.name
            if name and name != self.before:
                self.waybill.scan.storage.delete(name)
        return False
