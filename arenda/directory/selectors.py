"""What several apps read about the reference data."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from arenda.directory.models import (
    Driver,
    DriverDocument,
    DriverPayRate,
    EquipmentTypeRequirement,
    parse_categories,
    requirement_label,
)

# A document expiring within this many days is shown on the dashboard and told to the admins.
EXPIRY_NOTICE_DAYS = 30


def pay_rate_on(driver: Driver, when: datetime | date, equipment_type=None) -> Decimal:
    """The driver's hourly pay valid at ``when`` (a moment, or a day in the company's time
    zone): the rate for ``equipment_type`` starting last on or before that day, else the
    general rate (no type) starting last then (``DriverPayRate``); before the driver's first
    dated rate, the pay their history held then, else the current pay."""
    day = timezone.localdate(when) if isinstance(when, datetime) else when
    type_id = getattr(equipment_type, "pk", equipment_type)
    rates = DriverPayRate.objects.filter(driver=driver, valid_from__lte=day)
    if type_id is None:
        rates = rates.filter(equipment_type__isnull=True)
    else:
        rates = rates.filter(Q(equipment_type__isnull=True) | Q(equipment_type_id=type_id))
    # The type's own rate first (the general ones have no type and sort after), then the latest.
    rate = (
        rates.order_by(F("equipment_type_id").desc(nulls_last=True), "-valid_from", "-id")
        .values_list("hourly_pay", flat=True)
        .first()
    )
    if rate is not None:
        return rate
    if isinstance(when, datetime):
        try:
            return driver.history.as_of(when).hourly_pay
        except Driver.DoesNotExist:
            pass
    return driver.hourly_pay


# --- qualifications ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Missing:
    """A requirement of the equipment type the driver does not meet on the last day:
    ``reason`` "missing" (no such document) or "expires" (the best one ends before;
    ``valid_until`` its last day)."""

    kind: str
    category: str
    reason: str
    valid_until: date | None = None

    @property
    def label(self) -> str:
        return requirement_label(self.kind, self.category)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "category": self.category,
            "label": str(self.label),
            "reason": self.reason,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }


class Held(NamedTuple):
    """A driver's document as the qualification check reads it: a plain row, not a model
    instance (the picker checks every driver's documents on every look)."""

    kind: str
    categories: tuple[str, ...]
    valid_until: date | None

    def category_list(self) -> tuple[str, ...]:
        return self.categories


def _held(driver_ids, kinds) -> dict[int, list[Held]]:
    """The documents of these kinds of these drivers, by driver: one query."""
    documents: dict[int, list[Held]] = {}
    for driver_id, kind, categories, valid_until in DriverDocument.objects.filter(
        driver_id__in=driver_ids, kind__in=kinds
    ).values_list("driver_id", "kind", "categories", "valid_until"):
        documents.setdefault(driver_id, []).append(
            Held(kind, tuple(parse_categories(categories)), valid_until)
        )
    return documents


def _covers(document: DriverDocument | Held, category: str) -> bool:
    return not category or category in document.category_list()


def gaps_of(documents, requirements, last_day: date) -> list[Missing]:
    """What ``requirements`` (kind, category) the ``documents`` of one driver leave unmet on
    ``last_day``: a requirement is met by a document of its kind (holding its category,
    when one is named) valid until ``last_day`` at least (no ``valid_until``: no expiry)."""
    result = []
    for kind, category in requirements:
        fitting = [d for d in documents if d.kind == kind and _covers(d, category)]
        if any(d.valid_until is None or d.valid_until >= last_day for d in fitting):
            continue
        if fitting:
            result.append(Missing(kind, category, "expires", max(d.valid_until for d in fitting)))
        else:
            result.append(Missing(kind, category, "missing"))
    return result


def requirements_of(equipment_type_id) -> list[tuple[str, str]]:
    """The (kind, category) a driver of this type of machine must hold (one query)."""
    if not equipment_type_id:
        return []
    return list(
        EquipmentTypeRequirement.objects.filter(equipment_type_id=equipment_type_id)
        .order_by("kind", "category")
        .values_list("kind", "category")
    )


def qualification_gaps(driver_ids, equipment_type_id, last_day: date) -> dict[int, list[Missing]]:
    """For each driver, what they lack to drive this type of machine until ``last_day``
    (company time zone): an empty list when qualified. Two queries whatever the number of
    drivers (the type's requirements, then the drivers' documents of those kinds), none
    for a type without requirements. The reserve check, the availability picker and the
    API all ask this."""
    driver_ids = list(driver_ids)
    requirements = requirements_of(equipment_type_id)
    if not requirements or not driver_ids:
        return {pk: [] for pk in driver_ids}
    documents = _held(driver_ids, {kind for kind, _category in requirements})
    return {pk: gaps_of(documents.get(pk, []), requirements, last_day) for pk in driver_ids}


def gaps_of_assignments(assignments) -> dict:
    """For many (key, driver_id, equipment_type_id, last_day) at once — bookings already
    reserved — what each driver lacks: ``{key: [Missing]}``, only the keys lacking
    something. Two queries at most (the types' requirements, the drivers' documents of
    those kinds), one when no type requires anything."""
    assignments = [row for row in assignments if row[1] and row[2]]
    if not assignments:
        return {}
    needed: dict[int, list[tuple[str, str]]] = {}
    for type_id, kind, category in (
        EquipmentTypeRequirement.objects.filter(equipment_type_id__in={row[2] for row in assignments})
        .order_by("kind", "category")
        .values_list("equipment_type_id", "kind", "category")
    ):
        needed.setdefault(type_id, []).append((kind, category))
    assignments = [row for row in assignments if row[2] in needed]
    if not assignments:
        return {}
    documents = _held(
        {row[1] for row in assignments}, {kind for rows in needed.values() for kind, _category in rows}
    )
    result = {}
    for key, driver_id, type_id, last_day in assignments:
        gaps = gaps_of(documents.get(driver_id, []), needed[type_id], last_day)
        if gaps:
            result[key] = gaps
    return result


def driver_gaps(driver: Driver, equipment_type_id, end: datetime) -> list[Missing]:
    """What one driver lacks for a booking of this type ending at ``end``."""
    return qualification_gaps([driver.pk], equipment_type_id, timezone.localdate(end))[driver.pk]


def documents_expiring(today: date | None = None, days: int = EXPIRY_NOTICE_DAYS):
    """Documents of active drivers whose last valid day falls from today to ``days`` ahead,
    soonest first, with their drivers (one query) — but not one already renewed (the driver
    holds another of its kind valid longer)."""
    today = today or timezone.localdate()
    renewed = DriverDocument.objects.filter(driver=OuterRef("driver"), kind=OuterRef("kind")).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=OuterRef("valid_until"))
    )
    return (
        DriverDocument.objects.filter(
            driver__is_active=True, valid_until__gte=today, valid_until__lte=today + timedelta(days=days)
        )
        .exclude(Exists(renewed))
        .select_related("driver")
        .order_by("valid_until", "driver__full_name", "pk")
    )
