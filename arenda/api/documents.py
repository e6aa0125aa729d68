"""API of drivers' documents (``drivers/{driver_id}/documents/``) and their scans. Thin: the
serializer validates through the model, ``directory/services.py`` writes (the driver's row
locked, the scan sniffed and stored under a random name)."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from arenda.api.serializers import ModelCleanSerializer
from arenda.api.views import ServiceViewSet
from arenda.core.files import file_response, stored_scan
from arenda.directory.models import Driver, DriverDocument


class DriverDocumentSerializer(ModelCleanSerializer):
    """``scan`` is an optional upload (multipart): a photo (JPEG, PNG, WebP, HEIC) or a PDF
    up to 10 MB, told by its content; read back as ``scan_url``."""

    scan = serializers.FileField(write_only=True, required=False, allow_empty_file=True)
    scan_url = serializers.SerializerMethodField()
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    clean_exclude = ("scan",)

    class Meta(ModelCleanSerializer.Meta):
        model = DriverDocument
        fields = [
            "id",
            "driver",
            "kind",
            "kind_label",
            "categories",
            "number",
            "issued_on",
            "valid_until",
            "scan",
            "scan_url",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["driver"]

    def get_scan_url(self, obj) -> str | None:
        if not obj.scan:
            return None
        url = reverse("api:driver-document-scan", args=[obj.driver_id, obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def validate(self, attrs):
        scan = attrs.pop("scan", None)
        if self.instance is None:
            attrs["driver"] = self.context["driver"]
        attrs = super().validate(attrs)
        attrs.pop("driver", None)
        if scan is not None:
            attrs["scan"] = scan
        return attrs


class DriverDocumentViewSet(ServiceViewSet):
    """A driver's licences and certificates (kind, categories, number, dates, scan). The
    documents an equipment type requires (`equipment-types/{id}/` `requirements`) decide
    whom reserving accepts (409 `driver_not_qualified`)."""

    resource = "driver_document"
    required_actions = {"scan": "view"}
    serializer_class = DriverDocumentSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    ordering_fields = ["kind", "valid_until", "created_at"]

    def get_driver(self):
        if not hasattr(self, "_driver"):
            self._driver = get_object_or_404(Driver, pk=self.kwargs["driver_id"])
        return self._driver

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DriverDocument.objects.none()
        return self.get_driver().documents.all()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and "driver_id" in self.kwargs:
            context["driver"] = self.get_driver()
        return context

    def perform_create(self, serializer):
        create = self.get_services()[0]
        serializer.instance = create(
            driver=self.get_driver(), by=self.request.user, **serializer.validated_data
        )

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/*"): OpenApiTypes.BINARY,
            404: None,
        }
    )
    @action(detail=True, url_path="scan")
    def scan(self, request, driver_id=None, pk=None):
        """The document's scan with the type its content was sniffed as (``404`` when it has
        none); images inline, anything else as an attachment (docs/security.md, «Files»)."""
        document = self.get_object()
        found = stored_scan(
            document.scan, document.scan_type, document.scan_name, fallback=f"document-{document.pk}"
        )
        if found is None:
            raise Http404
        handle, content_type, filename = found
        return file_response(handle, content_type=content_type, filename=filename)
