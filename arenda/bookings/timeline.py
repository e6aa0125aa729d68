"""The timeline board: units grouped by type (or drivers) × days, each booking a bar placed
by percent of the range, maintenance shaded, suppliers' machines in rows of their own.

Three queries whatever the size — the rows, the bookings in range, the maintenance in
range — and plain data for the template (one element per bar); two more when a booking's
type requires documents (``directory.selectors.gaps_of_assignments``: its driver's are
checked to the booking's end).
"""

import calendar
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from arenda.bookings import selectors, trip_reports
from arenda.bookings.models import Booking, SupplyOrder
from arenda.directory.models import Driver, EquipmentTypeRequirement, MaintenanceWindow, Unit
from arenda.directory.selectors import gaps_of_assignments


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def month_shift(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


LEGAL_FORMS = ("ООО ", "АО ", "ПАО ", "ЗАО ", "ОАО ", "ИП ")


def short_name(name: str) -> str:
    """«ООО «Мостострой»» → «Мостострой»: a bar a few pixels wide shows what tells customers apart."""
    for form in LEGAL_FORMS:
        if name.startswith(form):
            return name[len(form) :].strip("«»\"' ")
    return name


def hm(moment: datetime) -> str:
    """A moment as the two-week board names it: day and time."""
    return date_filter(timezone.localtime(moment), "d.m H:i")


def clock(moment: datetime) -> str:
    """A moment as the day board names it: the time alone."""
    return f"{timezone.localtime(moment):%H:%M}"


class Span:
    """Percent positions of [start, end) clipped to the board, as strings for SVG's x and width."""

    def __init__(self, start: datetime, end: datetime):
        self.start, self.total = start, (end - start).total_seconds()
        self.end = end

    def __call__(self, start: datetime, end: datetime) -> tuple[str, str]:
        left = max(start, self.start)
        right = min(end, self.end)
        return (
            f"{(left - self.start).total_seconds() / self.total * 100:.3f}",
            f"{max((right - left).total_seconds() / self.total * 100, 0.15):.3f}",
        )


def maintenance_shading(span: Span, when=hm) -> dict[int, list]:
    """The active units' maintenance windows in ``span``, hatched per unit (one query):
    the timeline and the day board draw them alike; ``when`` writes the times of the title."""
    shaded: dict[int, list] = {}
    for w in MaintenanceWindow.objects.filter(start__lt=span.end, end__gt=span.start, unit__is_active=True):
        left, width = span(w.start, w.end)
        shaded.setdefault(w.unit_id, []).append(
            {"left": left, "width": width, "title": f"{w.reason}: {when(w.start)}–{when(w.end)}"}
        )
    return shaded


def mark_title(booking: Booking, labels: dict) -> str:
    """« · On site 09:12» when the driver has marked the trip (read from the row: no query)."""
    if not booking.trip_mark:
        return ""
    return f" · {labels[booking.trip_mark]} {hm(booking.trip_mark_at)}"


def groups_for_supplied(in_range, span, detail_url, labels) -> dict:
    """Bookings served by a supplier's machine: one row per supply order, after our units."""
    rows = []
    supplied = (
        in_range.filter(unit__isnull=True, supply_order__isnull=False)
        .exclude(supply_order__status=SupplyOrder.Status.CANCELLED)
        .select_related("supply_order__supplier")
    )
    for b in supplied:
        order = b.supply_order
        left, width = span(b.start, b.end)
        rows.append(
            {
                "obj": {
                    "get_absolute_url": order.get_absolute_url(),
                    "plate": order.unit_plate or order.supplier.name,
                    "capacity_t": b.min_capacity_t,
                },
                "bars": [
                    {
                        "url": f"{detail_url}{b.pk}/",
                        "left": left,
                        "width": width,
                        "status": b.status,
                        "label": short_name(b.deal.counterparty.name),
                        "title": f"#{b.pk} · {b.deal.counterparty.name} · {hm(b.start)}–{hm(b.end)} · "
                        f"{labels[b.status]} · {order.supplier.name}"
                        + mark_title(b, trip_reports.mark_labels()),
                        "mark": b.trip_mark,
                        "pk": b.pk,
                    }
                ],
                "shaded": (),
            }
        )
    return {"title": _("Supplier machines"), "rows": rows}


def build_timeline(*, start: date, days: int, by: str, today: date, now: datetime) -> dict:
    """The board's context: ``groups`` of rows with their bars, the day ``columns``, and the
    navigation. ``by`` is "unit" or "driver"."""
    range_start, range_end = day_start(start), day_start(start + timedelta(days=days))
    span = Span(range_start, range_end)

    in_range = (
        Booking.objects.exclude(status=Booking.Status.CANCELLED)
        .filter(start__lt=range_end, end__gt=range_start)
        .select_related("deal__counterparty", "driver" if by == "unit" else "unit")
        .order_by("start")
    )
    detail_url = reverse("bookings:booking_detail", args=[0])[:-2]
    labels = dict(Booking.Status.choices)
    marks = trip_reports.mark_labels()
    bars: dict[int, list] = {}
    # Reserved bookings whose driver's required document will have expired by their end:
    # asked in bulk, and only of the bookings whose type requires any document (no query
    # more when none does).
    placed = list(
        in_range.filter(**{f"{by}__isnull": False}).annotate(
            needs_documents=Exists(
                EquipmentTypeRequirement.objects.filter(equipment_type=OuterRef("equipment_type"))
            )
        )
    )
    unqualified = gaps_of_assignments(
        (b.pk, b.driver_id, b.equipment_type_id, timezone.localdate(b.end))
        for b in placed
        if b.needs_documents and b.status in Booking.QUALIFICATION_CHECKED
    )
    for b in placed:
        left, width = span(b.start, b.end)
        other = b.driver if by == "unit" else b.unit
        missing = unqualified.get(b.pk, ())
        bars.setdefault(getattr(b, f"{by}_id"), []).append(
            {
                "url": f"{detail_url}{b.pk}/",
                "left": left,
                "width": width,
                "status": b.status,
                "unqualified": bool(missing),
                "label": short_name(b.deal.counterparty.name),
                "title": f"#{b.pk} · {b.deal.counterparty.name} · {hm(b.start)}–{hm(b.end)} · "
                f"{labels[b.status]}"
                + (f" · {other}" if other else "")
                + mark_title(b, marks)
                + (
                    " · "
                    + _("not qualified: %(documents)s")
                    % {"documents": ", ".join(str(m.label) for m in missing)}
                    if missing
                    else ""
                ),
                "mark": b.trip_mark,
                "pk": b.pk,
            }
        )

    groups = []
    if by == "unit":
        shaded = maintenance_shading(span)
        units = Unit.objects.filter(is_active=True).select_related("equipment_type")
        for unit in units.order_by("equipment_type__name", "-capacity_t", "plate"):
            if not groups or groups[-1]["title"] != unit.equipment_type.name:
                groups.append({"title": unit.equipment_type.name, "rows": []})
            groups[-1]["rows"].append(
                {"obj": unit, "bars": bars.get(unit.pk, ()), "shaded": shaded.get(unit.pk, ())}
            )
        supplied = groups_for_supplied(in_range, span, detail_url, labels)
        if supplied["rows"]:
            groups.append(supplied)
    else:
        rows = [
            {"obj": d, "bars": bars.get(d.pk, ()), "expired": selectors.license_expired(d, range_end)}
            for d in Driver.objects.filter(is_active=True).order_by("full_name")
        ]
        groups.append({"title": _("Drivers"), "rows": rows})

    columns = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        columns.append({"date": day, "weekend": day.weekday() >= 5, "today": day == today})
    return {
        "groups": groups,
        "columns": columns,
        # Percent positions, like the bars': the template draws them as SVG, no inline style.
        "weekends": [f"{i * 100 / days:.3f}" for i, c in enumerate(columns) if c["weekend"]],
        "day_width": f"{100 / days:.3f}",
        "today_at": span(now, now + timedelta(seconds=1))[0] if range_start <= now < range_end else None,
        "start": start,
        "days": days,
        "by": by,
        "nav": {
            "prev_week": start - timedelta(days=7),
            "next_week": start + timedelta(days=7),
            "prev_month": month_shift(start, -1),
            "next_month": month_shift(start, 1),
            "today": today - timedelta(days=today.weekday()),
        },
        "end": start + timedelta(days=days - 1),
    }
