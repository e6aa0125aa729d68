"""What several places read of billing, read once here."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import Case, DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from arenda.billing.models import Act, ActBooking, CreditEntry, Invoice, Payment
from arenda.core.money import kopecks, rubles

# "Owed on day D": date <= D < settled_on, as a range overlapping the one-day range [D, D]
# ("&&", not "@>": PostgreSQL rewrites "daterange(a, b) @> d" into "a <= d AND b > d", which no
# index expression matches). A NULL settled_on (still owed) is an unbounded range; a payment
# dated before the invoice gives an empty one (never owed). An expression index on exactly
# this daterange(...) finds the few open invoices among millions
# (arenda/billing/migrations/0005_invoice_owed_range_index.py).
OWED_RANGE_SQL = (
    "daterange(billing_invoice.date, CASE WHEN billing_invoice.settled_on < billing_invoice.date"
    " THEN billing_invoice.date ELSE billing_invoice.settled_on END, '[)')"
)
OWED_ON_SQL = OWED_RANGE_SQL + " && daterange(%s::date, %s::date, '[]')"
MONEY = DecimalField(max_digits=14, decimal_places=2)


def newest_first(invoices) -> list[Invoice]:
    """Invoices as a page lists them: newest (by date; drafts, without one, first), with
    their counterparty."""
    return list(
        invoices.select_related("counterparty", "organization").order_by(
            F("date").desc(nulls_first=True), "-pk"
        )
    )


def invoices_of_booking(booking) -> list[Invoice]:
    return newest_first(Invoice.objects.filter(booking=booking))


def invoices_of_deal(deal) -> list[Invoice]:
    return newest_first(Invoice.objects.filter(deal=deal))


def acts_of_deal(deal) -> list[Act]:
    """The deal's closing documents, newest first: those of the deal, and those closing (or
    correcting) any of its bookings (a monthly act of several deals). One query."""
    closing = ActBooking.objects.filter(booking__deal=deal).values("act_id")
    return list(
        Act.objects.filter(Q(deal=deal) | Q(pk__in=closing))
        .select_related("organization")
        .order_by(F("date").desc(nulls_first=True), "-sequence", "-pk")
    )


def act_of_booking(booking) -> Act | None:
    """The closing document that closes the booking now (not cancelled), or None."""
    link = ActBooking.objects.filter(booking=booking, active=True).select_related("act").first()
    return link.act if link else None


# --- what customers owe ---------------------------------------------------------------------
def owed_on(on: date, *, counterparty=None) -> QuerySet[Invoice]:
    """The invoices owed on day ``on``, each with ``paid_k`` (paid by then) and ``due_k``
    (still owed), in kopecks.

    An invoice counts when it was issued on or before the day (not a draft, not cancelled)
    and the payments dated on or before that day do not cover it; a payment dated later
    does not count, so the same day gives the same answer whenever it is asked — the
    receivables report on a past date, and the dashboard today, whatever payments are
    already entered for tomorrow."""
    paid = Subquery(
        Payment.objects.filter(invoice=OuterRef("pk"), date__lte=on)
        .order_by()
        .values("invoice")
        .annotate(s=Sum("applied"))
        .values("s")[:1],
        output_field=MONEY,
    )
    # settled_on (the day the payments covered it) skips what was paid by then; the
    # payments dated up to the day still decide what was owed.
    qs = Invoice.objects.counted()
    if connection.vendor == "postgresql":
        qs = qs.extra(where=[OWED_ON_SQL], params=[on, on])
    else:
        qs = qs.filter(Q(settled_on__isnull=True) | Q(settled_on__gt=on), date__lte=on)
    if counterparty is not None:
        qs = qs.filter(counterparty=counterparty)
    # Most invoices were last paid before the day (or never): what they had paid by then is
    # their paid amount, and only the others sum their payments up to the day.
    paid_by_then = Case(
        When(last_paid_on__isnull=True, then=Value(Decimal("0.00"), output_field=MONEY)),
        When(last_paid_on__lte=on, then=F("paid_amount")),
        default=Coalesce(paid, Value(Decimal("0.00"), output_field=MONEY)),
        output_field=MONEY,
    )
    qs = qs.annotate(paid_k=kopecks(paid_by_then))
    return qs.annotate(due_k=kopecks(F("total")) - F("paid_k")).filter(due_k__gt=0)


@dataclass(frozen=True)
class Owed:
    """What was owed on a day, the part of it past its due date, and what customers had paid
    beyond their invoices (their credit, which the accountant applies to later ones)."""

    total: Decimal
    overdue: Decimal
    credit: Decimal = Decimal("0.00")


def open_invoices(counterparty):
    """A counterparty's issued invoices not paid in full, oldest due first."""
    return Invoice.objects.open().filter(counterparty=counterparty).order_by("due_date", "date", "pk")


def credit_on(on: date, *, counterparty=None) -> Decimal:
    """The customers' (or one customer's) credit on day ``on``: overpayments received, less
    what was applied, by the dates of their payments."""
    entries = CreditEntry.objects.filter(payment__date__lte=on)
    if counterparty is not None:
        entries = entries.filter(counterparty=counterparty)
    return entries.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")


def receivables(on: date, *, counterparty=None) -> Owed:
    """What customers (or one of them) owed on day ``on``, and their credit: two queries."""
    sums = owed_on(on, counterparty=counterparty).aggregate(
        total=Sum("due_k"), overdue=Sum("due_k", filter=Q(due_date__lt=on))
    )
    return Owed(
        total=rubles(sums["total"]),
        overdue=rubles(sums["overdue"]),
        credit=credit_on(on, counterparty=counterparty),
    )


def counterparty_debt(counterparty, on: date | None = None) -> Owed:
    """A counterparty's open debt today (or on ``on``), the way the receivables report counts it."""
    return receivables(on or timezone.localdate(), counterparty=counterparty)
