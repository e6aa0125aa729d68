"""``GET /api/v1/acts/{id}/pdf/``: the printed closing document (docs/closing-forms.md) —
the act, the УПД or the correction — as the page prints it. Read as invoices' PDFs are (the
``invoice`` resource's view right); a cancelled document does not print (404)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from arenda.billing.act_document_views import ACT_RELATED, act_pdf_response
from arenda.billing.models import Act


class ActPdfView(APIView):
    """The closing document as a PDF (a draft prints marked «ЧЕРНОВИК»)."""

    resource = "invoice"

    @extend_schema(
        operation_id="acts_pdf_retrieve",
        tags=["acts"],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: None},
    )
    def get(self, request, pk):
        return act_pdf_response(get_object_or_404(Act.objects.select_related(*ACT_RELATED), pk=pk))
