"""A payment, from wherever it comes — entered by hand, a bank statement, the 1C sync —
is recorded by billing (which recomputes its invoice); what it sets off in other apps
follows here, after the payment's transaction commits: a paid prepayment tells the
manager the booking can be confirmed, a completed booking whose invoices are all paid
closes, and the deal follows its bookings and invoices.

"Sync now" on a 1C base is here too: it pushes the base's invoices (``billing/onec.py``)
and then reads its payments, which are recorded like any other.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from arenda.billing import onec, statements
from arenda.billing import services as billing
from arenda.billing.models import Invoice, StatementPayment
from arenda.core.notify import notify
from arenda.flows.deals import deal_follow
from arenda.flows.trips import close_if_settled

log = logging.getLogger(__name__)


def after_paid(invoice: Invoice) -> None:
    """An invoice was paid in full: what follows, once its transaction has committed."""
    transaction.on_commit(lambda: _follow_paid(invoice.pk))


def _follow_paid(invoice_id: int) -> None:
    invoice = Invoice.objects.select_related("booking", "deal__manager").get(pk=invoice_id)
    if (
        invoice.kind == Invoice.Kind.PREPAYMENT
        and invoice.booking_id
        and invoice.deal
        and invoice.deal.manager
    ):
        notify(
            invoice.deal.manager,
            _("Prepayment received — booking #%(id)s can be confirmed.") % {"id": invoice.booking_id},
            invoice.booking.get_absolute_url(),
        )
    if invoice.booking_id:
        close_if_settled(booking=invoice.booking)  # the last invoice of a completed booking paid → closed
    if invoice.deal_id:
        deal_follow(invoice.deal_id)


def _followed(recorded: billing.Recorded) -> billing.Recorded:
    if recorded.settled:
        after_paid(recorded.payment.invoice)
    return recorded


# --- recording ---------------------------------------------------------------------------------
@transaction.atomic
def payment_record(**payment) -> billing.Recorded:
    """Record a payment (``billing.services.payment_record``: once per source and
    reference) and follow its invoice when it settles it."""
    return _followed(billing.payment_record(**payment))


@transaction.atomic
def credit_apply(*, counterparty, invoice: Invoice, by) -> billing.Recorded:
    """Pay an invoice from its counterparty's credit (``billing.services.credit_apply``) and
    follow it when that settles it."""
    return _followed(billing.credit_apply(counterparty=counterparty, invoice=invoice, by=by))


@transaction.atomic
def statement_import(*, file_name: str, data: bytes, by) -> statements.ImportResult:
    """Import a bank statement (``billing/statements.py``); the invoices it settles follow."""
    result = statements.statement_import(file_name=file_name, data=data, by=by)
    for invoice in result.settled:
        after_paid(invoice)
    return result


@transaction.atomic
def statement_payment_assign(
    *, statement_payment: StatementPayment, invoice: Invoice, by
) -> StatementPayment:
    """The accountant says which invoice a waiting statement payment pays."""
    assigned = statements.statement_payment_assign(
        statement_payment=statement_payment, invoice=invoice, by=by
    )
    if assigned.settled is not None:
        after_paid(assigned.settled)
    return assigned.row


# --- 1C ------------------------------------------------------------------------------------------
def pull_payments(base_id: int, *, force: bool = False) -> int:
    """Record the payments 1C has for our open invoices in that base, each once (its
    reference is the 1C document and line), except those a bank statement already brought
    in; returns how many are new. An invoice cancelled meanwhile is left to the accountant."""
    created = 0
    read = onec.read_payments(base_id, force=force).payments
    # A bank statement imported before 1C had the document already brought that money in.
    same_money = statements.brought_by_statements(read)
    for seen in read:
        if seen.reference in same_money:
            continue
        try:
            recorded = payment_record(
                invoice=seen.invoice,
                amount=seen.amount,
                on=seen.on,
                source="1c",
                reference=seen.reference,
                purpose=seen.purpose,
            )
        except (billing.BillingRefused, ValidationError) as refused:
            # Cancelled meanwhile, or dated where no payment of it can be: the accountant
            # sorts that out in 1C; the next pull asks again.
            log.warning("1C payment %s not recorded: %s", seen.reference, refused)
            continue
        created += int(recorded.created)
    return created


def sync_base(base_id: int) -> dict:
    """ "Sync now": push the base's pending and failed invoices, then read its payments."""
    pushed = onec.push_base(base_id)
    if pushed is None:
        return {"pushed": 0, "failed": 0, "payments": 0}
    payments = 0 if pushed["refused"] else pull_payments(base_id, force=True)
    return {"pushed": pushed["pushed"], "failed": pushed["failed"], "payments": payments}
