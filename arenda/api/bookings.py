"""API of bookings, supply orders and availability (``docs/api.md``); deals are in ``api.crm``.
Thin: serializers validate and present, the services in ``arenda.bookings.services`` write,
and ``arenda.flows`` where a change reaches other apps (confirming, cancelling, waybills)."""

from collections.abc import Mapping
from decimal import Decimal

from django.db.models import OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from arenda.api import waybills as waybill_api
from arenda.api.billing import InvoiceSerializer, InvoiceViewSet
from arenda.api.serializers import BoundedDateTimeField, ModelCleanSerializer
from arenda.api.shift_reports import ShiftReportSerializer, shift_reports_list
from arenda.billing.services import booking_hours_invoiced, prepayment_invoice_for_booking
from arenda.bookings import calendar, selectors, services, supply_requests, trip_links
from arenda.bookings.dispatch import DriverNotLinked, dispatch
from arenda.bookings.filters import BookingFilter, SupplyOrderFilter
from arenda.bookings.models import Booking, CalendarFeed, SupplyOrder, Waybill
from arenda.bookings.services import BookingConflict
from arenda.core.services import record_delete, record_update
from arenda.core.validators import period_error
from arenda.directory.models import Driver, EquipmentType, Supplier, Unit
from arenda.flows import deals


class BookingSerializer(ModelCleanSerializer):
    supply_order = serializers.PrimaryKeyRelatedField(read_only=True)
    margin_per_hour = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, allow_null=True
    )
    # Filled by the waybill and invoicing capabilities; read-only here.
    invoiced_hours = serializers.SerializerMethodField()
    actual_hours = serializers.SerializerMethodField()
    actual_km = serializers.SerializerMethodField()
    clean_exclude = ("unit", "driver")

    class Meta(ModelCleanSerializer.Meta):
        model = Booking
        fields = [
            "id",
            "deal",
            "equipment_type",
            "min_capacity_t",
            "start",
            "end",
            "busy_until",
            "site_address",
            "site_lat",
            "site_lon",
            "site_contact_name",
            "site_contact_phone",
            "ordered_hours",
            "min_hours",
            "rate_per_hour",
            "rate_per_km",
            "planned_km",
            "unit",
            "driver",
            "supply_order",
            "margin_per_hour",
            "status",
            "dispatch_count",
            "dispatched_at",
            "delivery_status",
            "departed_at",
            "arrived_at",
            "work_finished_at",
            "cancel_reason",
            "notes",
            "invoiced_hours",
            "actual_hours",
            "actual_km",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "unit",
            "driver",
            "status",
            "busy_until",
            "cancel_reason",
            "created_at",
            "updated_at",
        ]

    def get_invoiced_hours(self, obj) -> str:
        hours = getattr(obj, "hours_invoiced", None)
        if hours is None:
            hours = booking_hours_invoiced(obj)
        return f"{hours:.2f}"

    def _worked(self, obj, name):
        """Σ of the booking's waybills (annotated by the viewset; null before the first)."""
        if not hasattr(obj, f"waybill_{name}"):
            setattr(obj, f"waybill_{name}", obj.waybills.aggregate(s=Sum(name))["s"])
        return getattr(obj, f"waybill_{name}")

    def get_actual_hours(self, obj) -> str | None:
        hours = self._worked(obj, "hours")
        return None if hours is None else f"{hours:.2f}"

    def get_actual_km(self, obj) -> str | None:
        km = self._worked(obj, "km")
        return None if km is None else f"{km:.1f}"

    def validate(self, attrs):
        if self.instance is not None:  # a done job's terms: 409 before any field rule
            services.refuse_frozen_changes(self.instance, attrs)
        return super().validate(attrs)


ROW_ID = {"min_value": 1, "max_value": 2**63 - 1}


class ReserveSerializer(serializers.Serializer):
    """Ids only: the service reads the unit and the driver once, under their row locks, and
    a missing one is a 400 naming its field (``BookingViewSet.reserve``)."""

    unit = serializers.IntegerField(**ROW_ID)
    driver = serializers.IntegerField(**ROW_ID)

    ROWS = {"unit": Unit, "driver": Driver}

    @staticmethod
    def missing(name: str, pk) -> str:
        return serializers.PrimaryKeyRelatedField.default_error_messages["does_not_exist"].format(pk_value=pk)

    def to_internal_value(self, data):
        """On a malformed field, the other one is checked for existence too: every field's
        error in one answer, as the form gives them."""
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as invalid:
            if not isinstance(data, Mapping) or not isinstance(invalid.detail, dict):
                raise  # not an object at all: nothing to look up
            errors = dict(invalid.detail)
            for name, model in self.ROWS.items():
                if name not in errors:
                    pk = self.fields[name].to_internal_value(data.get(name))
                    if not model.objects.filter(pk=pk).exists():
                        errors[name] = [self.missing(name, pk)]
            raise serializers.ValidationError(errors) from invalid


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class DispatchSerializer(serializers.Serializer):
    manual = serializers.BooleanField(required=False, default=False)


class SupplyOrderSerializer(ModelCleanSerializer):
    class Meta(ModelCleanSerializer.Meta):
        model = SupplyOrder
        fields = [
            "id",
            "booking",
            "supplier",
            "unit_plate",
            "driver_name",
            "driver_phone",
            "cost_per_hour",
            "status",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["booking", "created_at", "updated_at"]


class RequestSupplySerializer(serializers.Serializer):
    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all())
    unit_plate = serializers.CharField(max_length=12, required=False, allow_blank=True)
    driver_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    driver_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    cost_per_hour = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class BookingViewSet(viewsets.ModelViewSet):
    resource = "booking"
    required_actions = {
        "reserve": "change",
        "request_supply": "change",
        "confirm": "change",
        "cancel": "change",
        "prepayment_invoice": "change",
        "send_order": "change",
        # The trip link is a key to the driver's page: only those who may change the booking.
        "trip_link": "change",
        "trip_link_revoke": "change",
        "waybill": "view",  # and «add waybill», checked by the action
        "shift_reports": "view",
    }
    # The serializer shows related records by id; only the supply order (margin) is read.
    # Hours billed by the booking's non-cancelled invoices, in the same query.
    queryset = (
        Booking.objects.select_related("supply_order")
        .annotate(
            hours_invoiced=Coalesce(
                Sum("invoices__billed_hours", filter=~Q(invoices__status="cancelled")), Value(Decimal("0"))
            ),
            **{
                f"waybill_{name}": Subquery(
                    Waybill.objects.filter(booking=OuterRef("pk"))
                    .order_by()
                    .values("booking")
                    .annotate(s=Sum(name))
                    .values("s")
                )
                for name in ("hours", "km")
            },
        )
        .order_by("start", "id")
    )
    serializer_class = BookingSerializer
    filterset_class = BookingFilter
    ordering_fields = ["start", "end", "created_at", "status"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.booking_create(deal=data.pop("deal"), by=self.request.user, **data)

    def perform_update(self, serializer):
        serializer.instance = services.booking_update(
            booking=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        record_delete(instance, by=self.request.user)

    def _target(self) -> Booking:
        """The booking an action works on. The service locks and re-reads it, so this only
        needs to exist (404 otherwise) — list filters and joins would be wasted here."""
        booking = get_object_or_404(Booking.objects.only("pk"), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, booking)
        return booking

    def _answer(self, booking, code=status.HTTP_200_OK):
        booking = self.get_queryset().get(pk=booking.pk)
        return Response(BookingSerializer(booking, context=self.get_serializer_context()).data, status=code)

    @extend_schema(responses=ShiftReportSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="shift-reports")
    def shift_reports(self, request, pk=None):
        """The shift reports signed on site for the booking, newest first (``pdf``: the
        signed PDF, behind the login)."""
        return Response(shift_reports_list(request, self._target()))

    @extend_schema(request=ReserveSerializer, responses=BookingSerializer)
    @action(detail=True, methods=["post"])
    def reserve(self, request, pk=None):
        body = ReserveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        unit_id, driver_id = body.validated_data["unit"], body.validated_data["driver"]
        try:
            booking = services.booking_reserve(
                booking=self._target(), unit=Unit(pk=unit_id), driver=Driver(pk=driver_id), by=request.user
            )
        except (Unit.DoesNotExist, Driver.DoesNotExist) as gone:  # each missing one named
            errors = {
                name: [body.missing(name, pk)]
                for name, pk in (("unit", unit_id), ("driver", driver_id))
                if not body.ROWS[name].objects.filter(pk=pk).exists()
            }
            raise exceptions.ValidationError(errors, code="does_not_exist") from gone
        return self._answer(booking)

    @extend_schema(request=RequestSupplySerializer, responses={201: SupplyOrderSerializer})
    @action(detail=True, methods=["post"], url_path="request-supply")
    def request_supply(self, request, pk=None):
        body = RequestSupplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = services.booking_request_supply(
            booking=self._target(), by=request.user, **body.validated_data
        )
        return Response(SupplyOrderSerializer(order).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: InvoiceSerializer, 200: InvoiceSerializer})
    @action(detail=True, methods=["post"], url_path="prepayment-invoice")
    def prepayment_invoice(self, request, pk=None):
        """The issued prepayment invoice for the ordered hours; asked again, the same one (200)."""
        booking = self._target()
        existed = booking.invoices.filter(kind="prepayment").exclude(status="cancelled").exists()
        invoice = prepayment_invoice_for_booking(booking=booking, by=request.user)
        invoice = InvoiceViewSet.queryset.get(pk=invoice.pk)
        return Response(
            InvoiceSerializer(invoice, context=self.get_serializer_context()).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=waybill_api.WaybillInputSerializer,
        responses=inline_serializer(
            "WaybillRecorded",
            {
                "booking": BookingSerializer(),
                "overtime_invoice": serializers.IntegerField(allow_null=True),
                "waybill": serializers.IntegerField(),
            },
        ),
    )
    @action(detail=True, methods=["post"])
    def waybill(self, request, pk=None):
        """Record a waybill: completes the booking, bills any overtime at once."""
        result = waybill_api.record(request, self._target())
        booking = self.get_queryset().get(pk=result.booking.pk)
        return Response(
            {
                "booking": BookingSerializer(booking, context=self.get_serializer_context()).data,
                "overtime_invoice": getattr(result.overtime_invoice, "pk", None),
                "waybill": result.waybill.pk,
            }
        )

    @extend_schema(request=None, responses=BookingSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._answer(deals.booking_confirm(booking=self._target(), by=request.user))

    @extend_schema(request=CancelSerializer, responses=BookingSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(
            deals.booking_cancel(
                booking=self._target(), reason=body.validated_data["reason"], by=request.user
            )
        )

    @extend_schema(
        request=DispatchSerializer,
        responses={
            202: inline_serializer(
                "Dispatched",
                {"message": serializers.IntegerField(allow_null=True), "status": serializers.CharField()},
            )
        },
    )
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def send_order(self, request, pk=None):
        """Send the order to the driver's Telegram (an update if sent before), or with
        ``manual`` record that it was sent by hand. 409 ``driver_not_linked`` carries a
        ``fallback`` (the text, WhatsApp and SMS links) to send it by hand."""
        body = DispatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            result = dispatch(booking=self._target(), by=request.user, manual=body.validated_data["manual"])
        except DriverNotLinked as exc:
            return Response(
                {"detail": exc.detail, "code": exc.code, "fallback": exc.fallback},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(
            {"message": result.message.pk if result.message else None, "status": result.status},
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        methods=["GET", "POST"],
        request=None,
        responses=inline_serializer(
            "TripLink", {"url": serializers.CharField(), "created_at": serializers.DateTimeField()}
        ),
    )
    @action(detail=True, methods=["get", "post"], url_path="trip-link", url_name="trip-link")
    def trip_link(self, request, pk=None):
        """The driver's trip page link (docs/trip-page.md): GET gives the open one, issuing it
        if there is none; POST makes a new one and revokes the old (the old address stops
        working at once). 409 ``booking_closed`` for a closed or cancelled booking."""
        booking = self._target()
        booking = Booking.objects.only("pk", "status").get(pk=booking.pk)
        if not booking.is_editable():
            raise BookingConflict("booking_closed", _("A closed or cancelled booking has no trip page."))
        link = trip_links.issue(booking=booking, by=request.user, regenerate=request.method == "POST")
        return Response(
            {"url": trip_links.url(link), "created_at": link.created_at},
            status=status.HTTP_201_CREATED if request.method == "POST" else status.HTTP_200_OK,
        )

    @extend_schema(
        request=None,
        responses=inline_serializer("TripLinkRevoked", {"revoked": serializers.BooleanField()}),
    )
    @action(detail=True, methods=["post"], url_path="trip-link/revoke", url_name="trip-link-revoke")
    def trip_link_revoke(self, request, pk=None):
        """Cut the driver's trip link off (every call under it answers 404); the next GET of
        ``trip-link/`` or the next dispatch makes a new one."""
        return Response({"revoked": trip_links.revoke(booking=self._target())})


class SendSupplyRequestSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(
        choices=supply_requests.CHANNELS,
        default=supply_requests.EMAIL,
        help_text=_("email (the PDF attached) or telegram (the supplier's bound chat)."),
    )
    to = serializers.CharField(
        max_length=254,
        required=False,
        allow_blank=True,
        help_text=_("The e-mail address; the supplier's e-mail when left out. Not used for telegram."),
    )
    key = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text=_("Idempotency key: the same key sends once."),
    )


class SupplyOrderViewSet(viewsets.ModelViewSet):
    resource = "supply_order"
    required_actions = {"send_request": "change"}
    # POST only for ``send-request/``: a supply order is made by ``bookings/{id}/request-supply/``.
    http_method_names = ["get", "post", "patch", "put", "head", "options"]
    queryset = SupplyOrder.objects.select_related("booking__deal__counterparty", "supplier")
    serializer_class = SupplyOrderSerializer
    filterset_class = SupplyOrderFilter
    ordering_fields = ["created_at", "status"]

    @extend_schema(exclude=True)
    def create(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed(request.method)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        new_status = data.pop("status", None)
        order = (
            record_update(serializer.instance, data=data, by=self.request.user)
            if data
            else serializer.instance
        )
        if new_status and new_status != order.status:
            order = services.supply_order_set_status(
                supply_order=order, status=new_status, by=self.request.user
            )
        serializer.instance = order

    @extend_schema(
        request=SendSupplyRequestSerializer,
        responses={
            201: inline_serializer(
                "SupplyRequestSent",
                {
                    "message": serializers.IntegerField(),
                    "url": serializers.URLField(),
                    "created_at": serializers.DateTimeField(),
                },
            )
        },
    )
    @action(detail=True, methods=["post"], url_path="send-request")
    def send_request(self, request, pk=None):
        """«Заявка поставщику» by e-mail with its PDF and the supplier's link (docs/supplier-request.md)."""
        order = self.get_object()
        body = SendSupplyRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        to = body.validated_data.get("to") or order.supplier.email
        message = supply_requests.send(
            order=order,
            to=to,
            channel=body.validated_data["channel"],
            by=request.user,
            key=body.validated_data.get("key", ""),
        )
        sent = supply_requests.current(order)
        return Response(
            {"message": message.pk, "url": supply_requests.link(sent), "created_at": sent.created_at},
            status=status.HTTP_201_CREATED,
        )


class SupplyRequestPdfView(APIView):
    """«Заявка поставщику» of a supply order as a PDF (docs/supplier-request.md)."""

    resource = "supply_order"

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: None})
    def get(self, request, pk):
        order = get_object_or_404(SupplyOrder, pk=pk)
        response = HttpResponse(supply_requests.render_request_pdf(order), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{supply_requests.request_filename(order)}"'
        return response


class AvailabilityQuery(serializers.Serializer):
    equipment_type = serializers.PrimaryKeyRelatedField(queryset=EquipmentType.objects.all(), required=False)
    min_capacity_t = serializers.DecimalField(max_digits=7, decimal_places=2, min_value=0, required=False)
    start = BoundedDateTimeField()
    end = BoundedDateTimeField()
    exclude_booking = serializers.IntegerField(required=False)

    def validate(self, attrs):
        if error := period_error(attrs["start"], attrs["end"]):
            raise serializers.ValidationError({"end": [error]})
        if (attrs["end"] - attrs["start"]).days > 92:
            raise serializers.ValidationError({"end": [_("Ask for at most three months at a time.")]})
        return attrs


def _conflicts(row) -> list[dict]:
    items = [
        {"booking": b.pk, "start": b.start, "end": b.end, "counterparty": b.counterparty}
        for b in row.conflicts
    ]
    items += [
        {"maintenance": w.pk, "start": w.start, "end": w.end, "reason": w.reason} for w in row.maintenance
    ]
    return items


class AvailabilityView(APIView):
    """Units of a type and capacity, and drivers, free or busy for a time range."""

    resource = "booking"

    @extend_schema(
        parameters=[AvailabilityQuery],
        responses=inline_serializer(
            "Availability",
            {
                "units": serializers.ListField(child=serializers.DictField()),
                "drivers": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request):
        query = AvailabilityQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        units, drivers = selectors.availability(
            equipment_type_id=getattr(q.get("equipment_type"), "pk", None),
            min_capacity_t=q.get("min_capacity_t"),
            start=q["start"],
            end=q["end"],
            exclude_booking=q.get("exclude_booking"),
        )
        return Response(
            {
                "units": [
                    {
                        "unit": r.unit.pk,
                        "plate": r.unit.plate,
                        "name": r.unit.name,
                        "capacity_t": str(r.unit.capacity_t),
                        "owner": r.unit.owner,
                        "free": r.free,
                        "busy_count": r.busy_count,
                        "conflicts": _conflicts(r),
                    }
                    for r in units
                ],
                "drivers": [
                    {
                        "driver": r.unit.pk,
                        "full_name": r.unit.full_name,
                        "free": r.free,
                        "license_expired": r.license_expired,
                        "qualified": r.qualified,
                        "missing": [m.as_dict() for m in r.missing],
                        "busy_count": r.busy_count,
                        "conflicts": _conflicts(r),
                    }
                    for r in drivers
                ],
            }
        )


class CalendarFeedSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = CalendarFeed
        fields = ["id", "kind", "user", "driver", "unit", "url"]
        read_only_fields = ["user"]
        validators: list = []  # one feed per subject: asking again returns it

    def get_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:calendar-feed", args=[obj.token]))

    def validate(self, attrs):
        kind = attrs.get("kind")
        needs = {"driver": "driver", "unit": "unit"}.get(kind)
        if needs and not attrs.get(needs):
            raise serializers.ValidationError({needs: [_("Choose whose calendar this is.")]})
        for other in ("driver", "unit"):
            if other != needs:
                attrs.pop(other, None)
        return attrs


class CalendarFeedViewSet(viewsets.GenericViewSet):
    """Subscription links: ``POST`` gives the feed of the company, a driver, a unit or the
    calling manager (made on first use); ``regenerate`` replaces its token."""

    resource = "booking"
    required_actions = {"create": "view", "list": "view", "regenerate": "change"}
    serializer_class = CalendarFeedSerializer
    queryset = CalendarFeed.objects.all()

    def get_queryset(self):
        qs = super().get_queryset().select_related("user", "driver", "unit")
        return qs.filter(Q(user__isnull=True) | Q(user=self.request.user))

    def list(self, request):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    def create(self, request):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = request.user if data["kind"] == CalendarFeed.Kind.MANAGER else None
        feed = calendar.feed_for(
            kind=data["kind"], user=user, driver=data.get("driver"), unit=data.get("unit")
        )
        return Response(self.get_serializer(feed).data, status=status.HTTP_200_OK)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def regenerate(self, request, pk=None):
        feed = calendar.feed_regenerate(feed=self.get_object())
        return Response(self.get_serializer(feed).data)
