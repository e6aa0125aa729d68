"""The deal moves the data makes by itself — the one place they live. Booking (and, later,
invoice) services call ``deal_follow_bookings`` after they change a status."""

from arenda.crm.models import Deal

S = Deal.Stage
WORKING = ("dispatched", "completed", "closed")


def deal_follow_bookings(deal_id: int) -> str | None:
    """Move the deal to where its bookings say it is; returns the new stage, if any:
    a booking in work → "in progress"; every booking done → "closing"; every booking
    closed and every invoice of the deal paid → "won". Never moves a deal backwards or out of "lost"."""
    deal = Deal.objects.select_for_update().filter(pk=deal_id).first()
    if deal is None or deal.stage in (S.WON, S.LOST):
        return None
    statuses = list(deal.bookings.exclude(status="cancelled").values_list("status", flat=True))
    if not statuses:
        return None
    target = None
    if all(s == "closed" for s in statuses):
        target = S.WON if not _unpaid_invoices(deal) else S.CLOSING
    elif all(s in ("completed", "closed") for s in statuses):
        target = S.CLOSING
    elif any(s in WORKING for s in statuses):
        target = S.IN_PROGRESS
    order = list(S.values)
    if target is None or order.index(target) <= order.index(deal.stage):
        return None
    deal.stage = target
    deal.save(update_fields=["stage", "updated_at"])
    return target


def _unpaid_invoices(deal) -> bool:
    from arenda.billing.models import Invoice

    return deal.invoices.exclude(status__in=[Invoice.Status.PAID, Invoice.Status.CANCELLED]).exists()
