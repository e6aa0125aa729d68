"""Writes of invoices and payments. Views, the API, the 1C sync, the statement import
and the overtime rule all call these; what a payment sets off in other apps (the booking
closes, the deal follows) is ``flows/payments.py``'s.

- ``invoice_create`` makes a draft with lines (amount = quantity × price, to kopecks;
  total = Σ lines; VAT inside the prices at our legal entity's rate for the date).
- ``invoice_issue`` gives the next number of the legal entity and year under a row lock
  on the counter (no gaps from races, no reuse), freezes the lines (a database trigger
  keeps them frozen), and queues the 1C push after commit.
- ``payment_record`` is idempotent on (source, reference); it applies to the invoice at
  most what it owes, and the rest becomes the counterparty's credit (``CreditEntry``),
  which ``credit_apply`` spends on another of its invoices; it recomputes the invoice's
  status and says whether this payment settled it (``Recorded.settled``).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from arenda.billing import onec
from arenda.billing.models import CreditEntry, Invoice, InvoiceCounter, InvoiceLine, Payment
from arenda.bookings.models import Booking
from arenda.core.money import (
    MAX_AMOUNT,
    MAX_LINES,
    MAX_PRICE,
    MAX_QUANTITY,
    format_rub,
    to_money,
    vat_included,
)
from arenda.core.services import locked, record_delete, set_author
from arenda.directory.models import AccountingBase, Counterparty, Organization, VatRate


@dataclass
class BillingRefused(Exception):
    """A move invoices do not allow; the API answers 409 with ``code`` (and ``extra``)."""

    code: str
    detail: str
    extra: dict = field(default_factory=dict)

    def __str__(self):
        return self.detail


def require_requisites(counterparty) -> None:
    """An organisation or a sole trader is invoiced with its ИНН (and an organisation's
    КПП): 1C and the bank find it by them. Refuses (``counterparty_incomplete``) naming the
    missing fields and where to complete them."""
    missing = counterparty.missing_requisites()
    if missing:
        labels = ", ".join(str(counterparty._meta.get_field(name).verbose_name) for name in missing)
        raise BillingRefused(
            "counterparty_incomplete",
            _("%(counterparty)s has no %(fields)s yet: complete them on its page, then issue the invoice.")
            % {"counterparty": counterparty, "fields": labels},
            {
                "missing": missing,
                "counterparty": counterparty.pk,
                "url": reverse("directory:counterparty_update", args=[counterparty.pk]),
            },
        )


def vat_rate_for(organization: Organization, on: date) -> str:
    """Our legal entity's rate on a date. 22 % replaced 20 % on 1 January 2026 (425-FZ):
    an entity marked 22 % bills 20 % for dates before that."""
    if organization.vat_rate == VatRate.VAT22 and on < date(2026, 1, 1):
        return VatRate.VAT20
    return organization.vat_rate


def accounting_base_for(counterparty, organization) -> AccountingBase | None:
    """The 1C base an invoice goes to: the counterparty's (set by the accountant), else our
    legal entity's default base."""
    if counterparty.accounting_base_id and counterparty.accounting_base.is_active:
        return counterparty.accounting_base
    base = organization.default_accounting_base
    return base if base is not None and base.is_active else None


def default_organization(deal=None) -> Organization:
    """Our legal entity that bills a deal: the deal's, else the default one; refuses when
    there is none (a new installation)."""
    organization = getattr(deal, "organization", None) or Organization.objects.default()
    if organization is None:
        raise ValidationError({"organization": _("Add our legal entity first.")})
    return organization


@dataclass
class LineData:
    description: str
    quantity: Decimal
    price: Decimal
    unit: str = "ч"


def _write_lines(invoice: Invoice, lines: list[LineData]) -> None:
    if not lines:
        raise ValidationError({"lines": _("An invoice needs at least one line.")})
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": _("An invoice has at most %(n)d lines.") % {"n": MAX_LINES}})
    rows, errors = [], {}
    for position, line in enumerate(lines, start=1):
        quantity, price = Decimal(str(line.quantity)), to_money(line.price)
        if quantity <= 0:
            errors[f"lines.{position}.quantity"] = _("The quantity must be more than zero.")
        elif quantity > MAX_QUANTITY or quantity != quantity.quantize(Decimal("0.001")):
            errors[f"lines.{position}.quantity"] = _(
                "The quantity is at most %(max)s, with at most three decimals."
            ) % {"max": MAX_QUANTITY}
        if price < 0:
            errors[f"lines.{position}.price"] = _("The price cannot be negative.")
        elif price > MAX_PRICE:
            errors[f"lines.{position}.price"] = _("The price is at most %(max)s.") % {
                "max": format_rub(MAX_PRICE)
            }
        if not (line.description or "").strip():
            errors[f"lines.{position}.description"] = _("Describe the line.")
        rows.append(
            InvoiceLine(
                invoice=invoice,
                position=position,
                description=(line.description or "").strip()[:500],
                quantity=quantity,
                unit=(line.unit or "")[:20],
                price=price,
                amount=to_money(quantity * price),
            )
        )
    if errors:
        raise ValidationError(errors)
    total = sum((row.amount for row in rows), Decimal("0.00"))
    if total > MAX_AMOUNT:
        raise ValidationError(
            {"lines": _("The invoice's total is at most %(max)s.") % {"max": format_rub(MAX_AMOUNT)}}
        )
    invoice.lines.all().delete()
    InvoiceLine.objects.bulk_create(rows)
    invoice.total = total
    invoice.vat_amount = vat_included(invoice.total, invoice.vat_rate) or Decimal("0.00")


@transaction.atomic
def invoice_create(
    *,
    kind: str,
    counterparty,
    lines: list[LineData],
    by,
    organization=None,
    deal=None,
    booking=None,
    billed_hours=Decimal("0"),
    billed_km=Decimal("0"),
    notes: str = "",
) -> Invoice:
    """A draft invoice with its lines; ``billed_hours``/``billed_km``: what of its booking's
    work it bills (the overtime settlement counts them)."""
    if kind not in Invoice.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of invoice.")})
    if booking is not None and deal is None:
        deal = booking.deal
    organization = organization or default_organization(deal)
    today = timezone.localdate()
    invoice = Invoice(
        kind=kind,
        organization=organization,
        counterparty=counterparty,
        deal=deal,
        booking=booking,
        vat_rate=vat_rate_for(organization, today),
        billed_hours=billed_hours,
        billed_km=billed_km,
        notes=notes,
    )
    invoice.clean()
    set_author(invoice, by)
    invoice.save()
    _write_lines(invoice, lines)
    invoice.save(update_fields=["total", "vat_amount", "updated_at"])
    return invoice


@transaction.atomic
def invoice_update_lines(*, invoice: Invoice, lines: list[LineData], by) -> Invoice:
    invoice = locked(Invoice, invoice.pk)
    if invoice.status != Invoice.Status.DRAFT:
        raise BillingRefused("invoice_frozen", _("An issued invoice's lines cannot be changed."))
    _write_lines(invoice, lines)
    set_author(invoice, by)
    invoice.save()
    return invoice


def next_number(organization: Organization, year: int, counter_model=InvoiceCounter) -> int:
    """The next number of a legal entity's year (invoices', or ``counter_model``'s: acts have
    their own), under a row lock on the counter: consecutive, never given twice."""
    counter, _created = counter_model.objects.get_or_create(organization=organization, year=year)
    counter = locked(counter_model, counter.pk)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


@transaction.atomic
def invoice_issue(*, invoice: Invoice, by, on: date | None = None) -> Invoice:
    """Number and issue a draft: the number is the next of its legal entity and year; the
    due date follows the counterparty's payment terms; the push to 1C is queued."""
    invoice = locked(Invoice, invoice.pk)
    if invoice.status != Invoice.Status.DRAFT:
        raise BillingRefused("not_draft", _("Only a draft invoice can be issued."))
    if not invoice.lines.exists():
        raise ValidationError({"lines": _("An invoice needs at least one line.")})
    require_requisites(invoice.counterparty)
    on = on or timezone.localdate()
    invoice.vat_rate = vat_rate_for(invoice.organization, on)
    invoice.vat_amount = vat_included(invoice.total, invoice.vat_rate) or Decimal("0.00")
    sequence = next_number(invoice.organization, on.year)
    invoice.year, invoice.sequence, invoice.number = on.year, sequence, str(sequence)
    invoice.date = on
    invoice.due_date = on + timedelta(days=invoice.counterparty.payment_terms_days)
    invoice.status = Invoice.Status.ISSUED
    invoice.issued_at = timezone.now()
    invoice.issued_by = by if getattr(by, "is_authenticated", False) else None
    if not invoice.purpose:
        # A bank document: in the company's language, whatever the issuer's screen says.
        with translation.override(settings.LANGUAGE_CODE):
            invoice.purpose = _("Payment for invoice № %(number)s of %(date)s") % {
                "number": invoice.number,
                "date": on.strftime("%d.%m.%Y"),
            }
    base = accounting_base_for(invoice.counterparty, invoice.organization)
    invoice.accounting_base = base
    needs_push = base is not None and base.kind == AccountingBase.Kind.ODATA
    invoice.sync_status = Invoice.SyncStatus.PENDING if needs_push else Invoice.SyncStatus.NOT_NEEDED
    set_author(invoice, by)
    invoice.save()
    if needs_push:
        onec.schedule_push(invoice.pk)
    return invoice


@transaction.atomic
def invoice_cancel(*, invoice: Invoice, reason: str, by) -> Invoice:
    """The accountant's: a cancelled invoice keeps its number (never reused)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the invoice is cancelled.")})
    invoice = locked(Invoice, invoice.pk)
    if invoice.status == Invoice.Status.DRAFT:
        # A draft has no number to keep (the invoice_issued_has_number constraint): it is
        # deleted, not cancelled.
        raise BillingRefused("cannot_cancel", _("A draft is not cancelled: delete it instead."))
    if invoice.status in (Invoice.Status.CANCELLED, Invoice.Status.PAID, Invoice.Status.PARTIALLY_PAID):
        raise BillingRefused("cannot_cancel", _("A paid or cancelled invoice cannot be cancelled."))
    invoice.status = Invoice.Status.CANCELLED
    invoice.cancel_reason = reason
    set_author(invoice, by)
    invoice.save()
    return invoice


def _status_for(invoice: Invoice) -> str:
    if invoice.status in (Invoice.Status.DRAFT, Invoice.Status.CANCELLED):
        return invoice.status
    if invoice.paid_amount <= 0:
        return Invoice.Status.ISSUED
    if invoice.paid_amount < invoice.total:
        return Invoice.Status.PARTIALLY_PAID
    return Invoice.Status.PAID


@transaction.atomic
def invoice_recompute(*, invoice: Invoice) -> tuple[Invoice, bool]:
    """Paid amount and status from the payments; and whether this recomputation made the
    invoice paid in full (settled it)."""
    invoice = locked(Invoice, invoice.pk)
    before = invoice.status
    payments = list(invoice.payments.order_by("date", "pk").values_list("date", "applied"))
    invoice.paid_amount = sum((amount for _date, amount in payments), Decimal("0.00"))
    invoice.status = _status_for(invoice)
    invoice.settled_on = _settled_on(invoice, payments)
    invoice.last_paid_on = payments[-1][0] if payments else None
    invoice.save(update_fields=["paid_amount", "status", "settled_on", "last_paid_on", "updated_at"])
    return invoice, invoice.status == Invoice.Status.PAID and before != Invoice.Status.PAID


def _settled_on(invoice: Invoice, payments) -> date | None:
    """The day the payments first covered the total (what the receivables report asks:
    was it open on a date?); None while anything is owed."""
    if invoice.status != Invoice.Status.PAID:
        return None
    running = Decimal("0.00")
    for on, amount in payments:
        running += amount
        if running >= invoice.total:
            return on
    return None


@dataclass
class Recorded:
    payment: Payment
    created: bool
    # This payment made its invoice paid in full: what follows is ``flows/payments.py``'s.
    settled: bool = False
    # What it brought beyond the invoice's debt: the counterparty's credit.
    credit: Decimal = Decimal("0.00")


# How far back a payment may be dated before its invoice's date, and how long an identical
# manual payment counts as a possible double entry.
PAYMENT_BEFORE_INVOICE = timedelta(days=365)
DUPLICATE_WINDOW = timedelta(minutes=10)
RECEIVED_SOURCES = (Payment.Source.MANUAL, Payment.Source.ONEC, Payment.Source.BANK_STATEMENT)


def payment_date_error(invoice: Invoice, on) -> str | None:
    """A payment is dated today or earlier, and not more than a year before its invoice."""
    if not isinstance(on, date):
        return _("Give the payment's date.")
    if on > timezone.localdate():
        return _("A payment cannot be dated in the future.")
    if invoice.date and on < invoice.date - PAYMENT_BEFORE_INVOICE:
        return _("The date is more than a year before the invoice's date.")
    return None


def still_owed(invoice: Invoice) -> Decimal:
    """What a payment may apply to the invoice: its total less what is paid, never below
    zero (the rest of a payment is credit; docs/billing.md)."""
    return max(invoice.total - invoice.paid_amount, Decimal("0.00"))


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice,
    amount,
    on: date,
    source: str,
    by=None,
    reference: str = "",
    payer: str = "",
    purpose: str = "",
    confirm_duplicate: bool = False,
) -> Recorded:
    """Record a payment once: the same (source, reference) seen again returns the first. It
    pays the invoice at most what it owes; the rest is the counterparty's credit. A manual
    payment without a reference equal to one entered in the last minutes (same invoice,
    amount and date) is refused as a possible double entry unless ``confirm_duplicate``."""
    amount = to_money(amount)
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if amount > MAX_AMOUNT:
        raise ValidationError(
            {"amount": _("The amount is at most %(max)s.") % {"max": format_rub(MAX_AMOUNT)}}
        )
    if source not in RECEIVED_SOURCES:
        raise ValidationError({"source": _("Unknown source.")})
    invoice = locked(Invoice, invoice.pk)
    if invoice.status in (Invoice.Status.DRAFT, Invoice.Status.CANCELLED):
        raise BillingRefused("not_payable", _("A draft or cancelled invoice cannot be paid."))
    if reference:
        existing = Payment.objects.filter(source=source, reference=reference).first()
        if existing is not None:
            return Recorded(existing, False)
    if error := payment_date_error(invoice, on):
        raise ValidationError({"date": error})
    if source == Payment.Source.MANUAL and not reference and not confirm_duplicate:
        twin = invoice.payments.filter(
            source=source,
            reference="",
            amount=amount,
            date=on,
            created_at__gte=timezone.now() - DUPLICATE_WINDOW,
        ).first()
        if twin is not None:
            raise BillingRefused(
                "possible_duplicate",
                _("The same payment (%(amount)s of %(date)s) was entered a few minutes ago. Record it again?")
                % {"amount": format_rub(amount), "date": on.strftime("%d.%m.%Y")},
                {"payment": twin.pk},
            )
    applied = min(amount, still_owed(invoice))
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                invoice=invoice,
                amount=amount,
                applied=applied,
                date=on,
                source=source,
                reference=reference[:200],
                payer=payer[:300],
                purpose=purpose,
                created_by=by if getattr(by, "is_authenticated", False) else None,
            )
    except IntegrityError:
        return Recorded(Payment.objects.get(source=source, reference=reference), False)
    credit = amount - applied
    if credit > 0:
        CreditEntry.objects.create(
            counterparty_id=invoice.counterparty_id,
            kind=CreditEntry.Kind.OVERPAYMENT,
            amount=credit,
            payment=payment,
            created_by=payment.created_by,
        )
    payment.invoice, settled = invoice_recompute(invoice=invoice)
    return Recorded(payment, True, settled=settled, credit=credit)


def credit_balance(counterparty) -> Decimal:
    """The counterparty's credit: overpayments received, less what was applied."""
    return CreditEntry.objects.filter(counterparty=counterparty).aggregate(s=Sum("amount"))["s"] or Decimal(
        "0.00"
    )


def _credit_lock(counterparty) -> None:
    """Spending credit locks the counterparty (FOR NO KEY UPDATE on PostgreSQL: a payment
    recording an overpayment meanwhile only references the row, and is not held up)."""
    Counterparty.objects.select_for_update(no_key=True).filter(pk=counterparty.pk).first()


@transaction.atomic
def credit_apply(*, counterparty, invoice: Invoice, by) -> Recorded:
    """Pay an invoice of the counterparty from its credit: as much as the invoice owes and
    the credit covers, as a payment of source «credit» with its entry in the ledger."""
    _credit_lock(counterparty)
    invoice = locked(Invoice, invoice.pk)
    if invoice.counterparty_id != counterparty.pk:
        raise ValidationError({"invoice": _("The invoice is another counterparty's.")})
    if not invoice.is_open():
        raise BillingRefused("not_payable", _("Only an issued invoice that is not paid in full can be paid."))
    amount = min(credit_balance(counterparty), still_owed(invoice))
    if amount <= 0:
        raise BillingRefused("no_credit", _("The counterparty has no credit to apply."))
    payment = Payment.objects.create(
        invoice=invoice,
        amount=amount,
        applied=amount,
        date=timezone.localdate(),
        source=Payment.Source.CREDIT,
        purpose=_("From the customer's credit"),
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    CreditEntry.objects.create(
        counterparty=counterparty,
        kind=CreditEntry.Kind.APPLIED,
        amount=-amount,
        payment=payment,
        created_by=payment.created_by,
    )
    payment.invoice, settled = invoice_recompute(invoice=invoice)
    return Recorded(payment, True, settled=settled)


@transaction.atomic
def payment_delete(*, payment: Payment, by) -> Invoice:
    """Delete a payment entered by hand (1C and statement payments would come back with the
    next sync: they are fixed at the source); the invoice is recomputed."""
    if payment.source != Payment.Source.MANUAL:
        raise BillingRefused("not_manual", _("Only a payment entered by hand can be deleted."))
    counterparty = payment.invoice.counterparty
    _credit_lock(counterparty)
    invoice = locked(Invoice, payment.invoice_id)
    entries = CreditEntry.objects.filter(payment=payment)
    brought = entries.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")
    if brought > 0 and credit_balance(counterparty) < brought:
        raise BillingRefused(
            "credit_used",
            _("The overpayment of this payment is already spent from the customer's credit."),
        )
    entries.delete()
    record_delete(payment, by=by)
    return invoice_recompute(invoice=invoice)[0]


def booking_hours_invoiced(booking) -> Decimal:
    """Hours already billed for a booking by invoices that count (not drafts' twins: every
    non-cancelled invoice counts, drafts included, so nothing is billed twice)."""
    return booking.invoices.exclude(status=Invoice.Status.CANCELLED).aggregate(h=Sum("billed_hours"))[
        "h"
    ] or Decimal("0")


@transaction.atomic
def prepayment_invoice_for_booking(*, booking, by, issue: bool = True) -> Invoice:
    """The prepayment invoice bills exactly the agreed КП line: the ordered hours × the rate,
    and the planned km × the km rate where the booking has them. One per booking: asking
    again returns the open one."""
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("deal__counterparty", "deal__organization", "equipment_type", "unit")
        .get(pk=booking.pk)
    )
    existing = (
        booking.invoices.filter(kind=Invoice.Kind.PREPAYMENT).exclude(status=Invoice.Status.CANCELLED).first()
    )
    if existing is not None:
        return existing
    if booking.waybills.exists():  # the waybills bill the work now (billing.overtime)
        raise ValidationError({"booking": _("The job is done: its waybills bill it, not a prepayment.")})
    if booking.ordered_hours <= 0 or booking.rate_per_hour <= 0:
        raise ValidationError({"ordered_hours": _("Set the ordered hours and the rate per hour first.")})
    machine = booking.unit or booking.equipment_type
    when = timezone.localtime(booking.start).strftime("%d.%m.%Y")
    lines = [
        LineData(
            description=_("Services of %(machine)s with a driver, %(date)s, %(site)s")
            % {"machine": machine, "date": when, "site": booking.site_address},
            quantity=booking.ordered_hours,
            price=booking.rate_per_hour,
            unit="ч",
        )
    ]
    billed_km = booking.planned_km if booking.rate_per_km > 0 else Decimal("0")
    if billed_km > 0:
        lines.append(
            LineData(
                description=_("Delivery of %(machine)s, %(km)s km")
                % {"machine": machine, "km": billed_km.normalize()},
                quantity=billed_km,
                price=booking.rate_per_km,
                unit="км",
            )
        )
    invoice = invoice_create(
        kind=Invoice.Kind.PREPAYMENT,
        counterparty=booking.deal.counterparty,
        organization=default_organization(booking.deal),
        deal=booking.deal,
        booking=booking,
        lines=lines,
        billed_hours=booking.ordered_hours,
        billed_km=billed_km,
        by=by,
    )
    return invoice_issue(invoice=invoice, by=by) if issue else invoice


@transaction.atomic
def invoice_retry_sync(*, invoice: Invoice, by) -> Invoice:
    """Queue a failed 1C push again, now, with a fresh count of attempts."""
    return _retry_sync(invoice, by, _("Only an invoice whose 1C push failed can be retried."))


@transaction.atomic
def act_retry_sync(*, act, by):
    """The same for a closing document (``billing/onec.py`` pushes both alike)."""
    return _retry_sync(act, by, _("Only a closing document whose 1C push failed can be retried."))


def _retry_sync(document, by, refusal: str):
    document = locked(type(document), document.pk)
    if document.sync_status != Invoice.SyncStatus.FAILED:
        raise BillingRefused("not_failed", refusal)
    document.sync_status = Invoice.SyncStatus.PENDING
    document.sync_attempts = 0
    document.sync_next_attempt_at = None
    set_author(document, by)
    document.save()
    onec.schedule_again(document)
    return document
