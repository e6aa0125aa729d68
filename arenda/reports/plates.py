"""Plates (госномера): one row per trip with what it earned, reconciled with the invoices.

The rows are the trip ledger's (``bookings.TripLedger``, docs/trip-ledger.md), which holds
each trip's billed hours and money as the rules below give them; names are joined.

A booking bills max(Σ its waybill hours, its minimum order) hours; the top-up up to the
minimum is shown on the booking's last waybill («billed hours»), so the rows of all of a
booking's trips add up to what was invoiced for it: billed hours × the booking's rate per
hour plus km × its rate per km. A supplier's machine (a supply order served the booking,
the waybill has no unit) shows the supplier, the purchase cost (hours × cost per hour)
and the margin."""

from decimal import Decimal

from django import forms
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DecimalField,
    F,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from arenda.bookings.models import TripLedger
from arenda.core.money import rubles
from arenda.directory.models import Counterparty, EquipmentType, Unit
from arenda.front.lookup import LookupField
from arenda.reports.core import Column, Report, ReportForm, dec, local_day, url_of

HOURS = DecimalField(max_digits=9, decimal_places=2)
ZERO_HOURS = Value(Decimal("0.00"), output_field=HOURS)
SUPPLIER_ROW = Q(unit__isnull=True) | Q(unit__owner=Unit.Owner.SUPPLIER)
MANY = 2**62
OWNERS = [("own", _("Own machines")), ("supplier", _("Suppliers' machines"))]


class PlatesForm(ReportForm):
    sort_keys = (
        "date",
        "counterparty",
        "equipment_type",
        "plate",
        "supplier",
        "hours",
        "billed_hours",
        "km",
        "revenue",
        "purchase_cost",
        "margin",
    )

    owner = forms.ChoiceField(label=_("Owner"), choices=[("", _("all"))] + OWNERS, required=False)
    # typed and picked (docs/autocomplete.md): the directory is not rendered in every page
    counterparty = LookupField(
        "counterparty", label=_("Counterparty"), queryset=Counterparty.objects.all(), required=False
    )
    counterparty.widget.attrs["placeholder"] = _("all")
    equipment_type = forms.ModelChoiceField(
        label=_("Equipment type"), queryset=EquipmentType.objects.all(), required=False
    )


def is_supplier_expression():
    return Case(When(SUPPLIER_ROW, then=Value(True)), default=Value(False), output_field=BooleanField())


def plate_expression():
    return Coalesce(F("unit__plate"), F("supply_order__unit_plate"), Value(""), output_field=CharField())


class PlatesReport(Report):
    slug = "plates"
    title = _("Plates")
    form_class = PlatesForm
    default_sort = "date"
    columns = [
        Column("date", _("Date"), "date", sort="started_at", width=11),
        Column("counterparty", _("Counterparty"), "text", sort="deal__counterparty__name", width=30),
        Column("equipment_type", _("Equipment type"), "text", sort="equipment_type__name", width=18),
        Column("capacity_t", _("Capacity, t"), "number", width=10),
        Column("plate", _("Plate"), "text", sort="plate_x", width=12),
        Column("supplier", _("Supplier"), "text", sort="supplier_x", width=22),
        Column("hours", _("Hours"), "hours", sort="hours", width=8),
        Column("billed_hours", _("Hours billed"), "hours", sort="billed_hours", width=9),
        Column("rate_per_hour", _("Rate per hour"), "money", width=12),
        Column("km", _("Km"), "km", sort="km", width=8),
        Column("rate_per_km", _("Rate per km"), "money", width=11),
        Column("revenue_hours", _("Revenue by hours"), "money", width=14),
        Column("revenue_km", _("Revenue by km"), "money", width=13),
        Column("revenue", _("Revenue"), "money", sort="revenue_k", width=14),
        Column("purchase_cost", _("Purchase cost"), "money", sort="cost_k", width=13),
        Column("margin", _("Margin"), "money", sort="margin_k", width=13),
    ]

    def base(self):
        p = self.period
        qs = TripLedger.objects.filter(started_at__gte=p.start_at, started_at__lt=p.end_before)
        owner = self.data.get("owner")
        if owner == "own":
            qs = qs.filter(unit__isnull=False, unit__owner=Unit.Owner.OWN)
        elif owner == "supplier":
            qs = qs.filter(SUPPLIER_ROW)
        if self.data.get("counterparty"):
            qs = qs.filter(deal__counterparty=self.data["counterparty"])
        if self.data.get("equipment_type"):
            qs = qs.filter(equipment_type=self.data["equipment_type"])
        return qs

    def queryset(self):
        return self.base().annotate(
            day=local_day("started_at"),
            plate_x=plate_expression(),
            supplier_x=Case(
                When(unit__isnull=True, then=F("supply_order__supplier__name")),
                default=F("unit__supplier__name"),
                output_field=CharField(),
            ),
            margin_k=Case(When(cost_k__isnull=False, then=F("revenue_k") - F("cost_k")), default=None),
        )

    def value_fields(self):
        return [
            "pk",
            "day",
            "booking_id",
            "deal__counterparty_id",
            "deal__counterparty__name",
            "equipment_type__name",
            "unit__capacity_t",
            "booking__min_capacity_t",
            "plate_x",
            "supplier_x",
            "hours",
            "billed_hours",
            "rate_per_hour",
            "km",
            "rate_per_km",
            "revenue_hours_k",
            "revenue_km_k",
            "revenue_k",
            "cost_k",
            "margin_k",
        ]

    def make_row(self, v):
        capacity = v["unit__capacity_t"]
        return {
            "date": v["day"],
            "booking": v["booking_id"],
            "counterparty_id": v["deal__counterparty_id"],
            "counterparty": v["deal__counterparty__name"],
            "equipment_type": v["equipment_type__name"],
            "capacity_t": capacity if capacity is not None else v["booking__min_capacity_t"],
            "plate": v["plate_x"] or "",
            "supplier": v["supplier_x"] or "",
            "hours": v["hours"],
            "billed_hours": v["billed_hours"],
            "rate_per_hour": v["rate_per_hour"],
            "km": v["km"],
            "rate_per_km": v["rate_per_km"],
            "revenue_hours": rubles(v["revenue_hours_k"]),
            "revenue_km": rubles(v["revenue_km_k"]),
            "revenue": rubles(v["revenue_k"]),
            "purchase_cost": rubles(v["cost_k"]) if v["cost_k"] is not None else None,
            "margin": rubles(v["margin_k"]) if v["margin_k"] is not None else None,
        }

    def links(self, row):
        if not hasattr(self, "_urls"):
            self._urls = url_of("directory:counterparty_detail"), url_of("bookings:booking_detail")
        counterparty, booking = self._urls
        return {"counterparty": counterparty(row["counterparty_id"]), "date": booking(row["booking"])}

    def totals(self):
        own, supplier = Q(is_supplier=False), Q(is_supplier=True)
        t = (
            self.base()
            .annotate(is_supplier=is_supplier_expression())
            .aggregate(
                count=Count("pk"),
                t_hours=Sum("hours"),
                t_billed=Sum("billed_hours"),
                t_km=Sum("km"),
                t_revenue_hours=Sum("revenue_hours_k"),
                t_revenue_km=Sum("revenue_km_k"),
                t_revenue=Sum("revenue_k"),
                t_cost=Sum("cost_k"),
                t_supplied=Sum("revenue_k", filter=Q(cost_k__isnull=False)),
                own_revenue=Sum("revenue_k", filter=own),
                supplier_revenue=Sum("revenue_k", filter=supplier),
                own_hours=Sum("hours", filter=own),
                supplier_hours=Sum("hours", filter=supplier),
            )
        )
        return {
            "count": t["count"],
            "hours": dec(t["t_hours"]),
            "billed_hours": dec(t["t_billed"]),
            "km": dec(t["t_km"], "0.1"),
            "revenue_hours": rubles(t["t_revenue_hours"]),
            "revenue_km": rubles(t["t_revenue_km"]),
            "revenue": rubles(t["t_revenue"]),
            "purchase_cost": rubles(t["t_cost"]),
            "margin": rubles((t["t_supplied"] or 0) - (t["t_cost"] or 0)),
            "own_revenue": rubles(t["own_revenue"]),
            "supplier_revenue": rubles(t["supplier_revenue"]),
            "own_hours": dec(t["own_hours"]),
            "supplier_hours": dec(t["supplier_hours"]),
        }

    def by_plate(self, limit: int = 30) -> list[dict]:
        """Totals per plate, the best earners first: one grouped query."""
        rows = (
            self.base()
            .annotate(plate_x=plate_expression())
            .values("plate_x")
            .annotate(
                trips=Count("pk"),
                t_hours=Sum("billed_hours"),
                t_km=Sum("km"),
                t_revenue=Sum("revenue_k"),
                t_cost=Sum("cost_k"),
            )
            .order_by("-t_revenue", "plate_x")[:limit]
        )
        return [
            {
                "plate": r["plate_x"],
                "trips": r["trips"],
                "billed_hours": dec(r["t_hours"]),
                "km": dec(r["t_km"], "0.1"),
                "revenue": rubles(r["t_revenue"]),
                "purchase_cost": rubles(r["t_cost"]) if r["t_cost"] is not None else None,
                "margin": rubles(r["t_revenue"] - r["t_cost"]) if r["t_cost"] is not None else None,
            }
            for r in rows
        ]

    def filter_labels(self):
        labels = []
        if self.data.get("owner"):
            labels.append(f"{_('Owner')}: {dict(OWNERS)[self.data['owner']]}")
        if self.data.get("counterparty"):
            labels.append(f"{_('Counterparty')}: {self.data['counterparty'].name}")
        if self.data.get("equipment_type"):
            labels.append(f"{_('Equipment type')}: {self.data['equipment_type'].name}")
        return labels
