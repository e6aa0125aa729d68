"""API of waybills: recorded through ``POST bookings/{id}/waybill/`` (``record``, called by the
booking viewset), listed, read and corrected here (``waybills/``). Thin: the serializers
parse, ``flows/trips.py`` records (``bookings/waybills.py`` checks and writes)."""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from arenda.api.serializers import BoundedDateTimeField, PayFieldsMixin
from arenda.bookings.filters import WaybillFilter
from arenda.bookings.models import TripEvidence, Waybill
from arenda.bookings.waybills import scan_to_serve
from arenda.core.files import file_response
from arenda.core.roles import Action, can
from arenda.flows import trips

HOURS = {"max_digits": 7, "decimal_places": 2, "min_value": 0}
KM = {"max_digits": 9, "decimal_places": 1, "min_value": 0}
ODOMETER = {"max_digits": 10, "decimal_places": 1, "min_value": 0}


class WaybillInputSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=50)
    started_at = BoundedDateTimeField()
    finished_at = BoundedDateTimeField()
    hours = serializers.DecimalField(**HOURS)
    km = serializers.DecimalField(**KM, required=False, allow_null=True)
    odometer_start = serializers.DecimalField(**ODOMETER, required=False, allow_null=True)
    odometer_end = serializers.DecimalField(**ODOMETER, required=False, allow_null=True)
    engine_hours = serializers.DecimalField(**HOURS, required=False, allow_null=True)
    downtime_hours = serializers.DecimalField(**HOURS, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    scan = serializers.FileField(required=False, allow_empty_file=True)

    def split(self) -> tuple[dict, object]:
        data = dict(self.validated_data)
        return data, data.pop("scan", None)


class TripEvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = TripEvidence
        fields = [
            "id",
            "provider",
            "tracker_id",
            "status",
            "window_start",
            "window_end",
            "attempts",
            "next_attempt_at",
            "last_error",
            "fetched_at",
            "samples",
            "engine_hours",
            "distance_km",
            "first_movement",
            "last_movement",
            "ignition_hours",
            "hours_on_site",
            "flagged",
            "suggested_hours",
            "suggested_km",
            "decision",
            "decision_reason",
            "decided_at",
        ]
        read_only_fields = fields


class WaybillSerializer(PayFieldsMixin, serializers.ModelSerializer):
    """``hourly_pay`` (the driver's rate on the trip's date) is absent for whoever may not see
    drivers' pay (``PayFieldsMixin``)."""

    scan = serializers.SerializerMethodField()
    telematics = serializers.SerializerMethodField()

    class Meta:
        model = Waybill
        fields = [
            "id",
            "booking",
            "number",
            "started_at",
            "finished_at",
            "hours",
            "km",
            "odometer_start",
            "odometer_end",
            "engine_hours",
            "downtime_hours",
            "scan",
            "driver",
            "unit",
            "hourly_pay",
            "source",
            "notes",
            "telematics",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(TripEvidenceSerializer(allow_null=True))
    def get_telematics(self, obj):
        """What the unit's tracker says of the trip (docs/telematics.md); null without a tracker."""
        evidence = getattr(obj, "evidence", None)
        return TripEvidenceSerializer(evidence).data if evidence is not None else None

    def get_scan(self, obj) -> str | None:
        if not obj.scan:
            return None
        url = reverse("bookings:waybill_scan", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


def record(request, booking):
    """The body of ``POST bookings/{id}/waybill/``: the booking viewset answers with it."""
    if not can(request.user, Action.ADD, "waybill"):
        raise PermissionDenied
    body = WaybillInputSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data, scan = body.split()
    return trips.waybill_record(booking=booking, data=data, scan=scan, by=request.user)


class WaybillViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """Waybills: list, read, correct (``PATCH``; the booking is settled again). A closed
    booking's waybills answer 409."""

    resource = "waybill"
    http_method_names = ["get", "patch", "head", "options"]
    queryset = Waybill.objects.select_related("evidence").order_by("-started_at", "-id")
    serializer_class = WaybillSerializer
    filterset_class = WaybillFilter
    ordering_fields = ["started_at", "created_at", "number"]

    def partial_update(self, request, *args, **kwargs):
        waybill = self.get_object()
        body = WaybillInputSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data, scan = body.split()
        result = trips.waybill_update(waybill=waybill, data=data, scan=scan, by=request.user)
        payload = self.get_serializer(result.waybill).data
        payload["overtime_invoice"] = getattr(result.overtime_invoice, "pk", None)
        payload["booking_status"] = result.booking.status
        return Response(payload)

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/*"): OpenApiTypes.BINARY,
            404: None,
        }
    )
    @action(detail=True, url_path="scan")
    def scan(self, request, pk=None):
        """The waybill's scan with the type its content was sniffed as (``404`` when it has
        none); images inline, anything else as an attachment (docs/security.md, «Files»)."""
        found = scan_to_serve(self.get_object())
        if found is None:
            raise Http404
        handle, content_type, filename = found
        return file_response(handle, content_type=content_type, filename=filename)
