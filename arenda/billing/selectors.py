"""What several places read of billing, read once here."""

from django.db.models import F

from arenda.billing.models import Invoice


def newest_first(invoices) -> list[Invoice]:
    """Invoices as a page lists them: newest (by date; drafts, without one, first), with
    their counterparty."""
    return list(invoices.select_related("counterparty").order_by(F("date").desc(nulls_first=True), "-pk"))


def invoices_of_booking(booking) -> list[Invoice]:
    return newest_first(Invoice.objects.filter(booking=booking))


def invoices_of_deal(deal) -> list[Invoice]:
    return newest_first(Invoice.objects.filter(deal=deal))
