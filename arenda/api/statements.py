"""API of bank statements (``bank-statements/`` in ``docs/api.md``) and of the payments read from them
that wait for the accountant. The work is in ``arenda.billing.statements``."""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from arenda.billing import statements
from arenda.billing.filters import BankStatementFilter, StatementPaymentFilter
from arenda.billing.models import BankStatement, Invoice, StatementPayment
from arenda.flows import payments


class StatementPaymentSerializer(serializers.ModelSerializer):
    invoice = serializers.IntegerField(source="payment.invoice_id", read_only=True, default=None)
    candidates = serializers.SerializerMethodField()

    class Meta:
        model = StatementPayment
        fields = [
            "id",
            "statement",
            "key",
            "number",
            "date",
            "amount",
            "payer_name",
            "payer_inn",
            "payer_account",
            "purpose",
            "state",
            "invoice",
            "payment",
            "candidates",
        ]
        read_only_fields = fields

    def get_candidates(self, row) -> list[int]:
        return sorted(invoice.pk for invoice in row.candidates.all())


class BankStatementSerializer(serializers.ModelSerializer):
    class Meta:
        model = BankStatement
        fields = [
            "id",
            "file_name",
            "sha256",
            "account",
            "period_start",
            "period_end",
            "documents",
            "created_at",
        ]
        read_only_fields = fields


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()


ImportAnswer = inline_serializer(
    "BankStatementImport",
    {
        "statement": BankStatementSerializer(),
        "already_imported": serializers.BooleanField(),
        "matched": StatementPaymentSerializer(many=True),
        "unmatched": StatementPaymentSerializer(many=True),
        "known": serializers.IntegerField(help_text=_("Payments imported before from another file")),
        "outgoing": serializers.IntegerField(help_text=_("Documents that are not incoming payments")),
        "warnings": serializers.ListField(child=serializers.CharField()),
    },
)


def _payments():
    return StatementPayment.objects.select_related("payment").prefetch_related(
        Prefetch("candidates", queryset=Invoice.objects.only("pk"))
    )


class BankStatementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Imported 1CClientBankExchange files. ``POST`` (multipart ``file``) imports one:
    incoming payments are matched to open invoices; the rest wait in
    ``statement-payments/?state=ambiguous,unmatched``. The same file again records nothing
    (``200`` with the first import)."""

    resource = "bank_statement"
    queryset = BankStatement.objects.all()
    serializer_class = BankStatementSerializer
    parser_classes = [MultiPartParser, FormParser]
    ordering_fields = ["created_at", "period_start"]
    filterset_class = BankStatementFilter

    @extend_schema(
        request={"multipart/form-data": UploadSerializer},
        responses={
            201: ImportAnswer,
            200: OpenApiResponse(ImportAnswer, description=_("This file was imported before")),
            400: OpenApiResponse(description=_("Not a bank statement, empty, damaged or too big")),
        },
    )
    def create(self, request, *args, **kwargs):
        # Refuse an oversized body by its declared length, before it is read.
        if _declared_length(request) > statements.MAX_BYTES + 64 * 1024:
            return _bad(statements.too_big_message())
        upload = request.FILES.get("file")
        try:
            data = statements.read_upload(upload)
            result = payments.statement_import(file_name=upload.name, data=data, by=request.user)
        except statements.StatementError as exc:
            return _bad(exc.message)
        return Response(
            _answer(result), status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _bad(message: str) -> Response:
    return Response({"file": [message]}, status=status.HTTP_400_BAD_REQUEST)


def _answer(result: statements.ImportResult) -> dict:
    rows = _payments().filter(pk__in=[p.pk for p in result.payments]).order_by("pk")
    data = StatementPaymentSerializer(rows, many=True).data
    return {
        "statement": BankStatementSerializer(result.statement).data,
        "already_imported": not result.created,
        "matched": [row for row in data if row["state"] == StatementPayment.State.MATCHED],
        "unmatched": [row for row in data if row["state"] != StatementPayment.State.MATCHED],
        "known": result.known,
        "outgoing": result.outgoing,
        "warnings": result.warnings,
    }


class AssignSerializer(serializers.Serializer):
    invoice = serializers.PrimaryKeyRelatedField(queryset=Invoice.objects.counted())


class StatementPaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Incoming payments read from statements. ``?state=ambiguous,unmatched`` lists those
    waiting for the accountant, who assigns each to an invoice or sets it aside."""

    resource = "bank_statement"
    required_actions = {"assign": "change", "ignore": "change"}
    serializer_class = StatementPaymentSerializer
    filterset_class = StatementPaymentFilter
    ordering_fields = ["date", "amount", "created_at"]

    def get_queryset(self):
        return _payments()

    @extend_schema(request=AssignSerializer, responses={200: StatementPaymentSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        row = self.get_object()
        body = AssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = payments.statement_payment_assign(
            statement_payment=row, invoice=body.validated_data["invoice"], by=request.user
        )
        return Response(self.get_serializer(_payments().get(pk=row.pk)).data)

    @extend_schema(request=None, responses={200: StatementPaymentSerializer})
    @action(detail=True, methods=["post"])
    def ignore(self, request, pk=None):
        row = statements.statement_payment_ignore(statement_payment=self.get_object(), by=request.user)
        return Response(self.get_serializer(_payments().get(pk=row.pk)).data)
