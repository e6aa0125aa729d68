"""``GET counterparties/{id}/reconciliation/?start=&end=&organization=&format=json|pdf|xlsx``:
the reconciliation statement (``arenda/billing/reconciliation.py``) as JSON, or its PDF or XLSX.
The parameters are the page's form (``billing/reconciliation_views.py``), the dates required
here: a bad one is a 400 naming it. Who may: whoever may read the reports."""

from datetime import date
from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from arenda.api.reports import ReportView
from arenda.billing.reconciliation import Statement
from arenda.billing.reconciliation_views import ReconciliationForm, file_response
from arenda.directory.models import Counterparty


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _side(debit: Decimal, credit: Decimal) -> dict:
    return {"debit": _money(debit), "credit": _money(credit)}


def statement_json(s: Statement) -> dict:
    return {
        "counterparty": s.counterparty.pk,
        "organization": s.organization.pk,
        "start": s.start.isoformat(),
        "end": s.end.isoformat(),
        "opening": _side(s.opening_debit, s.opening_credit),
        "rows": [
            {
                "date": date.isoformat(r.date),
                "document": str(r.document),
                "debit": _money(r.debit),
                "credit": _money(r.credit),
            }
            for r in s.rows
        ],
        "turnover": _side(s.turnover_debit, s.turnover_credit),
        "closing": _side(s.closing_debit, s.closing_credit),
        "balance": _money(s.closing),
        "in_favour_of": s.in_favour_of,
    }


class ReconciliationView(ReportView):
    """The reconciliation statement of a counterparty with one of our legal entities: opening
    balance, every act (debit) and payment (credit) by date, turnovers, closing balance
    (``balance`` signed: + the customer owes us; ``in_favour_of`` us|counterparty|none)."""

    @extend_schema(
        operation_id="counterparties_reconciliation",
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, required=True, description="first day"),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True, description="last day, inclusive"),
            OpenApiParameter(
                "organization", int, description="our legal entity (default: the one that dealt with it)"
            ),
            OpenApiParameter("format", str, enum=["json", "pdf", "xlsx"]),
        ],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="the statement, or its PDF/XLSX file"),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="a bad parameter, named"),
        },
    )
    def get(self, request, pk: int):
        counterparty = get_object_or_404(Counterparty, pk=pk)
        form = ReconciliationForm(request.query_params, counterparty=counterparty)
        if not form.is_valid():
            return Response(
                {("non_field_errors" if k == "__all__" else k): list(v) for k, v in form.errors.items()}, 400
            )
        fmt = form.cleaned_data.get("format") or "json"
        if fmt == "html":
            return Response({"format": [_("Choose json, pdf or xlsx.")]}, 400)
        s = form.statement()
        if fmt in ("pdf", "xlsx"):
            return file_response(s, fmt)
        return Response(statement_json(s))
