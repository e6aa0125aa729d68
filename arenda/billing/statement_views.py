"""Pages of bank statements: the upload with the list of imported files, one import's
result, and the payments waiting for the accountant (assign to an invoice or set aside)."""

from collections import defaultdict

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from arenda.billing import statements
from arenda.billing.filters import StatementPaymentFilter
from arenda.billing.models import BankStatement, Invoice, StatementPayment
from arenda.billing.services import BillingRefused
from arenda.core.money import format_rub
from arenda.core.permissions import require
from arenda.core.roles import Action, can
from arenda.flows import payments
from arenda.front.paginator import CappedPaginator

RESOURCE = "bank_statement"
PAGE_SIZE = 50
State = StatementPayment.State


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Statement file"),
        help_text=gettext_lazy(
            "A 1CClientBankExchange file (kl_to_1c.txt) exported from the bank's client for 1C, up to 10 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,text/plain"}),
    )


class AssignForm(forms.Form):
    invoice = forms.ModelChoiceField(
        queryset=Invoice.objects.counted(), required=False, label=gettext_lazy("Invoice")
    )
    number = forms.CharField(max_length=30, required=False, label=gettext_lazy("or invoice №"))

    def clean(self):
        data = super().clean()
        if data.get("invoice") or self.errors:
            return data
        number = statements.normal_number(data.get("number", ""))
        if not number:
            raise forms.ValidationError(_("Choose the invoice or type its number."))
        found = list(Invoice.objects.open().filter(statements.invoice_number_q({number}))[:2])
        if not found:
            raise forms.ValidationError(_("No open invoice has this number."))
        if len(found) > 1:
            raise forms.ValidationError(_("Several open invoices have this number; choose one in the list."))
        data["invoice"] = found[0]
        return data


@require(Action.VIEW, RESOURCE)
@require_http_methods(["GET", "POST"])
def statement_list(request):
    """The upload form and the imported statements, newest first."""
    form = UploadForm()
    status = 200
    if request.method == "POST":
        if not can(request.user, Action.ADD, RESOURCE):
            raise PermissionDenied
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = payments.statement_import(
                    file_name=upload.name, data=statements.read_upload(upload), by=request.user
                )
            except statements.StatementError as exc:
                form.add_error("file", exc.message)
            else:
                _report(request, result)
                return redirect("billing:statement_detail", pk=result.statement.pk)
        status = 400
    page = CappedPaginator(
        BankStatement.objects.select_related("imported_by")
        .annotate(
            incoming=Count("payments"),
            waiting=Count("payments", filter=Q(payments__state__in=statements.WAITING)),
        )
        .order_by("-created_at", "-pk"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/statement_list.html",
        {
            "form": form,
            "can_import": can(request.user, Action.ADD, RESOURCE),
            "page_obj": page,
            "waiting": StatementPayment.objects.filter(state__in=statements.WAITING).count(),
        },
        status=status,
    )


def _report(request, result: statements.ImportResult) -> None:
    if not result.created:
        messages.info(
            request,
            _("This file was already imported on %(date)s; nothing new is recorded. Its result:")
            % {"date": timezone.localtime(result.statement.created_at).strftime("%d.%m.%Y %H:%M")},
        )
        return
    messages.success(
        request,
        _("Statement imported: %(matched)s payments matched to invoices, %(waiting)s wait for you.")
        % {"matched": len(result.matched), "waiting": len(result.waiting)},
    )
    if result.known:
        messages.info(
            request,
            _("%(count)s payments were imported before from another file and are not counted again.")
            % {"count": result.known},
        )
    for warning in result.warnings:
        messages.warning(request, warning)


def _payments():
    return StatementPayment.objects.select_related(
        "payment__invoice__counterparty", "statement"
    ).prefetch_related("candidates__counterparty")


@require(Action.VIEW, RESOURCE)
def statement_detail(request, pk):
    statement = get_object_or_404(BankStatement.objects.select_related("imported_by"), pk=pk)
    rows = list(_payments().filter(statement=statement).order_by("date", "pk"))
    groups = [
        (label, [r for r in rows if r.state in states])
        for label, states in (
            (_("Matched to invoices"), {State.MATCHED}),
            (_("Waiting for the accountant"), set(statements.WAITING)),
            (_("Assigned by hand"), {State.ASSIGNED}),
            (_("Not ours"), {State.IGNORED}),
        )
    ]
    return render(
        request,
        "billing/statement_detail.html",
        {
            "statement": statement,
            "groups": [g for g in groups if g[1]],
            "total": len(rows),
            "waiting": sum(1 for r in rows if r.state in statements.WAITING),
        },
    )


def _render_waiting(request, *, bound=None, status=200):
    """Each waiting payment with its choices: the candidates, then the payer's open invoices."""
    show = request.GET.get("show")
    states = [State.IGNORED] if show == "ignored" else list(statements.WAITING)
    waiting = StatementPaymentFilter({"state": ",".join(states)}, queryset=_payments()).qs
    page = CappedPaginator(waiting.order_by("date", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    by_inn = defaultdict(list)
    inns = {r.payer_inn for r in rows if r.payer_inn}
    for invoice in Invoice.objects.open().filter(counterparty__inn__in=inns).select_related("counterparty"):
        by_inn[invoice.counterparty.inn].append(invoice)
    items = []
    for row in rows:
        choices = list(row.candidates.all())
        choices += [i for i in by_inn.get(row.payer_inn, []) if i not in choices]
        form = bound[1] if bound and bound[0] == row.pk else AssignForm(prefix=f"p{row.pk}")
        items.append({"row": row, "choices": choices, "form": form})
    return render(
        request,
        "billing/statement_waiting.html",
        {
            "items": items,
            "page_obj": page,
            "show": show,
            "can_decide": can(request.user, Action.CHANGE, RESOURCE),
        },
        status=status,
    )


@require(Action.VIEW, RESOURCE)
def statement_waiting(request):
    return _render_waiting(request)


def _back(request) -> str:
    return reverse("billing:statement_waiting") + (f"?{request.GET.urlencode()}" if request.GET else "")


@require(Action.CHANGE, RESOURCE)
@require_POST
def statement_payment_assign(request, pk):
    row = get_object_or_404(StatementPayment, pk=pk)
    form = AssignForm(request.POST, prefix=f"p{row.pk}")
    if not form.is_valid():
        return _render_waiting(request, bound=(row.pk, form), status=400)
    invoice = form.cleaned_data["invoice"]
    try:
        payments.statement_payment_assign(statement_payment=row, invoice=invoice, by=request.user)
    except BillingRefused as exc:
        form.add_error(None, exc.detail)
        return _render_waiting(request, bound=(row.pk, form), status=409)
    messages.success(
        request,
        _("Payment № %(number)s of %(amount)s is recorded against %(invoice)s.")
        % {"number": row.number, "amount": format_rub(row.amount), "invoice": invoice},
    )
    return redirect(_back(request))


@require(Action.CHANGE, RESOURCE)
@require_POST
def statement_payment_ignore(request, pk):
    row = get_object_or_404(StatementPayment, pk=pk)
    try:
        statements.statement_payment_ignore(statement_payment=row, by=request.user)
    except BillingRefused as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(
            request, _("Payment № %(number)s is set aside as not ours.") % {"number": row.number}
        )
    return redirect(_back(request))
