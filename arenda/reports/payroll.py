"""Driver payroll: one row per trip (waybill) with the driver's pay as it was on that trip,
read from the trip ledger (``bookings.TripLedger``, docs/trip-ledger.md), which holds each
trip's hours × hourly pay in kopecks."""

from django import forms
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenda.bookings.models import TripLedger
from arenda.core.money import rubles
from arenda.directory.models import Driver
from arenda.front.lookup import LookupField
from arenda.reports.core import Column, Report, ReportForm, dec, local_day, url_of

EMPLOYMENT = dict(Driver.Employment.choices)


class PayrollForm(ReportForm):
    sort_keys = (
        "date",
        "booking",
        "equipment",
        "plate",
        "driver",
        "employment",
        "hours",
        "hourly_pay",
        "amount",
    )

    # typed and picked (docs/autocomplete.md): a fleet's drivers are not rendered in every page
    driver = LookupField("driver", label=_("Driver"), queryset=Driver.objects.all(), required=False)
    driver.widget.attrs["placeholder"] = _("all")
    employment = forms.ChoiceField(
        label=_("Employment"), choices=[("", _("all"))] + Driver.Employment.choices, required=False
    )


class PayrollReport(Report):
    slug = "payroll"
    title = _("Driver payroll")
    form_class = PayrollForm
    default_sort = "date"
    extra_pay_keys = frozenset({"staff_amount", "contractor_amount"})
    columns = [
        Column("date", _("Date"), "date", sort="started_at", width=11),
        Column("booking", _("Booking"), "int", sort="booking_id", width=9),
        Column("equipment", _("Machine"), "text", sort="unit__name", width=28),
        Column("capacity_t", _("Capacity, t"), "number", width=10),
        Column("plate", _("Plate"), "text", sort="unit__plate", width=12),
        Column("driver", _("Driver"), "text", sort="driver__full_name", width=28),
        Column("employment", _("Employment"), "text", sort="driver__employment", width=12),
        Column("hours", _("Hours"), "hours", sort="hours", width=9),
        Column("hourly_pay", _("Pay per hour"), "money", pay=True, sort="hourly_pay", width=12),
        Column("amount", _("Amount"), "money", pay=True, sort="amount_k", width=14),
    ]

    def base(self):
        p = self.period
        qs = TripLedger.objects.filter(
            started_at__gte=p.start_at, started_at__lt=p.end_before, driver__isnull=False
        )
        if self.data.get("driver"):
            qs = qs.filter(driver=self.data["driver"])
        if self.data.get("employment"):
            qs = qs.filter(driver__employment=self.data["employment"])
        return qs

    def queryset(self):
        return self.base().annotate(amount_k=F("pay_k"), day=local_day("started_at"))

    def value_fields(self):
        return [
            "pk",
            "day",
            "booking_id",
            "unit__name",
            "unit__capacity_t",
            "unit__plate",
            "driver_id",
            "driver__full_name",
            "driver__employment",
            "hours",
            "hourly_pay",
            "amount_k",
        ]

    def employment_label(self, code) -> str:
        """The label in the active language, translated once per report, not per row."""
        if not hasattr(self, "_employment"):
            self._employment = {key: str(label) for key, label in EMPLOYMENT.items()}
        return self._employment.get(code, code or "")

    def make_row(self, v):
        return {
            "date": v["day"],
            "booking": v["booking_id"],
            "equipment": v["unit__name"] or "",
            "capacity_t": v["unit__capacity_t"],
            "plate": v["unit__plate"] or "",
            "driver_id": v["driver_id"],
            "driver": v["driver__full_name"],
            "employment": self.employment_label(v["driver__employment"]),
            "employment_code": v["driver__employment"],
            "hours": v["hours"],
            "hourly_pay": v["hourly_pay"],
            "amount": rubles(v["amount_k"]),
        }

    def totals(self):
        staff = Q(driver__employment=Driver.Employment.STAFF)
        contractor = Q(driver__employment=Driver.Employment.CONTRACTOR)
        t = self.queryset().aggregate(
            count=Count("pk"),
            drivers=Count("driver", distinct=True),
            t_hours=Sum("hours"),
            t_amount=Sum("amount_k"),
            staff_hours=Sum("hours", filter=staff),
            staff_amount=Sum("amount_k", filter=staff),
            contractor_hours=Sum("hours", filter=contractor),
            contractor_amount=Sum("amount_k", filter=contractor),
        )
        return {
            "count": t["count"],
            "drivers": t["drivers"],
            "hours": dec(t["t_hours"]),
            "amount": rubles(t["t_amount"]),
            "staff_hours": dec(t["staff_hours"]),
            "staff_amount": rubles(t["staff_amount"]),
            "contractor_hours": dec(t["contractor_hours"]),
            "contractor_amount": rubles(t["contractor_amount"]),
        }

    def by_driver(self) -> list[dict]:
        """Hours and earnings per driver in the period: one grouped query."""
        rows = (
            self.queryset()
            .values("driver_id", "driver__full_name", "driver__employment")
            .annotate(trips=Count("pk"), t_hours=Sum("hours"), t_amount=Sum("amount_k"))
            .order_by("-t_hours", "driver__full_name")
        )
        return [
            self._visible(
                {
                    "driver_id": r["driver_id"],
                    "driver": r["driver__full_name"],
                    "employment": self.employment_label(r["driver__employment"]),
                    "trips": r["trips"],
                    "hours": dec(r["t_hours"]),
                    "amount": rubles(r["t_amount"]),
                }
            )
            for r in rows
        ]

    def by_week(self) -> list[dict]:
        """Hours and earnings per week (weeks start on Monday, company time): one query."""
        rows = (
            self.queryset()
            .annotate(week=TruncWeek("started_at", tzinfo=timezone.get_current_timezone()))
            .values("week")
            .annotate(trips=Count("pk"), t_hours=Sum("hours"), t_amount=Sum("amount_k"))
            .order_by("week")
        )
        out = []
        for r in rows:
            week = r["week"]
            week = timezone.localtime(week).date() if hasattr(week, "hour") else week
            out.append(
                self._visible(
                    {
                        "week": week,
                        "trips": r["trips"],
                        "hours": dec(r["t_hours"]),
                        "amount": rubles(r["t_amount"]),
                    }
                )
            )
        return out

    def links(self, row):
        if not hasattr(self, "_urls"):
            self._urls = (
                url_of("reports:payroll_driver"),
                url_of("bookings:booking_detail"),
                self.period_query(),
            )
        driver, booking, query = self._urls
        return {"driver": driver(row["driver_id"]) + query, "booking": booking(row["booking"])}

    def filter_labels(self):
        labels = []
        if self.data.get("driver"):
            labels.append(f"{_('Driver')}: {self.data['driver'].full_name}")
        if self.data.get("employment"):
            labels.append(f"{_('Employment')}: {EMPLOYMENT[self.data['employment']]}")
        return labels


class DriverPayrollForm(PayrollForm):
    """One driver's trips: the driver comes from the URL."""

    driver = None  # not a filter here

    def __init__(self, data=None, *, driver, **kwargs):
        super().__init__(data, **kwargs)
        self.driver = driver

    def clean(self):
        data = super().clean()
        data["driver"] = self.driver
        return data


class DriverPayrollReport(PayrollReport):
    form_class = DriverPayrollForm

    def links(self, row):
        if not hasattr(self, "_booking_url"):
            self._booking_url = url_of("bookings:booking_detail")
        return {"booking": self._booking_url(row["booking"])}
