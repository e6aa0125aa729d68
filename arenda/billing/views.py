"""Invoice pages: the list with totals of what is shown, an invoice with its actions
(issue, print, cancel, record a payment, retry the 1C push), the hand-made invoice with
its lines, the booking's prepayment invoice, and the payments list. Every write goes
through ``arenda.billing.services``."""

import json
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, DecimalField, F, Prefetch, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from arenda.billing import services
from arenda.billing.filters import InvoiceFilter, PaymentFilter
from arenda.billing.forms import CancelForm, InvoiceForm, LineFormSet, PaymentForm
from arenda.billing.models import Invoice, InvoiceLine, Payment
from arenda.billing.selectors import credit_on
from arenda.bookings.models import Booking
from arenda.bookings.selectors import shift_reports_of_booking
from arenda.core.money import format_rub, vat_rate_percent
from arenda.core.permissions import require
from arenda.core.roles import Action, can, has_special
from arenda.core.services import record_delete
from arenda.crm.models import Deal
from arenda.directory.models import Counterparty, Organization
from arenda.flows import payments
from arenda.front.history import history_entries
from arenda.front.paginator import CappedPaginator

PAGE_SIZE = 50
ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=14, decimal_places=2))


def _page(request, qs):
    return CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


# --- the list -------------------------------------------------------------------------------
@require(Action.VIEW, "invoice")
def invoice_list(request):
    params = request.GET
    filterset = InvoiceFilter.for_page(
        params, queryset=Invoice.objects.select_related("counterparty", "organization")
    )
    qs, selected = filterset.qs, filterset.selected()
    totals = qs.aggregate(
        count=Count("pk"),
        billed=Coalesce(
            Sum("total", filter=~Q(status__in=[Invoice.Status.DRAFT, Invoice.Status.CANCELLED])), ZERO
        ),
        received=Coalesce(Sum("paid_amount"), ZERO),
        owed=Coalesce(
            Sum(
                F("total") - F("paid_amount"),
                filter=Q(status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID]),
            ),
            ZERO,
        ),
    )
    page_obj = _page(request, qs.order_by(F("date").desc(nulls_first=True), "-sequence", "-pk"))
    context = {
        "page_obj": page_obj,
        "invoices": page_obj.object_list,
        "q": params.get("q", "").strip(),
        "selected": selected,
        "overdue": selected["overdue"] == "1",
        "totals": totals,
        "today": timezone.localdate(),
        "statuses": Invoice.Status.choices,
        "kinds": Invoice.Kind.choices,
        "sync_statuses": Invoice.SyncStatus.choices,
        "lookups": filterset.lookups(),
        "filtered": any(selected.values()),
        "can_add": can(request.user, Action.ADD, "invoice"),
    }
    template = "billing/invoice_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context)


# --- one invoice ----------------------------------------------------------------------------
def _actions(invoice: Invoice, user) -> dict:
    draft = invoice.status == Invoice.Status.DRAFT
    return {
        "issue": draft and can(user, Action.CHANGE, "invoice"),
        "edit": draft and can(user, Action.CHANGE, "invoice"),
        "delete": draft and can(user, Action.DELETE, "invoice"),
        "print": invoice.status != Invoice.Status.CANCELLED,
        "cancel": invoice.status == Invoice.Status.ISSUED and has_special(user, "cancel_invoice"),
        "pay": invoice.is_open() and can(user, Action.ADD, "payment"),
        "retry": invoice.sync_status == Invoice.SyncStatus.FAILED
        and can(user, Action.CHANGE, "accounting_base"),
    }


def _render_detail(request, pk, *, cancel_form=None, payment_form=None, error=None, status=200):
    invoice = get_object_or_404(
        Invoice.objects.select_related(
            "counterparty", "organization", "deal", "booking", "accounting_base", "issued_by"
        ).prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "pk")),
            Prefetch(
                "payments", queryset=Payment.objects.select_related("created_by").order_by("date", "pk")
            ),
        ),
        pk=pk,
    )
    context = {
        "invoice": invoice,
        "lines": list(invoice.lines.all()),
        "payments": list(invoice.payments.all()),
        "vat_percent": vat_rate_percent(invoice.vat_rate),
        "actions": _actions(invoice, request.user),
        "cancel_form": cancel_form or CancelForm(),
        "payment_form": payment_form or PaymentForm(initial={"amount": invoice.debt}),
        "error": error,
        "overdue": invoice.is_overdue(),
        "history": history_entries(invoice),
        # an overtime invoice's evidence: the hours the customer's person signed on site
        "confirmations": shift_reports_of_booking(invoice.booking_id)
        if invoice.is_overtime and can(request.user, Action.VIEW, "waybill")
        else None,
        # the customer's credit, offered for this invoice while it is owed
        "credit": credit_on(timezone.localdate(), counterparty=invoice.counterparty)
        if invoice.is_open() and can(request.user, Action.ADD, "payment")
        else None,
    }
    return render(request, "billing/invoice_detail.html", context, status=status)


@require(Action.VIEW, "invoice")
def invoice_detail(request, pk):
    return _render_detail(request, pk)


def _refused(request, pk, exc: services.BillingRefused):
    return _render_detail(request, pk, error=exc.detail, status=409)


@require(Action.CHANGE, "invoice")
@require_POST
def invoice_issue(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk)
    try:
        invoice = services.invoice_issue(invoice=invoice, by=request.user)
    except services.BillingRefused as exc:
        return _refused(request, pk, exc)
    except ValidationError as exc:
        return _render_detail(request, pk, error=" ".join(exc.messages), status=400)
    messages.success(request, _("%(name)s issued.") % {"name": invoice})
    return redirect(invoice.get_absolute_url())


@require(Action.VIEW, "invoice")
@require_POST
def invoice_cancel(request, pk):
    if not has_special(request.user, "cancel_invoice"):
        raise PermissionDenied
    invoice = get_object_or_404(Invoice, pk=pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            invoice = services.invoice_cancel(
                invoice=invoice, reason=form.cleaned_data["reason"], by=request.user
            )
        except services.BillingRefused as exc:
            return _refused(request, pk, exc)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("%(name)s cancelled; its number stays used.") % {"name": invoice})
            return redirect(invoice.get_absolute_url())
    return _render_detail(request, pk, cancel_form=form, status=400)


@require(Action.ADD, "payment")
@require_POST
def invoice_payment(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk)
    form = PaymentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            got = payments.payment_record(
                invoice=invoice,
                amount=data["amount"],
                on=data["date"],
                source=Payment.Source.MANUAL,
                by=request.user,
                reference=data["reference"],
                payer=data["payer"],
                confirm_duplicate=data["confirm_duplicate"],
            )
        except services.BillingRefused as exc:
            if exc.code != "possible_duplicate":
                return _refused(request, pk, exc)
            form.ask_to_confirm(exc.detail)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            if got.created:
                messages.success(
                    request, _("Payment of %(amount)s recorded.") % {"amount": format_rub(got.payment.amount)}
                )
                if got.credit:
                    messages.info(
                        request,
                        _("%(credit)s beyond the debt went to the customer's credit.")
                        % {"credit": format_rub(got.credit)},
                    )
            else:
                messages.info(request, _("This payment was already recorded: nothing was added."))
            return redirect(invoice.get_absolute_url())
    return _render_detail(request, pk, payment_form=form, status=400)


@require(Action.CHANGE, "accounting_base")
@require_POST
def invoice_retry_sync(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk)
    try:
        services.invoice_retry_sync(invoice=invoice, by=request.user)
    except services.BillingRefused as exc:
        return _refused(request, pk, exc)
    messages.success(request, _("The invoice is queued for 1C again."))
    return redirect(invoice.get_absolute_url())


@require(Action.DELETE, "invoice")
@require_POST
def invoice_delete(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk, status=Invoice.Status.DRAFT)
    record_delete(invoice, by=request.user)
    messages.success(request, _("The draft was deleted."))
    return redirect("billing:invoice_list")


# --- the hand-made invoice ------------------------------------------------------------------
def _vat_rates() -> str:
    """Our legal entities' rates for the live totals (VAT inside the prices)."""
    today = timezone.localdate()
    return json.dumps(
        {
            str(org.pk): str(vat_rate_percent(services.vat_rate_for(org, today)) or "")
            for org in Organization.objects.filter(is_active=True)
        }
    )


def _initial(request) -> dict:
    """A new invoice opened from a deal or a booking starts with their parties."""
    initial: dict = {"organization": Organization.objects.default()}
    # A hand-edited ?booking=abc must open an empty form, not fail on the lookup.
    booking_pk, deal_pk = (request.GET.get(k, "") for k in ("booking", "deal"))
    booking = (
        Booking.objects.select_related("deal").filter(pk=booking_pk).first() if booking_pk.isdigit() else None
    )
    deal = (
        booking.deal if booking else (Deal.objects.filter(pk=deal_pk).first() if deal_pk.isdigit() else None)
    )
    if deal is not None:
        initial.update(deal=deal, booking=booking, counterparty=deal.counterparty_id)
        if deal.organization_id:
            initial["organization"] = deal.organization_id
    return initial


def _form_page(request, *, invoice: Invoice | None):
    post = request.POST if request.method == "POST" else None
    header = None if invoice else InvoiceForm(post, initial=_initial(request))
    initial_lines = (
        [
            {"description": x.description, "quantity": x.quantity, "unit": x.unit, "price": x.price}
            for x in invoice.lines.order_by("position", "pk")
        ]
        if invoice
        else [{"unit": "ч"}]
    )
    lines = LineFormSet(post, initial=None if post else initial_lines, prefix="lines")
    if post is not None and lines.is_valid() and (header is None or header.is_valid()):
        try:
            if invoice is None:
                data = header.cleaned_data
                invoice = services.invoice_create(
                    kind=data["kind"],
                    counterparty=data["counterparty"],
                    organization=data["organization"],
                    deal=data["deal"],
                    booking=data["booking"],
                    notes=data["notes"],
                    lines=lines.lines(),
                    by=request.user,
                )
                messages.success(request, _("%(name)s saved. Check it and issue it.") % {"name": invoice})
            else:
                invoice = services.invoice_update_lines(invoice=invoice, lines=lines.lines(), by=request.user)
                messages.success(request, _("Lines of %(name)s saved.") % {"name": invoice})
            return redirect(invoice.get_absolute_url())
        except services.BillingRefused as exc:
            messages.error(request, exc.detail)
            return redirect(invoice.get_absolute_url())
        except ValidationError as exc:
            if header is not None:
                header.add_service_error(exc)
            else:
                lines._non_form_errors = lines.error_class(exc.messages)
    return render(
        request,
        "billing/invoice_form.html",
        {"form": header, "lines": lines, "invoice": invoice, "vat_rates": _vat_rates()},
        status=400 if post is not None else 200,
    )


@require(Action.ADD, "invoice")
@require_http_methods(["GET", "POST"])
def invoice_create(request):
    return _form_page(request, invoice=None)


@require(Action.CHANGE, "invoice")
@require_http_methods(["GET", "POST"])
def invoice_edit(request, pk):
    invoice = get_object_or_404(Invoice.objects.select_related("organization"), pk=pk)
    if invoice.status != Invoice.Status.DRAFT:
        messages.error(request, _("An issued invoice's lines cannot be changed."))
        return redirect(invoice.get_absolute_url())
    return _form_page(request, invoice=invoice)


@require(Action.CHANGE, "booking")
@require_POST
def booking_prepayment(request, booking_pk):
    """The booking page's button: the prepayment invoice for the ordered hours, issued."""
    if not can(request.user, Action.ADD, "invoice"):
        raise PermissionDenied
    booking = get_object_or_404(Booking, pk=booking_pk)
    try:
        invoice = services.prepayment_invoice_for_booking(booking=booking, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(booking.get_absolute_url())
    except services.BillingRefused as exc:
        # e.g. a customer made from a lead has no КПП yet: nothing is kept (the invoice and
        # its issue are one transaction), the booking's page says what to complete
        messages.error(request, exc.detail)
        return redirect(booking.get_absolute_url())
    messages.success(request, _("%(name)s is ready to print and send.") % {"name": invoice})
    return redirect(invoice.get_absolute_url())


# --- payments -------------------------------------------------------------------------------
@require(Action.ADD, "payment")
@require_POST
def counterparty_apply_credit(request, pk):
    """The counterparty's credit pays one of its open invoices (from its page or the
    invoice's); back where the accountant came from."""
    counterparty = get_object_or_404(Counterparty, pk=pk)
    chosen = request.POST.get("invoice", "")
    invoice = (
        Invoice.objects.filter(pk=chosen, counterparty=counterparty).first()
        if chosen.isascii() and chosen.isdigit() and len(chosen) < 19
        else None
    )
    back = request.POST.get("next") or counterparty.get_absolute_url()
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = counterparty.get_absolute_url()
    if invoice is None:
        messages.error(request, _("Choose one of the counterparty's open invoices."))
        return redirect(back)
    try:
        recorded = payments.credit_apply(counterparty=counterparty, invoice=invoice, by=request.user)
    except (services.BillingRefused, ValidationError) as exc:
        messages.error(request, getattr(exc, "detail", None) or " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(amount)s of the customer's credit paid %(invoice)s.")
            % {"amount": format_rub(recorded.payment.amount), "invoice": invoice},
        )
    return redirect(back)


@require(Action.VIEW, "payment")
def payment_list(request):
    params = request.GET
    filterset = PaymentFilter.for_page(
        params,
        queryset=Payment.objects.select_related(
            "invoice__counterparty", "invoice__organization", "created_by"
        ),
    )
    qs, selected = filterset.qs, filterset.selected()
    total = qs.aggregate(s=Coalesce(Sum("amount"), ZERO))["s"]
    page_obj = _page(request, qs.order_by("-date", "-pk"))
    context = {
        "page_obj": page_obj,
        "payments": page_obj.object_list,
        "q": params.get("q", "").strip(),
        "selected": selected,
        "sources": Payment.Source.choices,
        "total": total,
        "filtered": any(selected.values()),
    }
    template = "billing/payment_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context)
