"""The printed «Счёт на оплату» as a page (a button on the invoice) and for the API.

Issued, partly paid and paid invoices print as they are; a draft prints marked «ЧЕРНОВИК»
with no number and no QR code; a cancelled invoice does not print (404).
"""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404

from arenda.billing.models import Invoice
from arenda.billing.printing import invoice_filename, render_invoice_pdf
from arenda.core.permissions import require
from arenda.core.roles import Action


def invoice_pdf_response(invoice: Invoice) -> HttpResponse:
    if invoice.status == Invoice.Status.CANCELLED:
        raise Http404
    response = HttpResponse(render_invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice_filename(invoice)}"'
    return response


@require(Action.VIEW, "invoice")
def invoice_pdf(request, pk):
    invoice = get_object_or_404(Invoice.objects.select_related("organization", "counterparty", "deal"), pk=pk)
    return invoice_pdf_response(invoice)
