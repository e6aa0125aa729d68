"""Business rules of bookings that other capabilities plug into."""


def prepayment_satisfied(booking) -> bool:
    """May this booking be confirmed? The one place the prepayment rule lives.

    A counterparty that works without prepayment may always be confirmed. Otherwise a
    paid prepayment invoice for this booking is needed — the invoicing capability
    answers that through ``paid_prepayment_exists`` once it is installed.
    """
    if not booking.deal.counterparty.prepayment_required:
        return True
    return paid_prepayment_exists(booking)


def paid_prepayment_exists(booking) -> bool:
    # Invoices are not built yet: no prepayment can have been paid.
    return False
