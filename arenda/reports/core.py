"""What the four reports share: the period in the company time zone, the query parameters
(one form for the UI and the API, so both refuse the same input), the columns, money in
whole kopecks computed by the database, and the :class:`Report` that pages, totals and
streams its rows.

Money is computed as integer kopecks in SQL (``hours × rate`` rounded half-up per row),
so the totals are exactly the sum of the rows shown, on PostgreSQL and SQLite alike.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django import forms
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenda.core.roles import can_see_pay

MAX_PERIOD_DAYS = 3 * 366
PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
CHUNK = 2000

PRESETS = [
    ("this_month", _("This month")),
    ("last_month", _("Last month")),
    ("this_quarter", _("This quarter")),
    ("custom", _("Custom")),
]


def dec(value, places: str = "0.01") -> Decimal:
    return Decimal(value or 0).quantize(Decimal(places))


@contextmanager
def report_queries():
    """PostgreSQL's JIT compiler spends seconds on a report's aggregate (many sub-plans
    over thousands of rows) that runs in a fraction of that: off for the report's queries."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


# --- the period -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    preset: str

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_before(self) -> datetime:
        """The local midnight after the last day: the period is [start_at, end_before)."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    @property
    def hours(self) -> Decimal:
        return Decimal((self.end_before - self.start_at).total_seconds()) / 3600

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def label(self) -> str:
        return f"{self.start:%d.%m.%Y} — {self.end:%d.%m.%Y}"


def preset_range(preset: str, today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    if preset == "last_month":
        end = first - timedelta(days=1)
        return end.replace(day=1), end
    if preset == "this_quarter":
        month = 3 * ((today.month - 1) // 3) + 1
        start = today.replace(month=month, day=1)
        after = (start + timedelta(days=95)).replace(day=1)
        return start, after - timedelta(days=1)
    after = (first + timedelta(days=32)).replace(day=1)
    return first, after - timedelta(days=1)


# The dates a report may ask about: a business's records, far from the calendar's ends
# (where the period arithmetic would overflow).
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


class ISODateField(forms.DateField):
    input_formats = ["%Y-%m-%d"]

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value is not None and not EARLIEST <= value <= LATEST:
            raise forms.ValidationError(
                _("Give a date from %(earliest)s to %(latest)s.")
                % {"earliest": EARLIEST.strftime("%d.%m.%Y"), "latest": LATEST.strftime("%d.%m.%Y")},
                code="out_of_range",
            )


class ReportForm(forms.Form):
    """The query string of a report. ``cleaned_data["period"]`` becomes a :class:`Period`."""

    period_required = True
    sort_keys: tuple[str, ...] = ()

    period = forms.ChoiceField(label=_("Period"), choices=PRESETS, required=False)
    start = ISODateField(label=_("from"))
    end = ISODateField(label=_("to"))
    sort = forms.CharField(required=False, widget=forms.HiddenInput)
    # the pay columns, for whoever may not see drivers' pay (``Report.make_form``)
    hidden_sort_keys: frozenset[str] = frozenset()
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    page_size = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, widget=forms.HiddenInput
    )
    format = forms.ChoiceField(
        required=False, choices=[("html", "html"), ("json", "json"), ("csv", "csv"), ("xlsx", "xlsx")]
    )
    sep = forms.ChoiceField(required=False, choices=[("comma", "comma"), ("semicolon", "semicolon")])

    HIDDEN = ("period", "start", "end", "sort", "page", "page_size", "format", "sep")

    @property
    def filter_names(self) -> list[str]:
        """The report's own filters, drawn after the period."""
        return [name for name in self.fields if name not in self.HIDDEN]

    def clean_sort(self):
        sort = self.cleaned_data.get("sort") or ""
        if sort and sort.lstrip("-") not in self.sort_keys:
            raise forms.ValidationError(_("Unknown sort column."))
        if sort.lstrip("-") in self.hidden_sort_keys:
            raise forms.ValidationError(_("Only those who may see drivers' pay may sort by it."))
        return sort

    def clean(self):
        data = super().clean()
        if not self.period_required:
            return data
        preset = data.get("period") or ""
        start, end = data.get("start"), data.get("end")
        if "start" in self.errors or "end" in self.errors:
            return data
        if preset in ("", "custom") and (start or end or preset == "custom"):
            if not start:
                self.add_error("start", _("Give the first day of the period."))
            if not end:
                self.add_error("end", _("Give the last day of the period."))
            if start and end:
                if end < start:
                    self.add_error("end", _("The period ends before it starts."))
                elif (end - start).days + 1 > MAX_PERIOD_DAYS:
                    self.add_error("end", _("The period is longer than three years."))
                else:
                    data["period"] = Period(start, end, "custom")
            return data
        preset = preset or "this_month"
        start, end = preset_range(preset, timezone.localdate())
        data["period"] = Period(start, end, preset)
        data["start"], data["end"] = start, end
        return data


def local_day(field: str):
    """The company-time date of a moment, computed by the database: the export's rows need
    no time-zone conversion each in Python."""
    return TruncDate(field, tzinfo=timezone.get_current_timezone())


def url_of(name: str):
    """``reverse(name, args=[pk])`` for many pks at the cost of one ``reverse``: a report
    page links every row, and resolving each link is more of the page's time than its
    queries."""
    marker = 987654321987
    head, tail = reverse(name, args=[marker]).split(str(marker))
    return lambda pk: f"{head}{pk}{tail}"


# --- columns and the report -------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, date, money, hours, km, number, percent, int
    pay: bool = False  # a driver's pay: hidden without the view_driver_pay right
    sort: str | None = None  # the ORDER BY field when the column sorts
    width: int = 14  # in the XLSX


class Report:
    """A report over a queryset: rows paged or streamed, totals in one aggregate."""

    slug = ""
    title = ""
    form_class = ReportForm
    columns: list[Column] = []
    default_sort = ""

    def __init__(self, data: dict, user):
        self.data = data
        self.user = user
        self.show_pay = can_see_pay(user)

    @classmethod
    def make_form(cls, data, user, **kwargs) -> ReportForm:
        """The report's query form for this user: a pay column is no sort key for whoever
        may not see drivers' pay (the order would give the pay away)."""
        form = cls.form_class(data, **kwargs)
        if not can_see_pay(user):
            form.hidden_sort_keys = frozenset(c.key for c in cls.columns if c.pay)
        return form

    @property
    def period(self) -> Period | None:
        return self.data.get("period")

    @property
    def visible_columns(self) -> list[Column]:
        return [c for c in self.columns if self.show_pay or not c.pay]

    # to be given by each report
    def queryset(self):
        raise NotImplementedError

    def value_fields(self) -> list[str]:
        raise NotImplementedError

    def make_row(self, values: dict) -> dict:
        raise NotImplementedError

    def totals(self) -> dict:
        raise NotImplementedError

    def filter_labels(self) -> list[str]:
        return []

    # shared
    def order(self) -> list:
        sort = self.data.get("sort") or self.default_sort
        desc = sort.startswith("-")
        column = {c.key: c for c in self.columns}[sort.lstrip("-")]
        field = F(column.sort)
        first = field.desc(nulls_last=True) if desc else field.asc(nulls_first=True)
        return [first, "-pk" if desc else "pk"]

    def ordered(self):
        return self.queryset().order_by(*self.order())

    def rows_queryset(self):
        return self.ordered().values(*self.value_fields())

    def page(self, number: int, size: int) -> list[dict]:
        offset = (number - 1) * size
        values = self.rows_queryset()[offset : offset + size]
        return [self._visible(self.make_row(v)) for v in values]

    def iter_rows(self):
        with report_queries():
            for values in self.rows_queryset().iterator(chunk_size=CHUNK):
                yield self._visible(self.make_row(values))

    def visible_totals(self) -> dict:
        """The totals the user may see, computed once per report (the page and its charts)."""
        if not hasattr(self, "_totals_cache"):
            self._totals_cache = self._visible(self.totals())
        return self._totals_cache

    extra_pay_keys: frozenset = frozenset()

    @property
    def pay_keys(self) -> set[str]:
        return {c.key for c in self.columns if c.pay} | set(self.extra_pay_keys)

    def _visible(self, row: dict) -> dict:
        if self.show_pay:
            return row
        hidden = self.pay_keys
        return {k: v for k, v in row.items() if k not in hidden}

    def links(self, row: dict) -> dict:
        """Links of a row's cells on the page (not in the exports)."""
        return {}

    def period_query(self) -> str:
        p = self.period
        return f"?period=custom&start={p.start:%Y-%m-%d}&end={p.end:%Y-%m-%d}" if p else ""

    def title_line(self) -> str:
        parts = [str(self.title)]
        if self.period:
            parts.append(self.period.label())
        parts.extend(self.filter_labels())
        return " · ".join(parts)
