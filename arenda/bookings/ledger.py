"""The trip ledger (docs/trip-ledger.md): one row per waybill with the figures the plates and
fleet reports sum, so a month's report is a range scan of one narrow table instead of a
look-up of every booking's other waybills.

One definition, :func:`compute`, serves the three writers: :func:`refresh` (a booking's rows,
in the transaction of the waybill or booking change that moved them), :func:`rebuild` (all
of it, in batches of bookings) and :func:`verify` (recompute and compare, writing nothing).
The rules are the invoices' (``billing/overtime.py`` bills a booking max(Σ hours, its
minimum order)): the top-up to the minimum order is on the booking's last waybill, money is
rounded half-up to kopecks per row (``core/money.py``), so the rows of a booking add up to
what was invoiced for it.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.apps import apps as global_apps
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django_tasks import task

from arenda.core.money import to_money

logger = logging.getLogger(__name__)

BATCH = 5000  # bookings per rebuild/verify batch
ZERO = Decimal("0.00")
# the columns compared by verify (all but the key)
COLUMNS = (
    "booking_id",
    "deal_id",
    "equipment_type_id",
    "unit_id",
    "driver_id",
    "supply_order_id",
    "started_at",
    "hours",
    "billed_hours",
    "km",
    "rate_per_hour",
    "rate_per_km",
    "revenue_hours_k",
    "revenue_km_k",
    "revenue_k",
    "cost_per_hour",
    "cost_k",
    "hourly_pay",
    "pay_k",
)


def _models(apps):
    """The models from ``apps`` (a migration's historical ones) or the current ones."""
    apps = apps or global_apps
    return (
        apps.get_model("bookings", "Booking"),
        apps.get_model("bookings", "Waybill"),
        apps.get_model("bookings", "SupplyOrder"),
        apps.get_model("bookings", "TripLedger"),
    )


def kopecks(quantity, price) -> int:
    """round_half_up(quantity × price, 2) in kopecks — ``core.money.product_kopecks`` in Python."""
    return int(to_money(Decimal(quantity) * Decimal(price)) * 100)


def compute(bookings, *, apps=None) -> dict[int, dict]:
    """The ledger rows of the waybills of ``bookings`` (a booking queryset filter: a list of
    ids or a ``Q``-able dict), keyed by waybill id, as ``TripLedger`` field values."""
    Booking, Waybill, SupplyOrder, _Ledger = _models(apps)
    where = bookings if isinstance(bookings, dict) else {"pk__in": list(bookings)}
    terms = {
        row[0]: row
        for row in Booking.objects.filter(**where).values_list(
            "pk", "deal_id", "equipment_type_id", "min_hours", "rate_per_hour", "rate_per_km"
        )
    }
    if not terms:
        return {}
    booking_where = {f"booking__{k}": v for k, v in where.items()}
    supply = {
        booking_id: (pk, cost)
        for booking_id, pk, cost in SupplyOrder.objects.filter(**booking_where).values_list(
            "booking_id", "pk", "cost_per_hour"
        )
    }
    trips = defaultdict(list)
    for row in (
        Waybill.objects.filter(**booking_where)
        .order_by("booking_id", "started_at", "pk")
        .values_list("pk", "booking_id", "started_at", "hours", "km", "unit_id", "driver_id", "hourly_pay")
    ):
        trips[row[1]].append(row)
    rows = {}
    for booking_id, waybills in trips.items():
        _pk, deal_id, type_id, min_hours, rate_h, rate_km = terms[booking_id]
        supply_id, supply_cost = supply.get(booking_id, (None, None))
        top_up = max(min_hours - sum((w[3] for w in waybills), ZERO), ZERO)
        last = len(waybills) - 1
        for i, (pk, _b, started_at, hours, km, unit_id, driver_id, hourly_pay) in enumerate(waybills):
            billed = hours + top_up if i == last else hours
            revenue_h, revenue_km = kopecks(billed, rate_h), kopecks(km, rate_km)
            cost_ph = supply_cost if unit_id is None else None
            rows[pk] = {
                "booking_id": booking_id,
                "deal_id": deal_id,
                "equipment_type_id": type_id,
                "unit_id": unit_id,
                "driver_id": driver_id,
                "supply_order_id": supply_id,
                "started_at": started_at,
                "hours": hours,
                "billed_hours": billed,
                "km": km,
                "rate_per_hour": rate_h,
                "rate_per_km": rate_km,
                "revenue_hours_k": revenue_h,
                "revenue_km_k": revenue_km,
                "revenue_k": revenue_h + revenue_km,
                "cost_per_hour": cost_ph,
                "cost_k": kopecks(hours, cost_ph) if cost_ph is not None else None,
                "hourly_pay": hourly_pay,
                "pay_k": kopecks(hours, hourly_pay),
            }
    return rows


def _write(rows: dict[int, dict], bookings: dict, *, apps=None) -> int:
    *_rest, Ledger = _models(apps)
    Ledger.objects.filter(**{f"booking__{k}": v for k, v in bookings.items()}).delete()
    Ledger.objects.bulk_create(
        [Ledger(waybill_id=pk, **values) for pk, values in rows.items()], batch_size=2000
    )
    return len(rows)


@transaction.atomic
def refresh(booking_ids: Iterable[int]) -> int:
    """Rewrite the ledger rows of these bookings from their waybills (the caller holds the
    booking's lock: the waybill writes and the booking's change do)."""
    where = {"pk__in": list(booking_ids)}
    return _write(compute(where), where)


@dataclass
class Drift:
    """What :func:`verify` found: rows missing from the ledger, rows it holds for no waybill,
    rows whose figures differ (with the columns that differ), each by waybill id."""

    checked: int = 0
    missing: list[int] = field(default_factory=list)
    extra: list[int] = field(default_factory=list)
    different: dict[int, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.different)


def _batches(apps=None):
    Booking, *_rest = _models(apps)
    bounds = Booking.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return
    for start in range(bounds["lo"], bounds["hi"] + 1, BATCH):
        yield {"pk__gte": start, "pk__lt": start + BATCH}


def rebuild(*, apps=None, progress=None) -> int:
    """Rewrite the whole ledger from the waybills, a batch of bookings per transaction."""
    written = 0
    for where in _batches(apps):
        with transaction.atomic():
            written += _write(compute(where, apps=apps), where, apps=apps)
        if progress:
            progress(written)
    return written


def verify(*, apps=None, batches=None) -> Drift:
    """Recompute every row (or those of ``batches`` of bookings) and compare it with the
    ledger; writes nothing."""
    *_rest, Ledger = _models(apps)
    drift = Drift()
    for where in batches if batches is not None else _batches(apps):
        expected = compute(where, apps=apps)
        stored = {
            row["waybill_id"]: row
            for row in Ledger.objects.filter(**{f"booking__{k}": v for k, v in where.items()}).values(
                "waybill_id", *COLUMNS
            )
        }
        drift.checked += len(expected)
        drift.missing += sorted(set(expected) - set(stored))
        drift.extra += sorted(set(stored) - set(expected))
        for pk in set(expected) & set(stored):
            changed = [name for name in COLUMNS if expected[pk][name] != stored[pk][name]]
            if changed:
                drift.different[pk] = changed
    return drift


RECENT_DAYS = 45


def repair_recent(days: int = RECENT_DAYS) -> Drift:
    """Verify the rows of the bookings with a trip in the last ``days`` days and rewrite the
    bookings whose rows drifted (a write that bypassed the services: a database edit by
    hand, a restored backup), logging each; the nightly job (``PERIODIC_JOBS``)."""
    _Booking, Waybill, _Supply, Ledger = _models(None)
    since = timezone.now() - timedelta(days=days)
    ids = sorted(set(Waybill.objects.filter(started_at__gte=since).values_list("booking_id", flat=True)))
    batches = [{"pk__in": ids[i : i + BATCH]} for i in range(0, len(ids), BATCH)]
    drift = verify(batches=batches)
    if not drift.ok:
        wrong = set(drift.missing) | set(drift.extra) | set(drift.different)
        bookings = set(Waybill.objects.filter(pk__in=wrong).values_list("booking_id", flat=True))
        bookings |= set(Ledger.objects.filter(pk__in=wrong).values_list("booking_id", flat=True))
        refresh(sorted(bookings))
        logger.warning(
            "trip ledger rewritten for %d bookings: %d rows missing, %d extra, %d different",
            len(bookings),
            len(drift.missing),
            len(drift.extra),
            len(drift.different),
        )
    return drift


@task()
def repair_recent_task() -> int:
    """Daily (``PERIODIC_JOBS``): how many rows had drifted."""
    drift = repair_recent()
    return len(drift.missing) + len(drift.extra) + len(drift.different)
