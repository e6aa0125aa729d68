"""The report pages: a filter form in the URL, the table of one page of rows, totals of the
whole period, charts, and the same report as XLSX or CSV (``?format=xlsx|csv``).

Each page runs a fixed number of queries whatever the number of rows: the totals in one
aggregate, each chart in one grouped query, the page of rows in one query."""

from django.shortcuts import get_object_or_404, render
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from arenda.core.formats import format_plate
from arenda.core.money import format_rub
from arenda.core.permissions import require
from arenda.core.roles import Action
from arenda.directory.models import Driver
from arenda.reports import exports, svg
from arenda.reports.core import PAGE_SIZE, report_queries, url_of
from arenda.reports.discrepancies import DiscrepanciesReport
from arenda.reports.fleet import FleetReport
from arenda.reports.payroll import DriverPayrollReport, PayrollReport
from arenda.reports.plates import PlatesReport
from arenda.reports.receivables import BUCKETS, ReceivablesReport
from arenda.reports.templatetags.reports import display, report_cell

REPORTS = [
    (
        "reports:payroll",
        gettext_lazy("Driver payroll"),
        gettext_lazy("Trips, hours and pay of every driver; staff and contractors."),
    ),
    (
        "reports:plates",
        gettext_lazy("Plates"),
        gettext_lazy("What every machine earned per trip, by hours and km; suppliers' margin."),
    ),
    (
        "reports:receivables",
        gettext_lazy("Receivables"),
        gettext_lazy("Who owes what on a date, by how long it is overdue; unpaid overtime."),
    ),
    (
        "reports:fleet",
        gettext_lazy("Fleet"),
        gettext_lazy("Utilisation and revenue of every unit; own vs suppliers' machines."),
    ),
    (
        "reports:discrepancies",
        gettext_lazy("Discrepancies"),
        gettext_lazy("Trips whose waybill differs from the tracker; the extra hours and the money at stake."),
    ),
]


def _hours(value) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",") + "\u00a0" + _("h")


def _querystring(request, **changes) -> str:
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + params.urlencode() if params else "?"


def _sort_links(request, report) -> list[dict]:
    current = report.data.get("sort") or report.default_sort
    out = []
    for c in report.visible_columns:
        item = {"column": c, "url": None, "dir": None}
        if c.sort:
            if current.lstrip("-") == c.key:
                item["dir"] = "desc" if current.startswith("-") else "asc"
                new = c.key if current.startswith("-") else f"-{c.key}"
            else:
                new = c.key
            item["url"] = _querystring(request, sort=new, page=None)
        out.append(item)
    return out


def _rows_html(rows, columns, cell=report_cell) -> list[str]:
    """The table's rows as HTML in one pass in Python (a template tag per cell costs more
    than the page's queries). ``cell(row, column)`` gives a cell's content (escaped)."""
    out = []
    for row in rows:
        cells = "".join(
            f'<td class="{c.kind} col-{c.key}">{conditional_escape(cell(row, c))}</td>' for c in columns
        )
        out.append(mark_safe(cells))  # noqa: S308 - every value escaped above
    return out


def run(request, report_class, template: str, extra=None, context=None, cell=report_cell, **form_kwargs):
    """Validate the query string; answer with an export, the page, or the form's errors.
    ``cell`` renders a table cell on the page (the exports take the row's values)."""
    form = report_class.make_form(request.GET, request.user, **form_kwargs)
    context = {"form": form, "report_class": report_class, "reports": REPORTS, **(context or {})}
    if not form.is_valid():
        return render(request, template, context, status=400)
    report = report_class(form.cleaned_data, request.user)
    fmt = form.cleaned_data.get("format") or "html"
    if fmt == "csv":
        return exports.csv_response(report)
    if fmt == "xlsx":
        return exports.xlsx_response(report)
    with report_queries():
        totals = report.visible_totals()
        count = totals.get("count", 0)
        pages = max((count + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        page = min(form.cleaned_data.get("page") or 1, pages)
        rows = report.page(page, PAGE_SIZE)
        extra_context = extra(report) if extra else {}
    for row in rows:
        row["links"] = report.links(row)
    headers = _sort_links(request, report)
    context.update(
        report=report,
        rows=rows,
        row_html=_rows_html(rows, [h["column"] for h in headers], cell),
        totals=totals,
        headers=headers,
        page=page,
        pages=pages,
        previous_url=_querystring(request, page=page - 1) if page > 1 else None,
        next_url=_querystring(request, page=page + 1) if page < pages else None,
        xlsx_url=_querystring(request, format="xlsx", page=None),
        csv_url=_querystring(request, format="csv", sep=None, page=None),
        csv_semicolon_url=_querystring(request, format="csv", sep="semicolon", page=None),
    )
    context.update(extra_context)
    return render(request, template, context)


@require(Action.VIEW, "report")
def index(request):
    return render(request, "reports/index.html", {"reports": REPORTS})


# --- payroll ----------------------------------------------------------------------------------
def _payroll_extra(report):
    by_driver = report.by_driver()
    top = by_driver[:20]
    charts = [
        svg.bars([(r["driver"], r["hours"], _hours(r["hours"])) for r in top], title=_("Hours per driver"))
    ]
    if report.show_pay:
        ranked = sorted(top, key=lambda r: r["amount"], reverse=True)
        charts.append(
            svg.bars(
                [(r["driver"], r["amount"], format_rub(r["amount"])) for r in ranked],
                title=_("Earnings per driver"),
                color=svg.COLORS[1],
            )
        )
    driver_url, query = url_of("reports:payroll_driver"), report.period_query()
    rows_html = []
    for r in by_driver:  # in one pass in Python: a fleet has hundreds of drivers (see _rows_html)
        cells = (
            f'<td><a href="{conditional_escape(driver_url(r["driver_id"]) + query)}">'
            f"{conditional_escape(r['driver'])}</a></td><td>{conditional_escape(r['employment'])}</td>"
            f'<td class="int">{r["trips"]}</td><td class="hours">{display(r["hours"], "hours")}</td>'
        )
        if report.show_pay:
            cells += f'<td class="money">{display(r["amount"], "money")}</td>'
        rows_html.append(mark_safe(cells))  # noqa: S308 - every value escaped or formatted above
    return {"by_driver": by_driver, "by_driver_html": rows_html, "charts": charts}


@require(Action.VIEW, "report")
def payroll(request):
    return run(request, PayrollReport, "reports/payroll.html", extra=_payroll_extra)


def _driver_extra(report):
    weeks = report.by_week()
    charts = [
        svg.columns(
            [(f"{w['week']:%d.%m}", w["hours"], _hours(w["hours"])) for w in weeks], title=_("Hours per week")
        )
    ]
    if report.show_pay:
        charts.append(
            svg.columns(
                [(f"{w['week']:%d.%m}", w["amount"], format_rub(w["amount"])) for w in weeks],
                title=_("Earnings per week"),
                color=svg.COLORS[1],
            )
        )
    return {"weeks": weeks, "charts": charts}


@require(Action.VIEW, "report")
def payroll_driver(request, pk: int):
    driver = get_object_or_404(Driver, pk=pk)
    return run(
        request,
        DriverPayrollReport,
        "reports/payroll_driver.html",
        extra=_driver_extra,
        context={"driver": driver},
        driver=driver,
    )


# --- plates -----------------------------------------------------------------------------------
def _plates_extra(report):
    by_plate = report.by_plate()
    totals = report.visible_totals()
    charts = [
        svg.bars(
            [
                (format_plate(r["plate"]) or "—", r["revenue"], format_rub(r["revenue"]))
                for r in by_plate[:15]
            ],
            title=_("Revenue per plate"),
        ),
        svg.stacked(
            [
                (_("Own machines"), totals["own_revenue"], format_rub(totals["own_revenue"])),
                (
                    _("Suppliers' machines"),
                    totals["supplier_revenue"],
                    format_rub(totals["supplier_revenue"]),
                ),
            ],
            title=_("Revenue: own vs suppliers' machines"),
        ),
    ]
    return {"by_plate": by_plate, "charts": charts}


@require(Action.VIEW, "report")
def plates(request):
    return run(request, PlatesReport, "reports/plates.html", extra=_plates_extra)


# --- receivables ------------------------------------------------------------------------------
def _receivables_extra(report):
    totals = report.visible_totals()
    charts = [
        svg.bars(
            [(label, totals[key], format_rub(totals[key])) for key, label in BUCKETS],
            title=_("Ageing of the debt"),
            color=svg.COLORS[3],
        )
    ]
    return {"invoice_rows": report.invoice_rows(), "charts": charts, "as_of": report.as_of}


@require(Action.VIEW, "report")
def receivables(request):
    return run(request, ReceivablesReport, "reports/receivables.html", extra=_receivables_extra)


# --- fleet ------------------------------------------------------------------------------------
def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}".replace(".", ",") + "\u00a0%"


def _fleet_extra(report):
    totals = report.visible_totals()
    ranked = sorted(report._rows(), key=lambda r: r["utilisation"] or 0, reverse=True)[:20]
    charts = [
        svg.bars(
            [
                (f"{format_plate(r['plate'])} {r['unit']}", r["utilisation"] or 0, _percent(r["utilisation"]))
                for r in ranked
            ],
            title=_("Utilisation per unit"),
            color=svg.COLORS[1],
        ),
        svg.stacked(
            [
                (_("Own machines"), totals["own_revenue"], format_rub(totals["own_revenue"])),
                (
                    _("Suppliers' machines"),
                    totals["supplier_revenue"],
                    format_rub(totals["supplier_revenue"]),
                ),
            ],
            title=_("Revenue: own vs suppliers' machines"),
        ),
    ]
    return {"by_type": report.by_type(), "charts": charts}


@require(Action.VIEW, "report")
def fleet(request):
    return run(request, FleetReport, "reports/fleet.html", extra=_fleet_extra)


# --- discrepancies ----------------------------------------------------------------------------
STATE_BADGES = {"open": "warning", "accepted": "", "dismissed": "neutral"}


def _discrepancy_cell(row, column):
    """The state as a badge, with the reason and who decided, when, below it."""
    if column.key != "state":
        return report_cell(row, column)
    code = row.get("state_code") or ""
    badge = format_html('<span class="badge {}">{}</span>', STATE_BADGES.get(code, ""), row["state_label"])
    decided = [
        row.get("decided_by") or "",
        f"{row['decided_at']:%d.%m.%Y %H:%M}" if row.get("decided_at") else "",
    ]
    who = ", ".join(part for part in decided if part)
    reason = row.get("reason") or ""
    return format_html(
        "{}{}{}",
        badge,
        format_html('<span class="discrepancy-reason">{}</span>', reason) if reason else "",
        format_html('<span class="muted discrepancy-who">{}</span>', who) if who else "",
    )


@require(Action.VIEW, "report")
def discrepancies(request):
    return run(request, DiscrepanciesReport, "reports/discrepancies.html", cell=_discrepancy_cell)
