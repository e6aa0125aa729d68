"""The day board (``docs/day-board.md``): units (or drivers) × hours of one day or three,
each booking a block placed by percent of the range, maintenance hatched, bookings whose
driver lacks a required document marked, the current-time line.

A fixed number of queries whatever the size: the rows, the bookings in range (with their
counterparty, unit and driver, and whether a trip's waybill differs from the tracker with
no decision yet — ``bookings.TripEvidence``, in the same query), the maintenance in range,
and at most two for the qualification flags (``directory.selectors.gaps_of_assignments``,
as on the timeline).

Non-working hours come from the company's working calendar (``core/workcalendar.py``,
``docs/working-calendar.md``): what lies outside a day's working intervals is greyed, a
day off wholly, and a holiday is named in the day's header. One query for the calendar's
overrides of the range (the weekly hours are one more).
"""

from datetime import date, datetime, timedelta

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from arenda.bookings import selectors
from arenda.bookings.models import Booking, TripEvidence
from arenda.bookings.timeline import Span, clock, day_start, maintenance_shading, short_name
from arenda.core.workcalendar import WorkCalendar
from arenda.directory.models import Driver, EquipmentTypeRequirement, Unit
from arenda.directory.selectors import gaps_of_assignments

SNAP_MINUTES = 15


def _non_working(start: date, days: int, span: Span, calendar: WorkCalendar) -> list:
    """The stretches outside working time, a night or a weekend running on as one."""
    off: list[list] = []

    def add(begin, finish):
        if off and off[-1][1] >= begin:
            off[-1][1] = max(off[-1][1], finish)
        else:
            off.append([begin, finish])

    for offset in range(days):
        day = start + timedelta(days=offset)
        cursor, midnight = day_start(day), day_start(day + timedelta(days=1))
        for begin, finish in sorted(calendar.working_intervals(day)):
            if begin > cursor:
                add(cursor, begin)
            cursor = max(cursor, finish)
        if cursor < midnight:
            add(cursor, midnight)
    return [dict(zip(("left", "width"), span(begin, finish), strict=True)) for begin, finish in off]


def _block(b: Booking, span: Span, by: str, missing, labels, urls) -> dict:
    left, width = span(b.start, b.end)
    other = b.driver if by == "unit" else b.unit
    customer = b.deal.counterparty.name
    title = " · ".join(
        part
        for part in (
            f"#{b.pk}",
            customer,
            b.site_address,
            f"{clock(b.start)}–{clock(b.end)}",
            str(labels[b.status]),
            str(other or ""),
            _("not qualified: %(documents)s") % {"documents": ", ".join(str(m.label) for m in missing)}
            if missing
            else "",
            _("The waybill differs from the tracker") if b.open_discrepancy else "",
        )
        if part
    )
    return {
        "pk": b.pk,
        "left": left,
        "width": width,
        "status": b.status,
        "status_label": labels[b.status],
        "customer": short_name(customer),
        "site": b.site_address,
        "time": f"{clock(b.start)}–{clock(b.end)}",
        "title": title,
        "unqualified": bool(missing),
        "missing": ", ".join(str(m.label) for m in missing),
        "discrepancy": b.open_discrepancy,
        "url": urls["detail"].replace("/0/", f"/{b.pk}/"),
        "fallback": urls["reserve"].replace("/0/", f"/{b.pk}/"),
        "start": timezone.localtime(b.start).isoformat(),
        "end": timezone.localtime(b.end).isoformat(),
        "version": b.updated_at.isoformat(),
        "unit": b.unit_id,
        "driver": b.driver_id,
        # Past dispatch the times are final (``services.refuse_frozen_changes``): not draggable.
        "movable": b.status in Booking.QUALIFICATION_CHECKED and not b.terms_frozen(),
    }


def build_day_board(*, day: date, days: int, by: str, now: datetime) -> dict:
    """The board's context: ``rows`` (each with ``blocks`` and ``shaded`` maintenance), the
    hour ``columns``, ``now_at`` (percent) and navigation. ``by`` is "unit" or "driver"."""
    range_start, range_end = day_start(day), day_start(day + timedelta(days=days))
    span = Span(range_start, range_end)
    dates = [day + timedelta(days=i) for i in range(days)]
    calendar = WorkCalendar(dates[0], dates[-1])
    labels = dict(Booking.Status.choices)
    urls = {
        "detail": reverse("bookings:booking_detail", args=[0]),
        "reserve": reverse("bookings:booking_reserve", args=[0]),
    }
    placed = list(
        Booking.objects.filter(status__in=Booking.ACTIVE_STATUSES, start__lt=range_end, end__gt=range_start)
        .filter(**{f"{by}__isnull": False})
        .select_related("deal__counterparty", "unit", "driver")
        .annotate(
            needs_documents=Exists(
                EquipmentTypeRequirement.objects.filter(equipment_type=OuterRef("equipment_type"))
            ),
            # a trip whose waybill the tracker contradicts, waiting for a decision
            open_discrepancy=Exists(
                TripEvidence.objects.filter(
                    booking=OuterRef("pk"), flagged=True, decision=TripEvidence.Decision.OPEN
                )
            ),
        )
        .order_by("start")
    )
    unqualified = gaps_of_assignments(
        (b.pk, b.driver_id, b.equipment_type_id, timezone.localdate(b.end))
        for b in placed
        if b.needs_documents and b.status in Booking.QUALIFICATION_CHECKED
    )
    blocks: dict[int, list] = {}
    for b in placed:
        blocks.setdefault(getattr(b, f"{by}_id"), []).append(
            _block(b, span, by, unqualified.get(b.pk, ()), labels, urls)
        )

    rows = []
    if by == "unit":
        shaded = maintenance_shading(span, clock)
        units = Unit.objects.filter(is_active=True).select_related("equipment_type")
        for unit in units.order_by("equipment_type__name", "-capacity_t", "plate"):
            rows.append(
                {
                    "obj": unit,
                    "pk": unit.pk,
                    "group": unit.equipment_type.name,
                    "blocks": blocks.get(unit.pk, ()),
                    "shaded": shaded.get(unit.pk, ()),
                }
            )
    else:
        for driver in Driver.objects.filter(is_active=True).order_by("full_name"):
            rows.append(
                {
                    "obj": driver,
                    "pk": driver.pk,
                    "group": "",
                    "blocks": blocks.get(driver.pk, ()),
                    "shaded": (),
                    "expired": selectors.license_expired(driver, range_end),
                }
            )

    hours = days * 24
    columns = [
        {"at": range_start + timedelta(hours=h), "label": f"{h % 24:02d}", "day_start": h % 24 == 0}
        for h in range(hours)
    ]
    return {
        "rows": rows,
        "columns": columns,
        "hours": hours,
        "day": day,
        "days": days,
        "by": by,
        "snap": SNAP_MINUTES,
        "range_start": timezone.localtime(range_start).isoformat(),
        "range_end": timezone.localtime(range_end).isoformat(),
        "now_at": span(now, now + timedelta(seconds=1))[0] if range_start <= now < range_end else None,
        "non_working": _non_working(day, days, span, calendar),
        "days_off": [
            {"day": d, "holiday": calendar.holiday_name(d)} for d in dates if not calendar.is_working_day(d)
        ],
        "day_labels": dates,
        "prev": day - timedelta(days=days),
        "next": day + timedelta(days=days),
        "today": timezone.localdate(now),
        "week_start": day - timedelta(days=day.weekday()),
    }
