"""Closing documents' pages (docs/closing-documents.md): the list with its filters and totals,
an act with its lines, what it closes, its corrections, signature and 1C state, and its
actions (issue, mark signed with the scan, cancel, delete a draft, retry the 1C push); the
booking's «Make the act» button and the counterparty's «Act for the month». Every write goes
through ``arenda.billing.acts``.

Who may do what mirrors invoices (``core/roles.py``): whoever reads invoices reads acts,
whoever makes invoices makes draft acts; issuing, marking signed and cancelling are the
accountant's and the admin's (the right that cancels invoices), deleting a draft needs the
right to delete invoices."""

from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, DecimalField, F, Prefetch, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from arenda.billing import acts, services
from arenda.billing.act_forms import MonthForm, SignForm
from arenda.billing.filters import ActFilter
from arenda.billing.forms import CancelForm
from arenda.billing.models import Act, ActBooking, ActLine
from arenda.bookings.models import Booking
from arenda.core.files import file_response, stored_scan
from arenda.core.money import vat_rate_percent
from arenda.core.permissions import require
from arenda.core.roles import Action, can, has_special
from arenda.directory.models import Counterparty, Organization
from arenda.front.history import history_entries
from arenda.front.paginator import CappedPaginator

PAGE_SIZE = 50
ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=14, decimal_places=2))


def may_issue(user) -> bool:
    """Issuing, marking signed and cancelling a closing document: the accountant's and the
    admin's (the special right that cancels invoices, ``core/roles.py``)."""
    return has_special(user, "cancel_invoice")


def may_make(user) -> bool:
    """Making a draft act: whoever makes invoices."""
    return can(user, Action.ADD, "invoice")


# --- the list -------------------------------------------------------------------------------
@require(Action.VIEW, "invoice")
def act_list(request):
    params = request.GET
    filterset = ActFilter.for_page(
        params, queryset=Act.objects.select_related("counterparty", "organization")
    )
    qs, selected = filterset.qs, filterset.selected()
    counted = Q(status__in=Act.COUNTED_STATUSES)
    totals = qs.aggregate(
        count=Count("pk"),
        counted=Coalesce(Sum("total", filter=counted), ZERO),
        signed=Coalesce(Sum("total", filter=Q(status=Act.Status.SIGNED)), ZERO),
        unsigned=Coalesce(Sum("total", filter=Q(status__in=[Act.Status.ISSUED, Act.Status.SENT])), ZERO),
        drafts=Count("pk", filter=Q(status=Act.Status.DRAFT)),
    )
    page_obj = CappedPaginator(
        qs.order_by(F("date").desc(nulls_first=True), "-sequence", "-pk"), PAGE_SIZE
    ).get_page(params.get("page"))
    context = {
        "page_obj": page_obj,
        "acts": page_obj.object_list,
        "q": params.get("q", "").strip(),
        "selected": selected,
        "totals": totals,
        "statuses": Act.Status.choices,
        "forms": Act.Form.choices,
        "sync_statuses": Act.SyncStatus.choices,
        "lookups": filterset.lookups(),
        "organizations": list(Organization.objects.order_by("name").only("pk", "name")),
        "filtered": any(selected.values()),
    }
    template = "billing/act_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context)


# --- one act --------------------------------------------------------------------------------
def _actions(act: Act, user) -> dict:
    draft = act.status == Act.Status.DRAFT
    issued = act.status in (Act.Status.ISSUED, Act.Status.SENT)
    accountant = may_issue(user)
    return {
        "issue": draft and accountant,
        "delete": draft and can(user, Action.DELETE, "invoice"),
        "sign": (issued or act.status == Act.Status.SIGNED) and accountant,
        "cancel": act.status in Act.COUNTED_STATUSES and accountant,
        "retry": act.sync_status == Act.SyncStatus.FAILED and can(user, Action.CHANGE, "accounting_base"),
    }


def _render_detail(request, pk, *, sign_form=None, cancel_form=None, error=None, status=200):
    act = get_object_or_404(
        Act.objects.select_related(
            "counterparty", "organization", "deal", "accounting_base", "issued_by", "corrects"
        ).prefetch_related(
            Prefetch("lines", queryset=ActLine.objects.select_related("booking").order_by("position", "pk")),
            Prefetch(
                "booking_links",
                queryset=ActBooking.objects.select_related("booking__deal", "booking__unit").order_by(
                    "booking"
                ),
            ),
            "invoices",
            Prefetch("corrections", queryset=Act.objects.order_by("pk")),
        ),
        pk=pk,
    )
    lines = list(act.lines.all())
    context = {
        "act": act,
        "lines": lines,
        "bookings": [link.booking for link in act.booking_links.all()],
        "invoices": list(act.invoices.all()),
        "corrections": list(act.corrections.all()),
        "vat_percent": vat_rate_percent(act.vat_rate),
        "actions": _actions(act, request.user),
        "sign_form": sign_form or SignForm(),
        "cancel_form": cancel_form or CancelForm(),
        "error": error,
        "history": history_entries(act),
    }
    return render(request, "billing/act_detail.html", context, status=status)


@require(Action.VIEW, "invoice")
def act_detail(request, pk):
    return _render_detail(request, pk)


def _accountant_only(request):
    if not may_issue(request.user):
        raise PermissionDenied


@require(Action.VIEW, "invoice")
@require_POST
def act_issue(request, pk):
    _accountant_only(request)
    act = get_object_or_404(Act, pk=pk)
    try:
        act = acts.act_issue(act=act, by=request.user)
    except services.BillingRefused as exc:
        return _render_detail(request, pk, error=exc.detail, status=409)
    except ValidationError as exc:
        return _render_detail(request, pk, error=" ".join(exc.messages), status=400)
    messages.success(request, _("%(name)s issued.") % {"name": act})
    return redirect(act.get_absolute_url())


@require(Action.VIEW, "invoice")
@require_POST
def act_mark_signed(request, pk):
    _accountant_only(request)
    act = get_object_or_404(Act, pk=pk)
    form = SignForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            act = acts.act_mark_signed(
                act=act, by=request.user, signer=data["signer"], on=data["signed_on"], scan=data["scan"]
            )
        except services.BillingRefused as exc:
            return _render_detail(request, pk, error=exc.detail, status=409)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("%(name)s is marked signed by the customer.") % {"name": act})
            return redirect(act.get_absolute_url())
    return _render_detail(request, pk, sign_form=form, status=400)


@require(Action.VIEW, "invoice")
@require_POST
def act_cancel(request, pk):
    _accountant_only(request)
    act = get_object_or_404(Act, pk=pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            act = acts.act_cancel(act=act, reason=form.cleaned_data["reason"], by=request.user)
        except services.BillingRefused as exc:
            return _render_detail(request, pk, error=exc.detail, status=409)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("%(name)s cancelled; its number stays used, its bookings are free.") % {"name": act},
            )
            return redirect(act.get_absolute_url())
    return _render_detail(request, pk, cancel_form=form, status=400)


@require(Action.DELETE, "invoice")
@require_POST
def act_delete(request, pk):
    act = get_object_or_404(Act, pk=pk)
    try:
        acts.act_delete_draft(act=act, by=request.user)
    except services.BillingRefused as exc:
        return _render_detail(request, pk, error=exc.detail, status=409)
    messages.success(request, _("The draft was deleted."))
    return redirect("billing:act_list")


@require(Action.CHANGE, "accounting_base")
@require_POST
def act_retry_sync(request, pk):
    act = get_object_or_404(Act, pk=pk)
    try:
        services.act_retry_sync(act=act, by=request.user)
    except services.BillingRefused as exc:
        return _render_detail(request, pk, error=exc.detail, status=409)
    messages.success(request, _("The closing document is queued for 1C again."))
    return redirect(act.get_absolute_url())


@require(Action.VIEW, "invoice")
def act_scan(request, pk):
    """The signed scan, only to whoever reads invoices, with the type its content is
    (docs/security.md, «Files»)."""
    act = get_object_or_404(Act, pk=pk)
    found = stored_scan(act.signed_scan, "", act.signed_scan.name if act.signed_scan else "", "act")
    if found is None:
        raise Http404
    handle, content_type, filename = found
    return file_response(handle, content_type=content_type, filename=filename)


# --- making acts ----------------------------------------------------------------------------
def _refusal(exc) -> str:
    return getattr(exc, "detail", None) or " ".join(exc.messages)


@require(Action.VIEW, "booking")
@require_POST
def booking_act(request, booking_pk):
    """The booking page's «Make the act»: the draft act of this completed booking."""
    if not may_make(request.user):
        raise PermissionDenied
    booking = get_object_or_404(Booking, pk=booking_pk)
    try:
        act = acts.act_create(bookings=[booking], by=request.user)
    except (services.BillingRefused, ValidationError) as exc:
        messages.error(request, _refusal(exc))
        return redirect(booking.get_absolute_url())
    messages.success(request, _("%(name)s made: check it and issue it.") % {"name": act})
    return redirect(act.get_absolute_url())


@require(Action.VIEW, "counterparty")
@require_POST
def counterparty_month_act(request, pk):
    """The counterparty page's «Act for the month»: an act per legal entity of ours for the
    month's completed bookings no act closes yet."""
    if not may_make(request.user):
        raise PermissionDenied
    counterparty = get_object_or_404(Counterparty, pk=pk)
    form = MonthForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["month"]))
        return redirect(counterparty.get_absolute_url())
    try:
        made = acts.act_for_month(
            counterparty=counterparty, month=form.cleaned_data["month"], by=request.user
        )
    except (services.BillingRefused, ValidationError) as exc:
        messages.error(request, _refusal(exc))
        return redirect(counterparty.get_absolute_url())
    for act in made:
        messages.success(request, _("%(name)s made: check it and issue it.") % {"name": act})
    if len(made) == 1:
        return redirect(made[0].get_absolute_url())
    return redirect(f"{reverse('billing:act_list')}?counterparty={counterparty.pk}&status=draft")


COUNTERPARTY_ACTS_SHOWN = 10


def counterparty_acts_context(request, counterparty) -> dict:
    """The counterparty page's «Acts» block: its latest acts and, for whoever makes acts, the
    month picker (last month first)."""
    if not can(request.user, Action.VIEW, "invoice"):
        return {}
    month_form = None
    if may_make(request.user):
        last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        month_form = MonthForm(initial={"month": last_month})
    latest = list(
        Act.objects.filter(counterparty=counterparty)
        .select_related("organization", "counterparty")
        .order_by(F("date").desc(nulls_first=True), "-sequence", "-pk")[:COUNTERPARTY_ACTS_SHOWN]
    )
    return {
        "counterparty_acts": {
            "acts": latest,
            "month_form": month_form,
            "list_url": f"{reverse('billing:act_list')}?counterparty={counterparty.pk}",
        }
    }
