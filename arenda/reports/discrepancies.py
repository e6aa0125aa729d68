"""Discrepancies («Расхождения»): the trips whose waybill disagrees with the unit's tracker,
one row per trip's telematics evidence (``bookings.TripEvidence``, docs/telematics.md).

- **Which**: the evidence flagged beyond the company's tolerance and still waiting for a
  decision (the default), or those accepted into a waybill correction, or dismissed with a
  reason, or all of them. An accepted suggestion corrects the waybill, which then agrees
  with the tracker: its evidence is no longer flagged but keeps its decision, so the
  decided states go by the decision alone.
- **The period**: by the start of the trip's read window, in the company time zone; the last
  30 days unless chosen.
- **The figures**: a figure the tracker could not give stays missing («—»), never 0. The
  difference is what the comparison measures (``bookings.telematics.evaluate``): the engine
  hours, or without an hour counter the time on site, less the waybill's hours.
- **The money at stake**: of an open discrepancy, its suggested hours × the booking's rate per
  hour + its suggested km × the rate per km, rounded half-up to kopecks per row in SQL
  (``core.money.product_kopecks``), so the total is exactly the sum of the rows.

A fixed number of queries whatever the rows: the totals in one aggregate, a page of rows in
one (the names joined)."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.db.models import Case, CharField, Count, DecimalField, Exists, F, OuterRef, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenda.bookings.models import TripEvidence
from arenda.core.models import User
from arenda.core.money import product_kopecks, rubles
from arenda.core.roles import Role
from arenda.crm.models import Deal
from arenda.front.lookup import LookupField
from arenda.reports.core import PRESETS, Column, Period, Report, ReportForm, dec, local_day, url_of

HOURS = DecimalField(max_digits=9, decimal_places=2)
KM = DecimalField(max_digits=10, decimal_places=1)
ZERO = Value(Decimal("0"), output_field=HOURS)
LAST_30 = "last_30"
LAST_DAYS = 30

OPEN, ACCEPTED, DISMISSED, ALL = "open", "accepted", "dismissed", "all"
Decision = TripEvidence.Decision
# the decisions' own labels («Open» alone reads as the verb in Russian)
STATES = [
    (OPEN, Decision.OPEN.label),
    (ACCEPTED, Decision.ACCEPTED.label),
    (DISMISSED, Decision.DISMISSED.label),
    (ALL, _("All flagged")),
]
IS_OPEN = Q(flagged=True, decision=Decision.OPEN)
STATE_FILTERS = {
    OPEN: IS_OPEN,
    ACCEPTED: Q(decision=Decision.ACCEPTED),
    DISMISSED: Q(decision=Decision.DISMISSED),
    ALL: Q(flagged=True) | ~Q(decision=Decision.OPEN),
}


def managers():
    """Who may be a deal's manager: the managers, and whoever manages a deal now."""
    # an index probe per user (a few dozen), not a pass over every deal
    dealing = Exists(Deal.objects.filter(manager=OuterRef("pk")))
    return User.objects.filter(Q(role=Role.MANAGER) | dealing).order_by("full_name", "username")


class DiscrepanciesForm(ReportForm):
    sort_keys = (
        "date",
        "booking",
        "customer",
        "plate",
        "driver",
        "waybill_hours",
        "engine_hours",
        "hours_on_site",
        "difference",
        "waybill_km",
        "tracker_km",
        "suggested_hours",
        "suggested_km",
        "at_stake",
        "state",
    )

    period = forms.ChoiceField(
        label=_("Period"), choices=[(LAST_30, _("Last 30 days")), *PRESETS], required=False
    )
    state = forms.ChoiceField(label=_("State"), choices=STATES, required=False)
    # typed and picked (docs/autocomplete.md): a fleet's units are not rendered in every page
    unit = LookupField("unit", label=_("Unit"), required=False)
    unit.widget.attrs["placeholder"] = _("all")
    manager = forms.ModelChoiceField(
        label=_("Manager"), queryset=managers(), required=False, empty_label=_("all")
    )

    def clean(self):
        preset = self.cleaned_data.get("period") or ""
        dates = self.cleaned_data.get("start") or self.cleaned_data.get("end")
        data = super().clean()
        if "start" in self.errors or "end" in self.errors:
            return data
        if preset == LAST_30 or (not preset and not dates):
            # the default: the last 30 days up to today, company time
            today = timezone.localdate()
            start = today - timedelta(days=LAST_DAYS - 1)
            data["period"] = Period(start, today, LAST_30)
            data["start"], data["end"] = start, today
        data["state"] = data.get("state") or OPEN
        return data


class DiscrepanciesReport(Report):
    slug = "discrepancies"
    title = _("Discrepancies")
    form_class = DiscrepanciesForm
    default_sort = "date"
    columns = [
        Column("date", _("Date"), "date", sort="window_start", width=11),
        Column("booking", _("Booking"), "int", sort="booking_id", width=9),
        Column("customer", _("Customer"), "text", sort="booking__deal__counterparty__name", width=28),
        Column("plate", _("Plate"), "text", sort="unit__plate", width=12),
        Column("driver", _("Driver"), "text", sort="driver_x", width=24),
        Column("waybill_hours", _("Waybill hours"), "hours", sort="waybill__hours", width=10),
        Column("engine_hours", _("Tracker engine hours"), "hours", sort="engine_hours", width=11),
        Column("hours_on_site", _("Hours on site"), "hours", sort="hours_on_site", width=10),
        Column("difference", _("Difference, h"), "hours", sort="difference_x", width=11),
        Column("waybill_km", _("Waybill km"), "km", sort="waybill__km", width=9),
        Column("tracker_km", _("Tracker km"), "km", sort="distance_km", width=9),
        Column("suggested_hours", _("Suggested, +h"), "hours", sort="suggested_hours", width=11),
        Column("suggested_km", _("Suggested, +km"), "km", sort="suggested_km", width=11),
        Column("at_stake", _("At stake"), "money", sort="at_stake_k", width=14),
        Column("state", _("State"), "text", sort="decision", width=40),
    ]

    def base(self):
        p = self.period
        qs = TripEvidence.objects.filter(window_start__gte=p.start_at, window_start__lt=p.end_before)
        qs = qs.filter(STATE_FILTERS[self.data.get("state") or OPEN])
        if self.data.get("unit"):
            qs = qs.filter(unit=self.data["unit"])
        if self.data.get("manager"):
            qs = qs.filter(booking__deal__manager=self.data["manager"])
        return qs

    def queryset(self):
        measure = Coalesce(F("engine_hours"), F("hours_on_site"), output_field=HOURS)
        stake = product_kopecks(
            Coalesce(F("suggested_hours"), ZERO, output_field=HOURS), F("booking__rate_per_hour")
        ) + product_kopecks(Coalesce(F("suggested_km"), ZERO, output_field=KM), F("booking__rate_per_km"))
        return self.base().annotate(
            day=local_day("waybill__started_at"),
            driver_x=Coalesce(
                F("waybill__driver__full_name"), F("booking__driver__full_name"), output_field=CharField()
            ),
            difference_x=measure - F("waybill__hours"),
            at_stake_k=Case(When(IS_OPEN, then=stake), default=None),
        )

    def value_fields(self):
        return [
            "pk",
            "day",
            "booking_id",
            "booking__deal__counterparty__name",
            "unit__plate",
            "driver_x",
            "waybill__hours",
            "engine_hours",
            "hours_on_site",
            "difference_x",
            "waybill__km",
            "distance_km",
            "suggested_hours",
            "suggested_km",
            "at_stake_k",
            "flagged",
            "decision",
            "decision_reason",
            "decided_by__full_name",
            "decided_by__username",
            "decided_at",
        ]

    def decision_label(self, code) -> str:
        """The label in the active language, translated once per report, not per row."""
        if not hasattr(self, "_decisions"):
            self._decisions = {key: str(label) for key, label in Decision.choices}
        return self._decisions.get(code, code or "")

    def make_row(self, v):
        decided_by = v["decided_by__full_name"] or v["decided_by__username"] or ""
        decided_at = timezone.localtime(v["decided_at"]) if v["decided_at"] else None
        state = self.decision_label(v["decision"])
        if v["decision"]:
            who = ", ".join(
                part for part in (decided_by, f"{decided_at:%d.%m.%Y %H:%M}" if decided_at else "") if part
            )
            state = " — ".join(part for part in (state, v["decision_reason"], who) if part)
        return {
            "id": v["pk"],
            "date": v["day"],
            "booking": v["booking_id"],
            "customer": v["booking__deal__counterparty__name"] or "",
            "plate": v["unit__plate"] or "",
            "driver": v["driver_x"] or "",
            "waybill_hours": v["waybill__hours"],
            "engine_hours": v["engine_hours"],
            "hours_on_site": v["hours_on_site"],
            "difference": v["difference_x"],
            "waybill_km": v["waybill__km"],
            "tracker_km": v["distance_km"],
            "suggested_hours": v["suggested_hours"],
            "suggested_km": v["suggested_km"],
            "at_stake": None if v["at_stake_k"] is None else rubles(v["at_stake_k"]),
            "state": state,
            "state_label": self.decision_label(v["decision"]),
            "state_code": v["decision"] or (OPEN if v["flagged"] else ""),
            "reason": v["decision_reason"],
            "decided_by": decided_by,
            "decided_at": decided_at,
        }

    def totals(self):
        t = self.queryset().aggregate(
            count=Count("pk"),
            open=Count("pk", filter=IS_OPEN),
            t_hours=Sum("suggested_hours", filter=IS_OPEN),
            t_km=Sum("suggested_km", filter=IS_OPEN),
            t_stake=Sum("at_stake_k"),
        )
        return {
            "count": t["count"],
            "open": t["open"],
            "suggested_hours": dec(t["t_hours"]),
            "suggested_km": dec(t["t_km"], "0.1"),
            "at_stake": rubles(t["t_stake"]),
        }

    def links(self, row):
        if not hasattr(self, "_booking_url"):
            # ``Booking.get_absolute_url`` of every row at the cost of one ``reverse``
            self._booking_url = url_of("bookings:booking_detail")
        return {"booking": self._booking_url(row["booking"])}

    def filter_labels(self):
        labels = [f"{_('State')}: {dict(STATES)[self.data.get('state') or OPEN]}"]
        if self.data.get("unit"):
            labels.append(f"{_('Unit')}: {self.data['unit'].plate}")
        if self.data.get("manager"):
            labels.append(f"{_('Manager')}: {self.data['manager']}")
        return labels
