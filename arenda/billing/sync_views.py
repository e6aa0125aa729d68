"""The "1C sync" page for the accountant: per 1C base, the invoices and closing documents
waiting for 1C or failed with their last error, when payments were last read, "retry" per
document and "sync now" per base."""

from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from arenda.billing import services
from arenda.billing.models import Act, Invoice
from arenda.core.permissions import require
from arenda.core.roles import Action, can
from arenda.directory.models import AccountingBase
from arenda.flows import payments

S = Invoice.SyncStatus
SHOWN_PER_BASE = 50


@require(Action.VIEW, "accounting_base")
def sync_overview(request):
    waiting = (
        Invoice.objects.filter(sync_status__in=[S.PENDING, S.FAILED])
        .select_related("counterparty")
        .order_by("-sync_status", "sync_next_attempt_at", "pk")  # failed first: they need a person
    )
    bases = (
        AccountingBase.objects.filter(is_active=True)
        .select_related("organization", "onec_sync")
        .annotate(
            pending=Count("invoices", filter=Q(invoices__sync_status=S.PENDING)),
            failed=Count("invoices", filter=Q(invoices__sync_status=S.FAILED)),
            synced=Count("invoices", filter=Q(invoices__sync_status=S.SYNCED)),
        )
        .prefetch_related(Prefetch("invoices", queryset=waiting, to_attr="waiting"))
        .order_by("name")
    )
    bases = list(bases.prefetch_related(Prefetch("acts", queryset=_waiting_acts(), to_attr="waiting_acts")))
    act_counts = {
        row["accounting_base"]: row
        for row in Act.objects.filter(accounting_base__in=bases)
        .values("accounting_base")
        .annotate(
            pending=Count("pk", filter=Q(sync_status=S.PENDING)),
            failed=Count("pk", filter=Q(sync_status=S.FAILED)),
            synced=Count("pk", filter=Q(sync_status=S.SYNCED)),
        )
    }
    for base in bases:
        base.more_waiting = len(base.waiting) > SHOWN_PER_BASE or len(base.waiting_acts) > SHOWN_PER_BASE
        base.waiting = base.waiting[:SHOWN_PER_BASE]
        base.waiting_acts = base.waiting_acts[:SHOWN_PER_BASE]
        base.acts_count = act_counts.get(base.pk, {"pending": 0, "failed": 0, "synced": 0})
        for document in [*base.waiting, *base.waiting_acts]:
            document.link = _link(document)
    return render(
        request,
        "billing/sync.html",
        {
            "bases": bases,
            "shown": SHOWN_PER_BASE,
            "can_sync": can(request.user, Action.CHANGE, "accounting_base"),
        },
    )


def _waiting_acts():
    return (
        Act.objects.filter(sync_status__in=[S.PENDING, S.FAILED])
        .select_related("counterparty")
        .order_by("-sync_status", "sync_next_attempt_at", "pk")  # failed first: they need a person
    )


def _link(document) -> str:
    try:
        return document.get_absolute_url()
    except NoReverseMatch:  # the closing documents' pages are not installed
        return ""


@require(Action.CHANGE, "accounting_base")
@require_POST
def sync_base_now(request, pk):
    base = get_object_or_404(AccountingBase, pk=pk, is_active=True)
    result = payments.sync_base(base.pk)
    messages.success(
        request,
        _("%(base)s: %(pushed)d sent to 1C, %(failed)d not sent, %(payments)d new payments.")
        % {"base": base, **result},
    )
    return redirect("billing:sync")


@require(Action.CHANGE, "accounting_base")
@require_POST
def sync_retry(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk)
    try:
        services.invoice_retry_sync(invoice=invoice, by=request.user)
    except services.BillingRefused as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("%(invoice)s is queued for 1C again.") % {"invoice": invoice})
    return redirect("billing:sync")


@require(Action.CHANGE, "accounting_base")
@require_POST
def sync_act_retry(request, pk):
    act = get_object_or_404(Act, pk=pk)
    try:
        services.act_retry_sync(act=act, by=request.user)
    except services.BillingRefused as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("%(act)s is queued for 1C again.") % {"act": act})
    return redirect("billing:sync")
