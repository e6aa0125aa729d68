"""Billing's rules that other capabilities ask (they live here, once)."""

from arenda.billing.models import Invoice


def paid_prepayment_exists(booking) -> bool:
    return booking.invoices.filter(kind=Invoice.Kind.PREPAYMENT, status=Invoice.Status.PAID).exists()


def prepayment_satisfied(booking) -> bool:
    """May this booking be confirmed? The one place the prepayment rule lives.

    A counterparty that works without prepayment may always be confirmed. Otherwise a
    paid prepayment invoice for this booking is needed.
    """
    if not booking.deal.counterparty.prepayment_required:
        return True
    return paid_prepayment_exists(booking)
