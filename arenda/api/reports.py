"""The reports over the API: the same reports as the pages (``arenda.reports``), JSON rows a
page at a time with totals of the whole period, or the whole report as a CSV or XLSX file
(``?format=csv|xlsx``). Parameters are those of the pages; a bad one is a 400 naming it."""

from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from arenda.reports import exports
from arenda.reports.core import report_queries
from arenda.reports.fleet import FleetReport
from arenda.reports.payroll import PayrollReport
from arenda.reports.plates import PlatesReport
from arenda.reports.receivables import ReceivablesReport

DEFAULT_PAGE_SIZE = 50


def _json(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _clean(row: dict) -> dict:
    row = dict(row)
    row.pop("links", None)
    if "employment_code" in row:
        row["employment"] = row.pop("employment_code")
    if "owner_code" in row:
        row["owner"] = row.pop("owner_code")
    return {k: _json(v) for k, v in row.items()}


PERIOD = [
    OpenApiParameter("period", str, enum=["this_month", "last_month", "this_quarter", "custom"]),
    OpenApiParameter("start", OpenApiTypes.DATE, description="first day (with end: a custom period)"),
    OpenApiParameter("end", OpenApiTypes.DATE, description="last day, inclusive"),
]
COMMON = [
    OpenApiParameter("sort", str, description="a column key, - for descending"),
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int),
    OpenApiParameter("format", str, enum=["json", "csv", "xlsx"]),
    OpenApiParameter("sep", str, enum=["comma", "semicolon"], description="CSV separator"),
]


class ReportView(APIView):
    resource = "report"
    report_class = None

    def perform_content_negotiation(self, request, force=False):
        """``?format=`` chooses the report's file, not a DRF renderer: always JSON here."""
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    def get(self, request):
        form = self.report_class.make_form(request.query_params, request.user)
        if not form.is_valid():
            return Response(
                {("non_field_errors" if k == "__all__" else k): list(v) for k, v in form.errors.items()}, 400
            )
        fmt = form.cleaned_data.get("format") or "json"
        if fmt == "html":
            return Response({"format": [_("Choose json, csv or xlsx.")]}, 400)
        report = self.report_class(form.cleaned_data, request.user)
        if fmt == "csv":
            return exports.csv_response(report, keys_in_header=True)
        if fmt == "xlsx":
            return exports.xlsx_response(report, keys_in_header=True)
        page = form.cleaned_data.get("page") or 1
        size = form.cleaned_data.get("page_size") or DEFAULT_PAGE_SIZE
        with report_queries():
            totals = report.visible_totals()
            count = totals.get("count", 0)
            rows = report.page(page, size) if (page - 1) * size < count else []

        def link(number):
            params = request.query_params.copy()
            params["page"] = number
            return request.build_absolute_uri(request.path + "?" + params.urlencode())

        period = report.period
        return Response(
            {
                "period": {"start": period.start.isoformat(), "end": period.end.isoformat()}
                if period
                else None,
                "as_of": _json(report.data.get("as_of")),
                "columns": [c.key for c in report.visible_columns],
                "count": count,
                "next": link(page + 1) if page * size < count else None,
                "previous": link(page - 1) if page > 1 and count else None,
                "results": [_clean(r) for r in rows],
                "totals": _clean(totals),
            }
        )


class DriverPayrollView(ReportView):
    """Driver payroll: one row per trip; pay columns only for those who may see drivers' pay."""

    report_class = PayrollReport

    @extend_schema(
        parameters=[
            *PERIOD,
            OpenApiParameter("driver", int),
            OpenApiParameter("employment", str, enum=["staff", "contractor"]),
            *COMMON,
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        return super().get(request)


class PlatesView(ReportView):
    """Plates: one row per trip with revenue by hours and km, supplier's cost and margin."""

    report_class = PlatesReport

    @extend_schema(
        parameters=[
            *PERIOD,
            OpenApiParameter("owner", str, enum=["own", "supplier"]),
            OpenApiParameter("counterparty", int),
            OpenApiParameter("equipment_type", int),
            *COMMON,
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        return super().get(request)


class ReceivablesView(ReportView):
    """Receivables per counterparty on a date, with ageing buckets and unpaid overtime."""

    report_class = ReceivablesReport

    @extend_schema(
        parameters=[
            OpenApiParameter("as_of", OpenApiTypes.DATE),
            OpenApiParameter("counterparty", int),
            OpenApiParameter("act_unsigned", bool, description="only debts no signed act covers yet"),
            *COMMON,
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        return super().get(request)


class FleetView(ReportView):
    """Fleet: booked hours, utilisation and revenue per unit."""

    report_class = FleetReport

    @extend_schema(
        parameters=[
            *PERIOD,
            OpenApiParameter("owner", str, enum=["own", "supplier"]),
            OpenApiParameter("equipment_type", int),
            *COMMON,
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        return super().get(request)
