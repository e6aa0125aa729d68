"""Overtime: what the waybills say was worked against what the invoices already bill.

- billable hours = max(Σ waybill hours, the booking's minimum order);
- billable km = Σ waybill km where the booking bills km (rate per km > 0);
- extra = billable − billed by the booking's non-cancelled invoices; anything extra becomes
  a post-payment invoice (``is_overtime``) at once, issued when the company settings say so;
- a corrected waybill corrects that: a draft is rewritten (or cancelled); an issued one is
  followed by a further invoice for more hours, or cancelled and re-issued for fewer while
  unpaid; a paid one stays and the manager is told of the credit.

``settle`` runs under a lock on the booking row, so nothing is ever billed twice.
``settled`` says when a completed booking may close (``flows/trips.py`` closes it).
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from arenda.billing.models import Invoice
from arenda.billing.services import (
    LineData,
    default_organization,
    invoice_cancel,
    invoice_create,
    invoice_issue,
    invoice_update_lines,
)
from arenda.bookings.models import Booking
from arenda.core.formats import format_number
from arenda.core.models import CompanySettings
from arenda.core.money import format_rub, to_money
from arenda.core.notify import notify
from arenda.core.services import locked, record_delete

ZERO = Decimal("0")
CORRECTION_REASON = "corrected waybill"


@dataclass(frozen=True)
class Settlement:
    """A booking's hours and km: worked, billable, billed, still to bill, billed beyond."""

    actual_hours: Decimal
    min_hours: Decimal
    billable_hours: Decimal
    invoiced_hours: Decimal
    extra_hours: Decimal
    actual_km: Decimal
    billable_km: Decimal
    invoiced_km: Decimal
    extra_km: Decimal
    credit_hours: Decimal
    credit_amount: Decimal
    # The money of what is still to bill: extra hours × rate + extra km × rate.
    amount_due: Decimal
    waybills: int = 0

    @property
    def has_extra(self) -> bool:
        return self.extra_hours > 0 or self.extra_km > 0


def settlement(booking: Booking, *, exclude_invoice=None) -> Settlement:
    """The settlement of a booking (three queries). Before the first waybill nothing is
    billable yet: no extra and no credit."""
    worked = booking.waybills.aggregate(h=Sum("hours"), km=Sum("km"), n=Count("id"))
    invoices = booking.invoices.exclude(status=Invoice.Status.CANCELLED)
    if exclude_invoice is not None:
        invoices = invoices.exclude(pk=exclude_invoice.pk)
    billed = invoices.aggregate(h=Sum("billed_hours"), km=Sum("billed_km"))
    return compute(
        booking,
        actual_hours=worked["h"] or ZERO,
        actual_km=worked["km"] or ZERO,
        invoiced_hours=billed["h"] or ZERO,
        invoiced_km=billed["km"] or ZERO,
        waybills=worked["n"] or 0,
    )


def compute(booking, *, actual_hours, actual_km, invoiced_hours, invoiced_km, waybills) -> Settlement:
    """The arithmetic, from the sums (the list API passes annotated sums)."""
    actual_hours, actual_km = Decimal(actual_hours), Decimal(actual_km)
    invoiced_hours, invoiced_km = Decimal(invoiced_hours), Decimal(invoiced_km)
    bills_km = booking.rate_per_km > 0
    if waybills:
        billable_hours = max(actual_hours, booking.min_hours)
        billable_km = actual_km if bills_km else ZERO
    else:
        billable_hours = billable_km = ZERO
    extra_hours = max(billable_hours - invoiced_hours, ZERO) if waybills else ZERO
    extra_km = max(billable_km - invoiced_km, ZERO) if waybills else ZERO
    credit_hours = max(invoiced_hours - billable_hours, ZERO) if waybills else ZERO
    credit_km = max(invoiced_km - billable_km, ZERO) if waybills and bills_km else ZERO
    return Settlement(
        actual_hours=actual_hours,
        min_hours=booking.min_hours,
        billable_hours=billable_hours,
        invoiced_hours=invoiced_hours,
        extra_hours=extra_hours,
        actual_km=actual_km,
        billable_km=billable_km,
        invoiced_km=invoiced_km,
        extra_km=extra_km,
        credit_hours=credit_hours,
        credit_amount=to_money(credit_hours * booking.rate_per_hour + credit_km * booking.rate_per_km),
        amount_due=to_money(extra_hours * booking.rate_per_hour + extra_km * booking.rate_per_km),
        waybills=waybills,
    )


def _lines(booking: Booking, hours: Decimal, km: Decimal) -> list[LineData]:
    """«Работа <machine> сверх оплаченного, <dates>, <site>» and «Пробег», in the company's language."""
    days = sorted({timezone.localtime(w.started_at).date() for w in booking.waybills.all()})
    when = days[0].strftime("%d.%m.%Y") if days else ""
    if len(days) > 1:
        when = f"{when}–{days[-1].strftime('%d.%m.%Y')}"
    machine = booking.unit.name if booking.unit_id else booking.equipment_type.name
    lines = []
    with translation.override(settings.LANGUAGE_CODE):
        if hours > 0:
            lines.append(
                LineData(
                    description=_("Work of %(machine)s beyond the paid hours, %(date)s, %(site)s")
                    % {"machine": machine, "date": when, "site": booking.site_address},
                    quantity=hours,
                    price=booking.rate_per_hour,
                    unit="ч",
                )
            )
        if km > 0:
            lines.append(
                LineData(description=_("Mileage"), quantity=km, price=booking.rate_per_km, unit="км")
            )
    return lines


def _manager(booking: Booking):
    return booking.deal.manager if booking.deal_id else None


def _unpaid_issued(invoice: Invoice) -> bool:
    return invoice.status == Invoice.Status.ISSUED and invoice.paid_amount <= 0


@transaction.atomic
def settle(*, booking: Booking, by, correction: bool = False) -> Invoice | None:
    """Bill what the waybills show beyond what is billed. Returns the overtime invoice made
    or rewritten by this call, if any. ``correction``: a waybill was corrected."""
    locked(Booking, booking.pk)
    booking = Booking.objects.select_related(
        "deal__manager", "deal__counterparty", "unit", "equipment_type"
    ).get(pk=booking.pk)
    overtime = booking.invoices.filter(is_overtime=True).exclude(status=Invoice.Status.CANCELLED)
    draft = overtime.filter(status=Invoice.Status.DRAFT).order_by("-pk").first()
    state = settlement(booking, exclude_invoice=draft)
    replaced = None
    # Fewer hours (or km) than billed: an issued, unpaid overtime invoice that bills what is
    # now over-billed is cancelled and re-issued below for the right amount; a paid one
    # stays (a credit). One that bills only what is still due stays as it is.
    for invoice in overtime.exclude(pk=getattr(draft, "pk", None)).order_by("-pk"):
        over_hours = invoice.billed_hours > 0 and state.invoiced_hours > state.billable_hours
        over_km = invoice.billed_km > 0 and state.invoiced_km > state.billable_km
        if _unpaid_issued(invoice) and (over_hours or over_km):
            invoice_cancel(invoice=invoice, reason=CORRECTION_REASON, by=by)
            replaced = replaced or invoice
            state = settlement(booking, exclude_invoice=draft)
    manager = _manager(booking)
    if not state.has_extra:
        if draft is not None:
            record_delete(draft, by=by)  # a draft has no number to keep: it goes
        if correction and state.credit_amount > 0 and manager is not None:
            notify(
                manager,
                _(
                    "Booking #%(id)s: the corrected waybills bill %(hours)s h less than was invoiced — a credit of %(amount)s."
                )
                % {
                    "id": booking.pk,
                    "hours": format_number(state.credit_hours),
                    "amount": format_rub(state.credit_amount),
                },
                booking.get_absolute_url(),
            )
        return None
    lines = _lines(booking, state.extra_hours, state.extra_km)
    if draft is not None:
        invoice = invoice_update_lines(invoice=draft, lines=lines, by=by)
        invoice.billed_hours, invoice.billed_km = state.extra_hours, state.extra_km
        invoice.save(update_fields=["billed_hours", "billed_km", "updated_at"])
    else:
        corrects = replaced
        if corrects is None and correction:
            corrects = overtime.exclude(status=Invoice.Status.DRAFT).order_by("-pk").first()
        invoice = invoice_create(
            kind=Invoice.Kind.POSTPAYMENT,
            counterparty=booking.deal.counterparty,
            organization=default_organization(booking.deal),
            deal=booking.deal,
            booking=booking,
            lines=lines,
            billed_hours=state.extra_hours,
            by=by,
            notes=_("Overtime by the waybills of booking #%(id)s.") % {"id": booking.pk},
        )
        invoice.billed_km, invoice.is_overtime, invoice.corrects = state.extra_km, True, corrects
        invoice.save(update_fields=["billed_km", "is_overtime", "corrects", "updated_at"])
        if CompanySettings.current().overtime_auto_issue:
            invoice = invoice_issue(invoice=invoice, by=by)
    if manager is not None:
        if invoice.status == Invoice.Status.DRAFT:
            text = _(
                "Booking #%(id)s: %(hours)s h beyond the paid hours — a draft overtime invoice for %(amount)s."
            )
        else:
            text = _(
                "Booking #%(id)s: %(hours)s h beyond the paid hours — overtime invoice № %(number)s for %(amount)s issued."
            )
        notify(
            manager,
            text
            % {
                "id": booking.pk,
                "hours": format_number(state.extra_hours),
                "amount": format_rub(invoice.total),
                "number": invoice.number,
            },
            invoice.get_absolute_url(),
        )
    return invoice


# --- closing ------------------------------------------------------------------------------------
UNSETTLED_STATUSES = (Invoice.Status.DRAFT, Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)


# A booking whose waybills stop short of its last day is closed by the sweep this long
# after its end (and a day after its last waybill was entered), not at once: waybills are
# often entered days late.
LAST_DAY_GRACE = timedelta(days=7)


def work_done(booking: Booking, *, late: bool = False) -> bool:
    """A waybill for every day of the booking (a multi-day booking has one a day); with
    ``late``, also a booking that ended long ago whose waybills stopped coming."""
    rows = list(booking.waybills.values_list("started_at", "created_at"))
    if not rows:
        return False
    first_day = timezone.localtime(booking.start).date()
    last_day = timezone.localtime(booking.end - timedelta(microseconds=1)).date()
    covered = {timezone.localtime(started).date() for started, _created in rows}
    if len(covered) >= (last_day - first_day).days + 1:
        return True
    now = timezone.now()
    return (
        late and now >= booking.end + LAST_DAY_GRACE and max(c for _s, c in rows) <= now - timedelta(days=1)
    )


def settled(booking: Booking, *, late: bool = False) -> bool:
    """The work is done, every non-cancelled invoice paid, no draft, nothing extra to bill."""
    if booking.invoices.filter(status__in=UNSETTLED_STATUSES).exists() or not work_done(booking, late=late):
        return False
    return not settlement(booking).has_extra


def closing_candidates(limit: int = 500) -> list[int]:
    """Completed bookings with waybills and no open invoice: those the closing sweep
    (``flows/trips.py``) looks at."""
    return list(
        Booking.objects.filter(status=Booking.Status.COMPLETED, waybills__isnull=False)
        .exclude(Q(invoices__status__in=UNSETTLED_STATUSES))
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")[:limit]
    )
