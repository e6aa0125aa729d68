"""API of closing documents: acts and УПД (docs/closing-documents.md, docs/api.md). Thin:
serializers validate and present, ``arenda.billing.acts`` writes (numbering, lines, totals,
the 1C queueing). Who may do what mirrors the pages (``arenda/billing/act_views.py``):
whoever reads invoices reads acts, whoever makes invoices makes draft acts; issuing, marking
signed and cancelling are the accountant's. The printed act (``acts/{id}/pdf/``) is
``arenda/api/act_documents.py``."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from arenda.billing import acts, services
from arenda.billing.act_forms import check_signed_scan, parse_month
from arenda.billing.act_views import may_issue, may_make
from arenda.billing.filters import ActFilter
from arenda.billing.models import Act, ActBooking, ActLine, Invoice
from arenda.bookings.models import Booking
from arenda.core.files import file_response, stored_scan
from arenda.core.permissions import RolePermission
from arenda.core.roles import Action, can
from arenda.directory.models import Counterparty

MAX_BOOKINGS = 200
MAX_ID = 2**63 - 1


class ActLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActLine
        fields = [
            "id",
            "position",
            "booking",
            "description",
            "quantity",
            "unit",
            "price",
            "amount",
            "vat_amount",
            "quantity_before",
            "price_before",
            "amount_before",
        ]
        read_only_fields = fields


class ActSerializer(serializers.ModelSerializer):
    """A closing document as it stands: everything is read-only (it changes through its
    actions and the waybills of its bookings)."""

    lines = ActLineSerializer(many=True, read_only=True)
    counterparty_name = serializers.CharField(source="counterparty.name", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    bookings = serializers.SerializerMethodField(help_text=_("The bookings it closes (or corrects)."))
    invoices = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    corrections = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    pdf_url = serializers.SerializerMethodField()
    signed_scan_url = serializers.SerializerMethodField()

    class Meta:
        model = Act
        fields = [
            "id",
            "form",
            "upd_status",
            "status",
            "number",
            "date",
            "year",
            "organization",
            "organization_name",
            "counterparty",
            "counterparty_name",
            "deal",
            "bookings",
            "invoices",
            "corrects",
            "corrections",
            "period_start",
            "period_end",
            "basis",
            "lines",
            "vat_rate",
            "vat_amount",
            "total",
            "notes",
            "issued_at",
            "sent_at",
            "sent_to",
            "signed_at",
            "signed_on",
            "signed_by_name",
            "signed_via",
            "signed_scan_url",
            "cancel_reason",
            "accounting_base",
            "sync_status",
            "sync_error",
            "external_id",
            "external_number",
            "facture_external_id",
            "facture_external_number",
            "pdf_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_bookings(self, obj) -> list[int]:
        return sorted(link.booking_id for link in obj.booking_links.all())

    def get_pdf_url(self, obj) -> str:
        return self._absolute(f"{reverse('api:act-detail', args=[obj.pk])}pdf/")

    def get_signed_scan_url(self, obj) -> str | None:
        if not obj.signed_scan:
            return None
        return self._absolute(reverse("api:act-scan", args=[obj.pk]))


class ActCreateSerializer(serializers.Serializer):
    """Either ``bookings`` (completed bookings of one customer) or ``counterparty`` and
    ``month`` (its month's completed bookings no act closes yet, an act per legal entity)."""

    bookings = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        allow_empty=False,
        max_length=MAX_BOOKINGS,
    )
    counterparty = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    month = serializers.CharField(max_length=7, required=False, help_text=_("YYYY-MM"))

    def validate_bookings(self, ids):
        found = Booking.objects.in_bulk(set(ids))
        missing = sorted(set(ids) - set(found))
        if missing:
            raise serializers.ValidationError(
                _("No booking with id %(ids)s.") % {"ids": ", ".join(map(str, missing))}
            )
        return [found[pk] for pk in dict.fromkeys(ids)]

    def validate_counterparty(self, pk):
        counterparty = Counterparty.objects.filter(pk=pk).first()
        if counterparty is None:
            raise serializers.ValidationError(_("No counterparty with id %(id)s.") % {"id": pk})
        return counterparty

    def validate_month(self, value):
        month = parse_month(value)
        if month is None:
            raise serializers.ValidationError(_("Give the month as YYYY-MM."))
        return month

    def validate(self, attrs):
        if "bookings" in attrs:
            if "counterparty" in attrs or "month" in attrs:
                raise serializers.ValidationError(
                    {"bookings": [_("Give either bookings, or a counterparty and a month.")]}
                )
            return attrs
        errors = {
            name: [_("This field is required.")] for name in ("counterparty", "month") if name not in attrs
        }
        if len(errors) == 2:
            errors = {"bookings": [_("Give either bookings, or a counterparty and a month.")]}
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ActCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ActSignSerializer(serializers.Serializer):
    signer = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    signed_on = serializers.DateField(required=False, help_text=_("Today when left out."))
    scan = serializers.FileField(
        required=False, allow_empty_file=True, help_text=_("The signed scan (multipart): PDF, JPEG or PNG.")
    )

    def validate_scan(self, scan):
        if scan is not None:
            try:
                check_signed_scan(scan)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.message_dict["scan"]) from exc
        return scan


def act_queryset():
    return (
        Act.objects.select_related("counterparty", "organization")
        .prefetch_related(
            Prefetch("lines", queryset=ActLine.objects.order_by("position", "pk")),
            Prefetch("booking_links", queryset=ActBooking.objects.only("pk", "act_id", "booking_id")),
            Prefetch("invoices", queryset=Invoice.objects.only("pk")),
            Prefetch("corrections", queryset=Act.objects.only("pk", "corrects_id")),
        )
        .order_by(F("date").desc(nulls_first=True), "-sequence", "-pk")
    )


class ActViewSet(viewsets.ReadOnlyModelViewSet):
    """Acts and УПД: made for completed bookings (or a counterparty's month), issued
    (numbered per legal entity and year, pushed to 1C), marked signed by the customer, or
    cancelled by the accountant."""

    resource = "invoice"
    required_actions = {
        "create": "add",
        "issue": "view",
        "cancel": "view",
        "mark_signed": "view",
        "retry_sync": "view",
        "scan": "view",
    }
    http_method_names = ["get", "post", "head", "options"]
    queryset = act_queryset()
    serializer_class = ActSerializer
    filterset_class = ActFilter
    ordering_fields = ["date", "total", "created_at", "number", "period_start"]

    def _target(self) -> Act:
        act = get_object_or_404(Act.objects.only("pk"), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, act)
        return act

    def _answer(self, act, code=status.HTTP_200_OK):
        return Response(self.get_serializer(act_queryset().get(pk=act.pk)).data, status=code)

    def _accountant_only(self):
        if not may_issue(self.request.user):
            raise PermissionDenied(_("Only the accountant issues, signs off and cancels closing documents."))

    @extend_schema(
        request=ActCreateSerializer,
        responses={
            201: ActSerializer(many=True),
            409: OpenApiResponse(description="work_not_done, already_in_act, mixed, nothing_to_close"),
        },
    )
    def create(self, request, *args, **kwargs):
        """The draft act(s): a list, one per legal entity of ours (one for ``bookings``)."""
        body = ActCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "bookings" in data:
            made = [acts.act_create(bookings=data["bookings"], by=request.user)]
        else:
            made = acts.act_for_month(counterparty=data["counterparty"], month=data["month"], by=request.user)
        rows = {act.pk: act for act in act_queryset().filter(pk__in=[a.pk for a in made])}
        return Response(
            self.get_serializer([rows[a.pk] for a in made], many=True).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=None, responses={200: ActSerializer, 409: OpenApiResponse(description="not_draft")}
    )
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        self._accountant_only()
        return self._answer(acts.act_issue(act=self._target(), by=request.user))

    @extend_schema(
        request=ActCancelSerializer,
        responses={200: ActSerializer, 409: OpenApiResponse(description="cannot_cancel, has_corrections")},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        self._accountant_only()
        body = ActCancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        act = acts.act_cancel(act=self._target(), reason=body.validated_data["reason"], by=request.user)
        return self._answer(act)

    @extend_schema(
        request={"application/json": ActSignSerializer, "multipart/form-data": ActSignSerializer},
        responses={200: ActSerializer, 409: OpenApiResponse(description="not_issued")},
    )
    @action(detail=True, methods=["post"], url_path="mark-signed")
    def mark_signed(self, request, pk=None):
        """The customer signed it (the accountant marks it; a signed act only takes the scan)."""
        self._accountant_only()
        body = ActSignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        act = acts.act_mark_signed(
            act=self._target(),
            by=request.user,
            signer=data["signer"],
            on=data.get("signed_on"),
            scan=data.get("scan"),
        )
        return self._answer(act)

    @extend_schema(
        request=None, responses={200: ActSerializer, 409: OpenApiResponse(description="not_failed")}
    )
    @action(detail=True, methods=["post"], url_path="retry-sync")
    def retry_sync(self, request, pk=None):
        if not can(request.user, Action.CHANGE, "accounting_base"):
            raise PermissionDenied(_("Only the accountant retries the 1C push."))
        return self._answer(services.act_retry_sync(act=self._target(), by=request.user))

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: None})
    @action(detail=True, url_path="scan")
    def scan(self, request, pk=None):
        """The signed scan with the type its content is (``404`` when none is attached)."""
        act = self.get_object()
        found = stored_scan(
            act.signed_scan, "", act.signed_scan.name if act.signed_scan else "", f"act-{act.pk}"
        )
        if found is None:
            return Response({"detail": _("No signed scan."), "code": "not_found"}, status=404)
        handle, content_type, filename = found
        return file_response(handle, content_type=content_type, filename=filename)


class BookingActView(APIView):
    """``POST bookings/{id}/act/``: the draft act of one completed booking (``409
    work_not_done`` before its waybills, ``409 already_in_act`` when an act closes it)."""

    permission_classes = [RolePermission]
    resource = "invoice"

    @extend_schema(
        request=None,
        responses={
            201: ActSerializer,
            404: None,
            409: OpenApiResponse(description="work_not_done, already_in_act"),
        },
    )
    def post(self, request, **kwargs):
        if not (may_make(request.user) and can(request.user, Action.VIEW, "booking")):
            raise PermissionDenied
        booking = get_object_or_404(Booking, pk=kwargs["id"])
        act = acts.act_create(bookings=[booking], by=request.user)
        data = ActSerializer(act_queryset().get(pk=act.pk), context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)
