"""Receivables: what each counterparty owed on a date, by how long it was overdue.

An invoice counts when it was issued on or before the date (not a draft, not cancelled)
and the payments dated on or before that day do not cover it; payments after the date do
not count, so the report for a past date shows what was owed then
(``arenda/billing/selectors.py`` ``owed_on``, which the dashboard reads for today). Overtime
invoices are also shown apart. «Act not signed» keeps the debts no signed closing document
covers yet (``act_unsigned``)."""

from django import forms
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenda.billing.models import Act, ActBooking, Invoice
from arenda.billing.selectors import credit_on, owed_on
from arenda.core.money import rubles
from arenda.directory.models import Counterparty
from arenda.front.lookup import LookupField
from arenda.reports.core import Column, ISODateField, Report, ReportForm

BUCKETS = [
    ("not_due", _("Not due")),
    ("d1_7", _("1–7 days")),
    ("d8_30", _("8–30 days")),
    ("d31_60", _("31–60 days")),
    ("d60", _("over 60 days")),
]


class ReceivablesForm(ReportForm):
    period_required = False
    sort_keys = ("counterparty", "invoices", "not_due", "d1_7", "d8_30", "d31_60", "d60", "overtime", "total")

    as_of = ISODateField(label=_("As of"))
    # typed and picked (docs/autocomplete.md): the directory is not rendered in every page
    counterparty = LookupField(
        "counterparty", label=_("Counterparty"), queryset=Counterparty.objects.all(), required=False
    )
    counterparty.widget.attrs["placeholder"] = _("all")
    act_unsigned = forms.BooleanField(label=_("Act not signed"), required=False)

    def __init__(self, data=None, **kwargs):
        if data is not None and not data.get("as_of"):
            data = data.copy()
            data["as_of"] = timezone.localdate().isoformat()
        super().__init__(data, **kwargs)

    def clean(self):
        data = super().clean()
        if not data.get("as_of") and "as_of" not in self.errors:
            data["as_of"] = timezone.localdate()
        data["period"] = None
        return data


def bucket_of(due_date, as_of) -> str:
    """The ageing bucket of one invoice: overdue days = as_of − due date; an invoice without
    a due date is not due."""
    if due_date is None or due_date >= as_of:
        return "not_due"
    late = (as_of - due_date).days
    return "d1_7" if late <= 7 else "d8_30" if late <= 30 else "d31_60" if late <= 60 else "d60"


def without_signed_act(invoices):
    """The invoices no signed closing document covers: neither their booking has an active
    link to a signed act (``ActBooking``) nor a signed act names the invoice itself. An
    invoice without a booking (a deal's) counts until an act naming it is signed."""
    signed = Act.Status.SIGNED
    booking_signed = ActBooking.objects.filter(
        active=True, act__status=signed, booking=OuterRef("booking_id")
    )
    invoice_signed = Act.objects.filter(status=signed, invoices=OuterRef("pk"))
    return invoices.exclude(Exists(booking_signed)).exclude(Exists(invoice_signed))


class ReceivablesReport(Report):
    slug = "receivables"
    title = _("Receivables")
    form_class = ReceivablesForm
    default_sort = "-total"
    columns = [
        Column("counterparty", _("Counterparty"), "text", sort="counterparty__name", width=36),
        Column("invoices", _("Invoices"), "int", sort="n_invoices", width=9),
        *[Column(key, label, "money", sort=f"{key}_k", width=14) for key, label in BUCKETS],
        Column("overtime", _("Unpaid overtime"), "money", sort="overtime_k", width=14),
        Column("total", _("Total due"), "money", sort="due_total_k", width=15),
    ]

    @property
    def as_of(self):
        return self.data["as_of"]

    def invoices(self):
        """Invoices unpaid on ``as_of`` with ``due_k``, what was still owed, in kopecks."""
        invoices = owed_on(self.as_of, counterparty=self.data.get("counterparty"))
        if self.data.get("act_unsigned"):
            invoices = without_signed_act(invoices)
        return invoices

    def queryset(self):
        """The rows per counterparty, summed in Python from the one read of owed invoices
        (``_grouped``), in the report's order."""
        return self._grouped()

    # The owed invoices are read once per report (one query: what was paid by the day is
    # the costly part at a million invoices) and summed here; the page, the totals, the
    # invoice list and the exports all read that one list.
    def _owed(self) -> list[tuple]:
        """(pk, counterparty id, due date, overtime?, due in kopecks, bucket) of each invoice."""
        if not hasattr(self, "_owed_cache"):
            as_of = self.as_of
            self._owed_cache = [
                (*row, bucket_of(row[2], as_of))
                for row in self.invoices()
                .order_by()
                .values_list("pk", "counterparty_id", "due_date", "is_overtime", "due_k")
            ]
        return self._owed_cache

    def _grouped(self) -> list[dict]:
        """One row per counterparty, in the report's order: the values ``queryset`` gives."""
        if hasattr(self, "_grouped_cache"):
            return self._grouped_cache
        groups: dict[int, dict] = {}
        empty = {f"{key}_k": 0 for key, _label in BUCKETS} | {
            "overtime_k": 0,
            "due_total_k": 0,
            "n_invoices": 0,
        }
        for _pk, cp_id, _due_date, is_overtime, due_k, bucket in self._owed():
            g = groups.get(cp_id)
            if g is None:
                g = groups[cp_id] = {"counterparty_id": cp_id, **empty}
            g["n_invoices"] += 1
            g[f"{bucket}_k"] += due_k
            if is_overtime:
                g["overtime_k"] += due_k
            g["due_total_k"] += due_k
        # the names of the counterparties owing: one query by primary key
        for pk, name in Counterparty.objects.filter(pk__in=groups).values_list("pk", "name"):
            groups[pk]["counterparty__name"] = name
        sort = self.data.get("sort") or self.default_sort
        key = {c.key: c.sort for c in self.columns}[sort.lstrip("-")]
        rows = sorted(groups.values(), key=lambda g: (g["counterparty__name"], g["counterparty_id"]))
        if key != "counterparty__name" or sort.startswith("-"):  # stable: ties stay in name order
            rows.sort(key=lambda g: g[key], reverse=sort.startswith("-"))
        self._grouped_cache = rows
        return rows

    def make_row(self, v):
        row = {
            "counterparty_id": v["counterparty_id"],
            "counterparty": v["counterparty__name"],
            "invoices": v["n_invoices"],
            "overtime": rubles(v["overtime_k"]),
            "total": rubles(v["due_total_k"]),
        }
        for key, _label in BUCKETS:
            row[key] = rubles(v[f"{key}_k"])
        return row

    def page(self, number: int, size: int) -> list[dict]:
        offset = (number - 1) * size
        return [self._visible(self.make_row(v)) for v in self._grouped()[offset : offset + size]]

    def iter_rows(self):
        for values in self._grouped():
            yield self._visible(self.make_row(values))

    def links(self, row):
        unsigned = "&act_unsigned=1" if self.data.get("act_unsigned") else ""
        return {
            "counterparty": f"?as_of={self.as_of:%Y-%m-%d}&counterparty={row['counterparty_id']}{unsigned}"
        }

    def totals(self):
        sums = {f"{key}_k": 0 for key, _label in BUCKETS} | {"overtime_k": 0, "due_total_k": 0}
        for g in self._grouped():
            for name in sums:
                sums[name] += g[name]
        totals = {"count": len(self._grouped()), "invoices": len(self._owed())}
        totals.update({key: rubles(sums[f"{key}_k"]) for key, _label in BUCKETS})
        totals["overtime"] = rubles(sums["overtime_k"])
        totals["total"] = rubles(sums["due_total_k"])
        totals["overdue"] = totals["total"] - totals["not_due"]
        # what customers paid beyond their invoices: theirs to apply to later ones
        totals["credit"] = credit_on(self.as_of, counterparty=self.data.get("counterparty"))
        return totals

    def invoice_rows(self, limit: int = 100) -> list[dict]:
        """The unpaid invoices themselves (oldest due first) with links: one query for the
        hundred shown."""
        first = sorted(self._owed(), key=lambda row: (row[2] is None, row[2] or self.as_of, row[0]))[:limit]
        due = {row[0]: row[4] for row in first}
        details = {
            r["pk"]: r
            for r in Invoice.objects.filter(pk__in=due).values(
                "pk",
                "number",
                "date",
                "due_date",
                "total",
                "is_overtime",
                "counterparty__name",
                "deal_id",
                "deal__title",
            )
        }
        out = []
        for pk, *_rest in first:
            r = details[pk]
            overdue = (self.as_of - r["due_date"]).days if r["due_date"] else 0
            due_k = due[pk]
            out.append(
                {
                    "url": reverse("billing:invoice_detail", args=[pk]),
                    "number": r["number"],
                    "date": r["date"],
                    "due_date": r["due_date"],
                    "overdue_days": max(overdue, 0),
                    "counterparty": r["counterparty__name"],
                    "deal": r["deal__title"],
                    "deal_url": reverse("crm:deal_detail", args=[r["deal_id"]]) if r["deal_id"] else None,
                    "total": r["total"],
                    "paid": r["total"] - rubles(due_k),
                    "due": rubles(due_k),
                    "is_overtime": r["is_overtime"],
                }
            )
        return out

    def title_line(self) -> str:
        parts = [str(self.title), f"{_('as of')} {self.as_of:%d.%m.%Y}"]
        if self.data.get("counterparty"):
            parts.append(f"{_('Counterparty')}: {self.data['counterparty'].name}")
        if self.data.get("act_unsigned"):
            parts.append(str(_("Act not signed")))
        return " · ".join(parts)
