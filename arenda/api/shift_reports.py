"""Shift reports signed on site (docs/shift-report.md) as the API shows them:
``GET bookings/{id}/shift-reports/``."""

from django.urls import reverse
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from arenda.bookings.models import ShiftReport
from arenda.bookings.selectors import shift_reports_of_booking
from arenda.core.roles import Action, can


class ShiftReportSerializer(serializers.ModelSerializer):
    pdf = serializers.SerializerMethodField()
    email_status = serializers.SerializerMethodField()

    class Meta:
        model = ShiftReport
        fields = [
            "id",
            "booking",
            "driver_report",
            "waybill",
            "snapshot",
            "signer_name",
            "signer_position",
            "signer_phone",
            "code_confirmed",
            "signed_at",
            "content_sha256",
            "signature_sha256",
            "pdf",
            "email_status",
        ]
        read_only_fields = fields

    def get_pdf(self, obj) -> str | None:
        if not obj.pdf:
            return None
        url = reverse("bookings:shift_report_pdf", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_email_status(self, obj) -> str | None:
        """The e-mail to the customer: its outbox status, or null when none was sent (no address)."""
        return obj.email_message.status if obj.email_message_id else None


def shift_reports_list(request, booking) -> list[dict]:
    if not can(request.user, Action.VIEW, "waybill"):
        raise PermissionDenied
    rows = shift_reports_of_booking(booking.pk)
    return ShiftReportSerializer(rows, many=True, context={"request": request}).data
