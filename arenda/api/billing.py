"""API of invoices and payments (``docs/api.md``). Thin: serializers validate and present, the
services in ``arenda.billing.services`` write (numbering, totals, VAT, 1C queueing)."""

from decimal import Decimal

from django.db import transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from arenda.billing import services
from arenda.billing.filters import InvoiceFilter, PaymentFilter
from arenda.billing.models import Invoice, InvoiceLine, Payment
from arenda.billing.print_views import invoice_pdf_response
from arenda.bookings.models import Booking
from arenda.core.money import MAX_AMOUNT, MAX_LINES, MAX_PRICE, MAX_QUANTITY
from arenda.core.roles import Action, can, has_special
from arenda.core.services import record_delete, record_update
from arenda.crm.models import Deal
from arenda.directory.models import Organization
from arenda.flows import payments


class InvoiceLineSerializer(serializers.ModelSerializer):
    quantity = serializers.DecimalField(
        max_digits=12, decimal_places=3, min_value=Decimal("0.001"), max_value=MAX_QUANTITY
    )
    price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, max_value=MAX_PRICE)
    unit = serializers.CharField(max_length=20, required=False, default="ч")

    class Meta:
        model = InvoiceLine
        fields = ["id", "position", "description", "quantity", "unit", "price", "amount"]
        read_only_fields = ["id", "position", "amount"]


class InvoiceSerializer(serializers.ModelSerializer):
    """Creating one makes a draft; on update only ``lines`` (while a draft) and ``notes``
    change — the rest follows from issuing, paying and the 1C push."""

    lines = InvoiceLineSerializer(many=True, max_length=MAX_LINES)
    counterparty_name = serializers.CharField(source="counterparty.name", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    debt = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.filter(is_active=True), required=False
    )
    deal = serializers.PrimaryKeyRelatedField(queryset=Deal.objects.all(), required=False, allow_null=True)
    booking = serializers.PrimaryKeyRelatedField(
        queryset=Booking.objects.all(), required=False, allow_null=True
    )
    fixed_after_create = ("kind", "counterparty", "organization", "deal", "booking")

    class Meta:
        model = Invoice
        fields = [
            "id",
            "kind",
            "status",
            "number",
            "date",
            "due_date",
            "organization",
            "organization_name",
            "counterparty",
            "counterparty_name",
            "deal",
            "booking",
            "accounting_base",
            "lines",
            "vat_rate",
            "vat_amount",
            "total",
            "paid_amount",
            "debt",
            "purpose",
            "notes",
            "cancel_reason",
            "sync_status",
            "sync_error",
            "external_id",
            "external_number",
            "issued_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "status",
            "number",
            "date",
            "due_date",
            "accounting_base",
            "vat_rate",
            "vat_amount",
            "total",
            "paid_amount",
            "purpose",
            "cancel_reason",
            "sync_status",
            "sync_error",
            "external_id",
            "external_number",
            "issued_at",
            "created_at",
            "updated_at",
        ]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            for name in self.fixed_after_create:
                fields[name].read_only = True
            fields["lines"].required = False
        return fields

    def validate_lines(self, lines):
        if not lines:
            raise serializers.ValidationError(_("An invoice needs at least one line."))
        return lines


def line_data(lines: list[dict]) -> list[services.LineData]:
    return [
        services.LineData(
            description=line["description"],
            quantity=line["quantity"],
            price=line["price"],
            unit=line.get("unit") or "ч",
        )
        for line in lines
    ]


class CancelInvoiceSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class InvoiceViewSet(viewsets.ModelViewSet):
    """Invoices: a draft is made by hand (or ``bookings/{id}/prepayment-invoice/``), issued
    (numbered, lines frozen, pushed to 1C), paid, or cancelled by the accountant."""

    resource = "invoice"
    required_actions = {"issue": "change", "cancel": "change", "retry_sync": "change", "pdf": "view"}
    queryset = Invoice.objects.select_related("counterparty", "organization").prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "pk"))
    )
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilter
    ordering_fields = ["date", "due_date", "total", "created_at", "number"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.invoice_create(
            kind=data["kind"],
            counterparty=data["counterparty"],
            organization=data.get("organization"),
            deal=data.get("deal"),
            booking=data.get("booking"),
            notes=data.get("notes", ""),
            lines=line_data(data["lines"]),
            by=self.request.user,
        )

    @transaction.atomic
    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        invoice = serializer.instance
        if "lines" in data:
            invoice = services.invoice_update_lines(
                invoice=invoice, lines=line_data(data.pop("lines")), by=self.request.user
            )
        if data:
            invoice = record_update(invoice, data=data, by=self.request.user)
        serializer.instance = invoice

    def perform_destroy(self, instance):
        if instance.status != Invoice.Status.DRAFT:
            raise services.BillingRefused(
                "not_draft", _("Only a draft can be deleted; cancel an issued invoice instead.")
            )
        record_delete(instance, by=self.request.user)

    def _target(self) -> Invoice:
        invoice = get_object_or_404(Invoice.objects.only("pk"), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, invoice)
        return invoice

    def _answer(self, invoice, code=status.HTTP_200_OK):
        invoice = self.get_queryset().get(pk=invoice.pk)
        return Response(self.get_serializer(invoice).data, status=code)

    @extend_schema(
        request=None, responses={200: InvoiceSerializer, 409: OpenApiResponse(description="not_draft")}
    )
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        return self._answer(services.invoice_issue(invoice=self._target(), by=request.user))

    @extend_schema(
        request=CancelInvoiceSerializer,
        responses={200: InvoiceSerializer, 409: OpenApiResponse(description="cannot_cancel")},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        if not has_special(request.user, "cancel_invoice"):
            raise PermissionDenied(_("Only the accountant cancels invoices."))
        body = CancelInvoiceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        invoice = services.invoice_cancel(
            invoice=self._target(), reason=body.validated_data["reason"], by=request.user
        )
        return self._answer(invoice)

    @extend_schema(
        request=None, responses={200: InvoiceSerializer, 409: OpenApiResponse(description="not_failed")}
    )
    @action(detail=True, methods=["post"], url_path="retry-sync")
    def retry_sync(self, request, pk=None):
        # The 1C side is the accountant's (as the 1C bases are).
        if not can(request.user, Action.CHANGE, "accounting_base"):
            raise PermissionDenied(_("Only the accountant retries the 1C push."))
        return self._answer(services.invoice_retry_sync(invoice=self._target(), by=request.user))

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: None})
    @action(detail=True, url_path="pdf")
    def pdf(self, request, pk=None):
        """The printed «Счёт на оплату» (a draft marked «ЧЕРНОВИК»; a cancelled one: 404)."""
        return invoice_pdf_response(self.get_object())


class PaymentSerializer(serializers.ModelSerializer):
    invoice = serializers.PrimaryKeyRelatedField(queryset=Invoice.objects.all())
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_AMOUNT
    )
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    credit = serializers.SerializerMethodField(help_text=_("What went to the counterparty's credit."))
    confirm_duplicate = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text=_("Record it although the same payment was entered minutes ago (409 possible_duplicate)."),
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "invoice_number",
            "amount",
            "applied",
            "credit",
            "date",
            "source",
            "reference",
            "payer",
            "purpose",
            "confirm_duplicate",
            "created_at",
        ]
        read_only_fields = ["source", "applied", "created_at"]
        # A reference seen again is answered with the first payment, not refused.
        validators: list = []
        extra_kwargs = {"date": {"required": False}}

    def get_credit(self, obj) -> str:
        return f"{obj.amount - obj.applied:.2f}"


class PaymentViewSet(viewsets.ModelViewSet):
    """Payments from 1C, bank statements and by hand. Creating one here records a payment
    by hand (the same ``reference`` twice counts once: ``200`` with the first)."""

    resource = "payment"
    http_method_names = ["get", "post", "delete", "head", "options"]
    queryset = Payment.objects.select_related("invoice")
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    ordering_fields = ["date", "amount", "created_at"]

    @extend_schema(responses={201: PaymentSerializer, 200: PaymentSerializer})
    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        got = payments.payment_record(
            invoice=data["invoice"],
            amount=data["amount"],
            on=data.get("date") or timezone.localdate(),
            source=Payment.Source.MANUAL,
            by=request.user,
            reference=data.get("reference", ""),
            payer=data.get("payer", ""),
            purpose=data.get("purpose", ""),
            confirm_duplicate=data.get("confirm_duplicate", False),
        )
        return Response(
            self.get_serializer(got.payment).data,
            status=status.HTTP_201_CREATED if got.created else status.HTTP_200_OK,
        )

    def perform_destroy(self, instance):
        services.payment_delete(payment=instance, by=self.request.user)
