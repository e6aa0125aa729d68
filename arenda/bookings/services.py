"""Writes of bookings and supply orders. Every path — UI, API, admin, tasks — comes here;
what a booking's status sets off elsewhere (the deal follows, the prepayment that gates
confirming) is ``flows/deals.py``'s, which calls these.

The no-overlap rule: a unit or a driver is never in two active bookings whose busy
ranges [start, end + transit buffer) overlap. ``booking_reserve`` locks the booking,
then the unit, then the driver (always in this order, so two reservers cannot deadlock),
checks, and writes. On PostgreSQL the row locks serialise reservers of the same unit or
driver and the exclusion constraint stands behind them; on SQLite every transaction is
IMMEDIATE, so the whole check-and-write holds the database's write lock.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from arenda.bookings import ledger, selectors, telematics
from arenda.bookings.models import Booking, SupplyOrder
from arenda.core.formats import format_number
from arenda.core.metrics import BOOKING_CONFLICTS, BOOKINGS_RESERVED
from arenda.core.services import locked, record_create, record_update, set_author
from arenda.directory.models import Driver, Unit
from arenda.directory.selectors import driver_gaps


@dataclass
class BookingConflict(Exception):
    """A business conflict: the API answers 409 with ``code`` and ``conflicts`` (and, for
    ``driver_not_qualified``, ``missing``: what the driver lacks)."""

    code: str
    detail: str
    conflicts: list = field(default_factory=list)
    missing: list | None = None

    def __str__(self):
        return self.detail


# --- create / change ---------------------------------------------------------------------
@transaction.atomic
def booking_create(*, deal, by, **data) -> Booking:
    """A draft booking of a deal. Unit and driver are assigned by ``booking_reserve``."""
    data.pop("unit", None)
    data.pop("driver", None)
    data.pop("status", None)
    booking = Booking(deal=deal, created_by=by if getattr(by, "is_authenticated", False) else None)
    for name, value in data.items():
        setattr(booking, name, value)
    booking.full_clean()
    set_author(booking, by)
    booking.save()
    return booking


@transaction.atomic
def booking_update(*, booking: Booking, by, **data) -> Booking:
    """Change a booking's details. New times of a booking holding a unit or driver are
    checked against the no-overlap rule exactly as a new reservation is."""
    booking = locked(Booking, booking.pk)
    if not booking.is_editable():
        raise BookingConflict("booking_closed", _("A closed or cancelled booking cannot be changed."))
    deal = data.pop("deal", booking.deal)
    if getattr(deal, "pk", deal) != booking.deal_id:
        raise ValidationError({"deal": _("A booking stays in the deal it was made in.")}, code="fixed")
    refuse_frozen_changes(booking, data)
    data.pop("status", None)
    unit, driver = data.pop("unit", booking.unit), data.pop("driver", booking.driver)
    times_changed = any(name in data and data[name] != getattr(booking, name) for name in ("start", "end"))
    site_moved = any(
        name in data and data[name] != getattr(booking, name) for name in ("site_lat", "site_lon")
    )
    for name, value in data.items():
        setattr(booking, name, value)
    if times_changed and booking.busy_until is not None:
        # the new times' busy range (checked again under the locks below); the old one
        # would fail the ``booking_busy_covers_end`` constraint of a longer booking
        booking.busy_until = selectors.busy_range(booking.start, booking.end)[1]
    booking.full_clean(exclude=["unit", "driver"])
    if booking.is_active and booking.unit_id is None and unit is None:
        booking.busy_until = booking.end  # served by a supplier's machine: nothing of ours to check
    elif booking.is_active and (times_changed or unit != booking.unit or driver != booking.driver):
        return _reserve_locked(booking=booking, unit=unit, driver=driver, by=by, fields=None)
    set_author(booking, by)
    booking.save()
    if booking.waybills.exists():  # its trips' rows follow (docs/trip-ledger.md)
        ledger.refresh([booking.pk])
    if site_moved:  # the time on site is measured again (docs/telematics.md)
        telematics.site_moved(booking)
    return booking


def refuse_frozen_changes(booking: Booking, data: dict) -> None:
    """Past dispatch a booking's terms (times, hours, rates) are final: a change to one of
    them is refused (``booking_frozen``); the same values again are no change."""
    if booking.terms_frozen() and any(
        name in data and data[name] != getattr(booking, name) for name in Booking.TERMS
    ):
        raise BookingConflict(
            "booking_frozen",
            _("The job is done: its times, hours and rates are final. Correct the waybill instead."),
        )


@transaction.atomic
def booking_move(
    *, booking: Booking, unit: Unit | None, driver: Driver | None, start, end, version, by
) -> Booking:
    """Move a placed booking to another unit or driver and/or time (the day board's drag,
    ``docs/day-board.md``). ``version`` is the ``updated_at`` the mover saw: a booking
    changed since is refused (``stale_board``). Everything else is ``booking_update``'s —
    the same locks, overlap, maintenance and qualification rules as any reservation."""
    current = locked(Booking, booking.pk)
    if current.updated_at != version:
        raise BookingConflict(
            "stale_board", _("The booking was changed by someone else since the board was loaded.")
        )
    if not current.is_active or current.unit_id is None:
        raise BookingConflict("not_placed", _("Only a booking holding a unit can be moved on the board."))
    return booking_update(booking=current, by=by, unit=unit, driver=driver, start=start, end=end)


# --- reserve -------------------------------------------------------------------------------
@transaction.atomic
def booking_reserve(*, booking: Booking, unit: Unit | None, driver: Driver | None, by) -> Booking:
    """Assign a unit and a driver. Refuses (``BookingConflict``) a unit or driver busy in an
    overlapping active booking, a unit in maintenance, a driver whose licence expires
    before the end; refuses (``ValidationError``) a unit of another type, below the
    capacity, or inactive."""
    booking = (
        Booking.objects.select_for_update(of=("self",)).select_related("supply_order").get(pk=booking.pk)
    )
    try:
        if not booking.can_reserve():
            raise BookingConflict(
                "wrong_status",
                _("A booking in status «%(status)s» cannot be reserved.")
                % {"status": booking.get_status_display()},
            )
        if hasattr(booking, "supply_order") and booking.supply_order.status != SupplyOrder.Status.CANCELLED:
            raise BookingConflict(
                "supplied", _("This booking is served by a supplier's machine (supply order).")
            )
    except BookingConflict as conflict:
        BOOKING_CONFLICTS.labels(code=conflict.code).inc()
        raise
    return _reserve_locked(booking=booking, unit=unit, driver=driver, by=by)


RESERVATION_FIELDS = ["unit", "driver", "busy_until", "status", "updated_at"]


def _reserve_locked(*, booking: Booking, unit, driver, by, fields=RESERVATION_FIELDS) -> Booking:
    """Check and write a reservation; the caller holds the booking's row lock and has
    validated every other field (``fields=None`` saves them all). Counted for /metrics
    (``arenda/core/metrics.py``): a reservation written, or the conflict that refused it."""
    try:
        booking = _reserve_checked(booking=booking, unit=unit, driver=driver, by=by, fields=fields)
    except BookingConflict as conflict:
        BOOKING_CONFLICTS.labels(code=conflict.code).inc()
        raise
    BOOKINGS_RESERVED.inc()
    return booking


def _reserve_checked(*, booking: Booking, unit, driver, by, fields) -> Booking:
    if unit is None or driver is None:
        raise ValidationError(
            {
                name: ValidationError(message, code="required")
                for name, value, message in (
                    ("unit", unit, _("Choose a unit.")),
                    ("driver", driver, _("Choose a driver.")),
                )
                if value is None
            }
        )
    unit = locked(Unit, unit.pk)
    driver = locked(Driver, driver.pk)
    _check_unit_fits(booking, unit)
    if not driver.is_active:
        raise ValidationError({"driver": _("This driver is not active.")}, code="inactive")

    windows = selectors.maintenance_conflicts(unit.pk, booking.start, booking.end)
    if windows:
        raise BookingConflict(
            "unit_maintenance",
            _("The unit %(unit)s is in maintenance then.") % {"unit": unit},
            [{"maintenance": w.pk, "start": w.start, "end": w.end, "reason": w.reason} for w in windows],
        )
    if selectors.license_expired(driver, booking.end):
        raise BookingConflict(
            "license_expired",
            _("%(driver)s's licence is not valid until the end of the booking (valid until: %(date)s).")
            % {"driver": driver, "date": driver.license_valid_until or _("not recorded")},
        )
    _raise_if_not_qualified(booking, driver)
    start, busy_until = selectors.busy_range(booking.start, booking.end)
    _raise_if_busy(booking, unit, driver, start, busy_until)

    booking.unit, booking.driver, booking.busy_until = unit, driver, busy_until
    if booking.status == Booking.Status.DRAFT:
        booking.status = Booking.Status.RESERVED
    # No full_clean here: every value just set was checked above (and its row is locked);
    # full_clean would re-query each foreign key and each check constraint.
    # Every service path locks the unit and the driver first, so on PostgreSQL the
    # exclusion constraint can only fire for a writer that bypassed the services; it then
    # stops the write with an IntegrityError (the API answers 409 "conflict").
    set_author(booking, by)
    booking.save(update_fields=fields)
    return booking


def _raise_if_not_qualified(booking: Booking, driver: Driver) -> None:
    """The documents the booking's type of machine requires (``EquipmentTypeRequirement``),
    each valid until the booking's last day (``directory.selectors.qualification_gaps``).
    Checked with the driver's row locked, like the overlap."""
    missing = driver_gaps(driver, booking.equipment_type_id, booking.end)
    if missing:
        raise BookingConflict(
            "driver_not_qualified",
            _("%(driver)s lacks what this machine requires: %(missing)s.")
            % {"driver": driver, "missing": "; ".join(describe_missing(item) for item in missing)},
            missing=[item.as_dict() for item in missing],
        )


def describe_missing(item) -> str:
    """«Medical certificate (missing)», «Driving licence, category C (valid until 01.02.2027)»."""
    if item.reason == "expires":
        return _("%(document)s (valid until %(date)s)") % {
            "document": item.label,
            "date": f"{item.valid_until:%d.%m.%Y}",
        }
    return _("%(document)s (missing)") % {"document": item.label}


def _check_unit_fits(booking: Booking, unit: Unit) -> None:
    if not unit.is_active:
        raise ValidationError({"unit": _("This unit is not active.")}, code="inactive")
    if unit.equipment_type_id != booking.equipment_type_id:
        raise ValidationError(
            {
                "unit": _("The unit is a «%(type)s», the booking needs another type.")
                % {"type": unit.equipment_type}
            },
            code="wrong_type",
        )
    if unit.capacity_t < booking.min_capacity_t:
        raise ValidationError(
            {
                "unit": _("The unit lifts %(has)s t, the booking needs at least %(needs)s t.")
                % {"has": format_number(unit.capacity_t), "needs": format_number(booking.min_capacity_t)}
            },
            code="capacity",
        )


def _conflict_rows(bookings):
    return [{"booking": b.pk, "start": b.start, "end": b.end} for b in bookings]


def _raise_if_busy(booking, unit, driver, start, busy_until) -> None:
    """One query for both rules; the unit's conflict is reported first."""
    taken = list(
        Booking.objects.overlapping(start, busy_until)
        .filter(Q(unit_id=unit.pk) | Q(driver_id=driver.pk))
        .exclude(pk=booking.pk)
        .order_by("start")
        .only("pk", "start", "end", "unit_id", "driver_id")
    )
    unit_taken = [b for b in taken if b.unit_id == unit.pk]
    if unit_taken:
        raise BookingConflict(
            "unit_busy",
            _("The unit %(unit)s is already booked at that time.") % {"unit": unit},
            _conflict_rows(unit_taken),
        )
    if taken:
        raise BookingConflict(
            "driver_busy",
            _("The driver %(driver)s is already booked at that time.") % {"driver": driver},
            _conflict_rows(taken),
        )


# --- supply, confirm, complete, cancel -------------------------------------------------------
@transaction.atomic
def booking_request_supply(*, booking: Booking, supplier, by, **data) -> SupplyOrder:
    """A supplier's machine will serve this booking: the booking holds none of our units or
    drivers and counts as reserved."""
    booking = locked(Booking, booking.pk)
    if not booking.can_request_supply():
        raise BookingConflict(
            "wrong_status", _("Only a draft or reserved booking can be given to a supplier.")
        )
    existing = SupplyOrder.objects.filter(booking=booking).first()
    if existing is not None and existing.status != SupplyOrder.Status.CANCELLED:
        raise BookingConflict("supply_exists", _("This booking already has a supply order."))
    if existing is not None:
        existing.delete()
    order = record_create(SupplyOrder, data={"booking": booking, "supplier": supplier, **data}, by=by)
    booking.unit = booking.driver = None
    booking.busy_until = booking.end
    booking.status = Booking.Status.RESERVED
    set_author(booking, by)
    booking.save()
    return order


@transaction.atomic
def supply_order_set_status(*, supply_order: SupplyOrder, status: str, by) -> SupplyOrder:
    supply_order = locked(SupplyOrder, supply_order.pk)
    if status not in supply_order.next_statuses():
        raise BookingConflict(
            "wrong_status",
            _("A supply order cannot go from «%(old)s» to «%(new)s».")
            % {"old": supply_order.get_status_display(), "new": SupplyOrder.Status(status).label},
        )
    supply_order = record_update(supply_order, data={"status": status}, by=by)
    if status == SupplyOrder.Status.CANCELLED:
        booking = locked(Booking, supply_order.booking_id)
        if booking.status == Booking.Status.RESERVED:
            booking.status, booking.busy_until = Booking.Status.DRAFT, None
            set_author(booking, by)
            booking.save()
    return supply_order


@transaction.atomic
def booking_confirm(*, booking: Booking, by, prepayment_satisfied: bool) -> Booking:
    """Confirm a reserved booking. Whether the customer's prepayment allows it is billing's
    rule (``billing/rules.py``): ``flows/deals.py`` asks it and passes the answer."""
    booking = locked(Booking, booking.pk)
    if not booking.can_confirm():
        raise BookingConflict("wrong_status", _("Only a reserved booking can be confirmed."))
    if not prepayment_satisfied:
        raise BookingConflict(
            "prepayment_missing",
            _("The customer works with prepayment: the prepayment invoice of this booking is not paid yet."),
        )
    booking.status = Booking.Status.CONFIRMED
    set_author(booking, by)
    booking.save()
    return booking


@transaction.atomic
def booking_complete(*, booking: Booking, by) -> Booking:
    """The job is done (the waybill capability calls this when a waybill is recorded)."""
    booking = locked(Booking, booking.pk)
    if not booking.can_complete():
        raise BookingConflict("wrong_status", _("Only a confirmed or dispatched booking can be completed."))
    booking.status = Booking.Status.COMPLETED
    set_author(booking, by)
    booking.save()
    return booking


@transaction.atomic
def booking_close(*, booking: Booking, by) -> Booking:
    """A completed booking is closed: its work is done and paid (``flows/trips.py`` decides
    when, by billing's rule)."""
    booking = locked(Booking, booking.pk)
    if booking.status != Booking.Status.COMPLETED:
        raise BookingConflict("wrong_status", _("Only a completed booking can be closed."))
    booking.status = Booking.Status.CLOSED
    set_author(booking, by)
    booking.save()
    return booking


@transaction.atomic
def booking_cancel(*, booking: Booking, reason: str, by) -> Booking:
    """Cancel: the unit and driver are free at once (a cancelled booking is not active)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the booking is cancelled.")}, code="required")
    booking = locked(Booking, booking.pk)
    if not booking.can_cancel():
        raise BookingConflict(
            "wrong_status",
            _("A booking in status «%(status)s» cannot be cancelled.")
            % {"status": booking.get_status_display()},
        )
    booking.status = Booking.Status.CANCELLED
    booking.cancel_reason = reason
    set_author(booking, by)
    booking.save()
    supply = SupplyOrder.objects.filter(booking=booking).exclude(status=SupplyOrder.Status.CANCELLED).first()
    if supply is not None and supply.status != SupplyOrder.Status.COMPLETED:
        record_update(supply, data={"status": SupplyOrder.Status.CANCELLED}, by=by)
    return booking
