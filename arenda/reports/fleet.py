"""Fleet: per unit for the period — hours booked (bookings reserved to closed, clipped to
the period), utilisation = booked hours ÷ the company's working hours in the period outside
the unit's maintenance windows (the working calendar, docs/working-calendar.md: weekday
hours, public holidays, the admin's overrides — not every hour of the day), revenue from its trips (as in the plates report) and revenue per
booked hour; by equipment type; own vs suppliers' machines. Work outside the working hours
(nights, days off) counts as booked, so a unit can show over 100 %.

Units are a short list, so the rows are merged in Python from four queries (units, booked
time, maintenance windows, revenue) and the working calendar (two): the number of queries
does not depend on the data."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.db.models import Count, DurationField, F, Q, Sum, Value
from django.db.models.functions import Greatest, Least
from django.utils.translation import gettext_lazy as _

from arenda.bookings.models import Booking, TripLedger, Waybill
from arenda.core.money import rubles
from arenda.core.workcalendar import WorkCalendar
from arenda.directory.models import EquipmentType, MaintenanceWindow, Unit
from arenda.reports.core import Column, Report, ReportForm, dec, url_of
from arenda.reports.plates import OWNERS, is_supplier_expression

BOOKED_STATUSES = ("reserved", "confirmed", "dispatched", "completed", "closed")
OWNER_LABELS = dict(Unit.Owner.choices)


class FleetForm(ReportForm):
    sort_keys = (
        "plate",
        "unit",
        "equipment_type",
        "owner",
        "booked_hours",
        "maintenance_hours",
        "available_hours",
        "utilisation",
        "trips",
        "revenue",
        "revenue_per_hour",
    )

    owner = forms.ChoiceField(label=_("Owner"), choices=[("", _("all"))] + OWNERS, required=False)
    equipment_type = forms.ModelChoiceField(
        label=_("Equipment type"), queryset=EquipmentType.objects.all(), required=False
    )


def _hours(delta) -> Decimal:
    if delta is None:
        return Decimal("0.00")
    if isinstance(delta, int | float):  # microseconds on some backends
        delta = timedelta(microseconds=delta)
    return (Decimal(delta.total_seconds()) / 3600).quantize(Decimal("0.01"))


class FleetReport(Report):
    slug = "fleet"
    title = _("Fleet")
    form_class = FleetForm
    default_sort = "-revenue"
    columns = [
        Column("plate", _("Plate"), "text", sort="plate", width=12),
        Column("unit", _("Model"), "text", sort="unit", width=28),
        Column("equipment_type", _("Equipment type"), "text", sort="equipment_type", width=18),
        Column("capacity_t", _("Capacity, t"), "number", width=10),
        Column("owner", _("Owner"), "text", sort="owner", width=12),
        Column("booked_hours", _("Booked hours"), "hours", sort="booked_hours", width=11),
        Column(
            "maintenance_hours",
            _("Maintenance, h"),
            "hours",
            sort="maintenance_hours",
            width=12,
        ),
        Column("available_hours", _("Available hours"), "hours", sort="available_hours", width=12),
        Column("utilisation", _("Utilisation"), "percent", sort="utilisation", width=11),
        Column("trips", _("Trips"), "int", sort="trips", width=8),
        Column("revenue", _("Revenue"), "money", sort="revenue", width=14),
        Column("revenue_per_hour", _("Revenue per booked hour"), "money", sort="revenue_per_hour", width=14),
    ]

    def units(self):
        p = self.period
        used = Waybill.objects.filter(started_at__gte=p.start_at, started_at__lt=p.end_before).values(
            "unit_id"
        )
        qs = Unit.objects.filter(Q(is_active=True) | Q(pk__in=used))
        if self.data.get("owner"):
            qs = qs.filter(owner=self.data["owner"])
        if self.data.get("equipment_type"):
            qs = qs.filter(equipment_type=self.data["equipment_type"])
        return qs

    def _clipped(self):
        p = self.period
        start, end = Value(p.start_at), Value(p.end_before)
        return Sum(Least(F("end"), end) - Greatest(F("start"), start), output_field=DurationField())

    def _rows(self) -> list[dict]:
        if hasattr(self, "_cache"):
            return self._cache
        p = self.period
        units = list(
            self.units().values(
                "pk", "plate", "name", "equipment_type__name", "capacity_t", "owner", "supplier__name"
            )
        )
        ids = [u["pk"] for u in units]
        booked = dict(
            Booking.objects.filter(
                unit_id__in=ids, status__in=BOOKED_STATUSES, start__lt=p.end_before, end__gt=p.start_at
            )
            .order_by()
            .values("unit_id")
            .annotate(t=self._clipped())
            .values_list("unit_id", "t")
        )
        windows: dict[int, list] = {}
        for unit_id, w_start, w_end in MaintenanceWindow.objects.filter(
            unit_id__in=ids, start__lt=p.end_before, end__gt=p.start_at
        ).values_list("unit_id", "start", "end"):
            windows.setdefault(unit_id, []).append((w_start, w_end))
        calendar = WorkCalendar(p.start, p.end)
        revenue = {
            r["unit_id"]: r
            for r in TripLedger.objects.filter(
                unit_id__in=ids, started_at__gte=p.start_at, started_at__lt=p.end_before
            )
            .order_by()
            .values("unit_id")
            .annotate(n=Count("pk"), r=Sum("revenue_k"))
        }
        period_hours = calendar.working_hours(p.start_at, p.end_before)
        rows = []
        for u in units:
            booked_h = _hours(booked.get(u["pk"]))
            maint_h = min(
                calendar.union_hours(windows.get(u["pk"], ()), p.start_at, p.end_before), period_hours
            )
            available = period_hours - maint_h
            money = revenue.get(u["pk"], {})
            revenue_rub = rubles(money.get("r"))
            rows.append(
                {
                    "unit_id": u["pk"],
                    "plate": u["plate"],
                    "unit": u["name"],
                    "equipment_type": u["equipment_type__name"],
                    "capacity_t": u["capacity_t"],
                    "owner": str(OWNER_LABELS.get(u["owner"], u["owner"])),
                    "owner_code": u["owner"],
                    "supplier": u["supplier__name"] or "",
                    "booked_hours": booked_h,
                    "maintenance_hours": maint_h,
                    "available_hours": available,
                    "utilisation": (booked_h / available).quantize(Decimal("0.0001")) if available else None,
                    "trips": money.get("n", 0),
                    "revenue": revenue_rub,
                    "revenue_per_hour": (revenue_rub / booked_h).quantize(Decimal("0.01"))
                    if booked_h
                    else None,
                }
            )
        self._cache = rows
        return rows

    def _sorted(self) -> list[dict]:
        sort = self.data.get("sort") or self.default_sort
        key = sort.lstrip("-")
        desc = sort.startswith("-")
        present = [r for r in self._rows() if r[key] is not None]
        missing = [r for r in self._rows() if r[key] is None]
        present.sort(key=lambda r: (r[key], r["plate"]), reverse=desc)
        return present + missing

    def page(self, number, size):
        offset = (number - 1) * size
        return [self._visible(dict(r)) for r in self._sorted()[offset : offset + size]]

    def iter_rows(self):
        for r in self._sorted():
            yield self._visible(r)

    def links(self, row):
        if not hasattr(self, "_unit_url"):
            self._unit_url = url_of("directory:unit_detail")
        return {"unit": self._unit_url(row["unit_id"])}

    def totals(self):
        rows = self._rows()
        booked = sum((r["booked_hours"] for r in rows), Decimal("0.00"))
        available = sum((r["available_hours"] for r in rows), Decimal("0.00"))
        revenue = sum((r["revenue"] for r in rows), Decimal("0.00"))
        p = self.period
        split = TripLedger.objects.filter(started_at__gte=p.start_at, started_at__lt=p.end_before)
        if self.data.get("equipment_type"):
            split = split.filter(equipment_type=self.data["equipment_type"])
        shares = split.annotate(is_supplier=is_supplier_expression()).aggregate(
            own=Sum("revenue_k", filter=Q(is_supplier=False)),
            supplier=Sum("revenue_k", filter=Q(is_supplier=True)),
            own_hours=Sum("hours", filter=Q(is_supplier=False)),
            supplier_hours=Sum("hours", filter=Q(is_supplier=True)),
            cost=Sum("cost_k"),
        )
        return {
            "count": len(rows),
            "booked_hours": booked,
            "maintenance_hours": sum((r["maintenance_hours"] for r in rows), Decimal("0.00")),
            "available_hours": available,
            "utilisation": (booked / available).quantize(Decimal("0.0001")) if available else None,
            "trips": sum(r["trips"] for r in rows),
            "revenue": revenue,
            "revenue_per_hour": (revenue / booked).quantize(Decimal("0.01")) if booked else None,
            "own_revenue": rubles(shares["own"]),
            "supplier_revenue": rubles(shares["supplier"]),
            "own_hours": dec(shares["own_hours"]),
            "supplier_hours": dec(shares["supplier_hours"]),
            "supplier_cost": rubles(shares["cost"]),
        }

    def by_type(self) -> list[dict]:
        groups: dict[str, dict] = {}
        for r in self._rows():
            g = groups.setdefault(
                r["equipment_type"],
                {
                    "equipment_type": r["equipment_type"],
                    "units": 0,
                    "booked_hours": Decimal("0.00"),
                    "available_hours": Decimal("0.00"),
                    "revenue": Decimal("0.00"),
                },
            )
            g["units"] += 1
            g["booked_hours"] += r["booked_hours"]
            g["available_hours"] += r["available_hours"]
            g["revenue"] += r["revenue"]
        for g in groups.values():
            g["utilisation"] = (
                (g["booked_hours"] / g["available_hours"]).quantize(Decimal("0.0001"))
                if g["available_hours"]
                else None
            )
        return sorted(groups.values(), key=lambda g: -g["revenue"])

    def filter_labels(self):
        labels = []
        if self.data.get("owner"):
            labels.append(f"{_('Owner')}: {dict(OWNERS)[self.data['owner']]}")
        if self.data.get("equipment_type"):
            labels.append(f"{_('Equipment type')}: {self.data['equipment_type'].name}")
        return labels
