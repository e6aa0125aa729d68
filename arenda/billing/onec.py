"""Invoices to 1C and payments back, through the standard OData interface: billing's side
of the exchange (``integrations/onec/client.py`` is the protocol, and knows no invoices).

Push (``push_attempt``), each step finding first and creating only what is missing:
the document by our id in ``Комментарий`` (so a retry after a lost answer finds the
document the first attempt made), our organization and the counterparty by ИНН (+ КПП),
the contract «с покупателем», one service item «Услуги спецтехники с экипажем» for every
line (the line's own text goes to ``Содержание``), then ``Document_СчетНаОплатуПокупателю``
with its ``Товары``. 1C's ``Ref_Key`` and ``Number`` are kept on the invoice. The document
is written, not posted: a «счёт на оплату» makes no postings.

No database transaction is open during a call to 1C: a short one claims the invoice (a
``PushClaim`` row, so no second push of it runs meanwhile), the calls follow, and another
short one writes the outcome with the invoice row locked.

Failures: 5xx, timeouts and lost connections are retried with back-off (1, 2, 4 … minutes,
then hourly; given up after ``MAX_ATTEMPTS``, about a day); the sweep ``push_due`` sends
whatever is due, so a lost task loses nothing. A refused login (401) fails the invoice
and marks the base refused: no automatic retries and no payment reads for it until the base
is edited (then its failed invoices go again) or someone presses retry or "sync now"; a new
invoice still asks once. Other
refusals (an object not published, a request 1C refuses, an answer that is not OData) fail
the invoice with 1C's words. A base of kind ``manual`` needs no push. The tasks that push
(``push_invoice``, ``push_due_invoices``) live here, next to the retries that enqueue them.

Pull (``read_payments``): for our open invoices in 1C, the rows of
``Document_ПоступлениеНаРасчетныйСчет_РасшифровкаПлатежа`` that name them, counted only
when their document is posted and not marked for deletion, each to be recorded once as a
payment with reference ``<document Ref_Key>:<LineNumber>`` — by ``flows/payments.py``,
because a payment sets off what follows it (the booking closes, the deal follows). A
payment already recorded is not taken back if its document is later unposted or deleted
in 1C; the accountant does that.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from arenda.billing.models import BaseSync, Invoice, PushClaim
from arenda.core.metrics import ONEC_PULLS, ONEC_PUSHES
from arenda.core.money import vat_included
from arenda.directory.models import AccountingBase, Counterparty
from arenda.integrations.onec.client import Client, Guid, OneCError, Unauthorized, one_c_date

log = logging.getLogger(__name__)

S = Invoice.SyncStatus
INVOICE_SET = "Document_СчетНаОплатуПокупателю"
PAYMENT_SET = "Document_ПоступлениеНаРасчетныйСчет"
PAYMENT_ROWS_SET = "Document_ПоступлениеНаРасчетныйСчет_РасшифровкаПлатежа"
SERVICE_ITEM = "Услуги спецтехники с экипажем"
CONTRACT_NAME = "Основной договор"
VAT_ENUM = {
    "22": "НДС22",
    "20": "НДС20",
    "10": "НДС10",
    "7": "НДС7",
    "5": "НДС5",
    "0": "НДС0",
    "none": "БезНДС",
}
MAX_ATTEMPTS = 30
CLAIM_LEASE = timedelta(minutes=5)  # far longer than one push (a few calls, each with a timeout)


def comment_for(invoice: Invoice) -> str:
    """Our id in 1C's ``Комментарий``: unique across our legal entities and databases."""
    return f"arenda-invoice-{invoice.pk}-{invoice.organization.inn}"


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


# --- push ------------------------------------------------------------------------------------
def push_attempt(invoice_id: int, *, force: bool = False) -> str | None:
    """One attempt to put the invoice in its 1C base. ``force`` (a person asked) ignores the
    back-off and a refused base. Returns the sync status after it, or None when there was
    nothing to do (not pending, not due, being pushed by another worker)."""
    claim = _claim(invoice_id, force)
    if claim is None:
        return None
    invoice, lines, token = claim
    base = invoice.accounting_base
    if base is None or base.kind != AccountingBase.Kind.ODATA or invoice.status == Invoice.Status.CANCELLED:
        return _record(invoice_id, token, not_needed=True)
    try:
        with Client.for_base(base) as client:
            ref, number = _push(client, invoice, lines)
    except OneCError as error:
        return _record(invoice_id, token, error=error)
    return _record(invoice_id, token, ref=ref, number=number)


def push_due(limit: int = 200) -> dict:
    """The sweep: bases edited after a refusal go again, then every pending invoice whose
    time has come is pushed (a lost or not-deferrable task leaves them to this)."""
    for state in BaseSync.objects.filter(refused_at__isnull=False).select_related("base"):
        _refused(state.base)
    now = timezone.now()
    due = (
        Invoice.objects.filter(sync_status=S.PENDING)
        .filter(Q(sync_next_attempt_at__isnull=True) | Q(sync_next_attempt_at__lte=now))
        .order_by("sync_next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    statuses = [push_attempt(pk) for pk in due]
    return {"attempted": sum(s is not None for s in statuses), "synced": statuses.count(S.SYNCED)}


def _claim(invoice_id: int, force: bool) -> tuple[Invoice, list, str] | None:
    now = timezone.now()
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .filter(pk=invoice_id, sync_status=S.PENDING)
            .select_related("accounting_base", "organization", "counterparty")
            .first()
        )
        if invoice is None:
            return None
        if not force and invoice.sync_next_attempt_at and invoice.sync_next_attempt_at > now:
            return None
        # A refused base gets no automatic retries; a first attempt (a new invoice, or one a
        # person sent again) still asks once.
        if (
            not force
            and invoice.sync_attempts
            and invoice.accounting_base
            and _refused(invoice.accounting_base)
        ):
            return None
        claim = PushClaim.objects.filter(invoice_id=invoice_id).first()
        if claim is not None and claim.claimed_at > now - CLAIM_LEASE:
            return None
        token = uuid.uuid4().hex
        PushClaim.objects.update_or_create(
            invoice_id=invoice_id, defaults={"token": token, "claimed_at": now}
        )
        invoice.sync_attempts += 1
        invoice.sync_next_attempt_at = now + CLAIM_LEASE  # the sweep's fallback if this worker dies
        Invoice.objects.filter(pk=invoice_id).update(
            sync_attempts=invoice.sync_attempts, sync_next_attempt_at=invoice.sync_next_attempt_at
        )
        return invoice, list(invoice.lines.all()), token


def _record(
    invoice_id: int, token: str, *, ref="", number="", error: OneCError | None = None, not_needed=False
):
    now = timezone.now()
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("accounting_base")
            .get(pk=invoice_id)
        )
        if not PushClaim.objects.filter(invoice_id=invoice_id, token=token).delete()[0]:
            log.warning("1C push of invoice %s: a late answer ignored (%s)", invoice_id, error or ref)
            return invoice.sync_status
        fields = ["sync_status", "sync_error", "sync_next_attempt_at", "updated_at"]
        if not_needed:
            invoice.sync_status, invoice.sync_error, invoice.sync_next_attempt_at = S.NOT_NEEDED, "", None
        elif error is None:
            invoice.sync_status, invoice.sync_error, invoice.sync_next_attempt_at = S.SYNCED, "", None
            invoice.external_id, invoice.external_number, invoice.synced_at = ref, number[:30], now
            fields += ["external_id", "external_number", "synced_at"]
        elif error.retryable and invoice.sync_attempts < MAX_ATTEMPTS:
            invoice.sync_error = str(error)
            invoice.sync_next_attempt_at = now + backoff(invoice.sync_attempts)
            schedule_push(invoice.pk, invoice.sync_next_attempt_at)
        else:
            invoice.sync_status, invoice.sync_next_attempt_at = S.FAILED, None
            invoice.sync_error = str(error)
            if error.retryable:
                invoice.sync_error = _("Gave up after %(n)d attempts. Last error: %(error)s") % {
                    "n": invoice.sync_attempts,
                    "error": error,
                }
            if isinstance(error, Unauthorized):
                _refuse(invoice.accounting_base, error, now)
        invoice.save(update_fields=fields)
    if error is not None:
        log.warning("1C push of invoice %s: %s", invoice_id, error)
    _count_push(invoice, error=error, not_needed=not_needed)
    return invoice.sync_status


def _count_push(invoice: Invoice, *, error, not_needed: bool) -> None:
    if not_needed:
        outcome = "not_needed"
    elif error is None:
        outcome = "synced"
    else:
        outcome = "failed" if invoice.sync_status == S.FAILED else "retry"
    ONEC_PUSHES.labels(base=str(invoice.accounting_base_id or ""), outcome=outcome).inc()


def schedule_push(invoice_id: int, when=None) -> None:
    """Queue the push task after the caller's transaction commits: now, or (a retry) at
    ``when`` where the task backend can wait. A lost task loses nothing: ``push_due``."""

    def enqueue():
        try:
            if when is None:
                push_invoice.enqueue(invoice_id)
            elif push_invoice.get_backend().supports_defer:
                push_invoice.using(run_after=when).enqueue(invoice_id)
        except Exception:  # the sweep pushes it when due anyway
            log.exception("1C push of invoice %s: could not enqueue the push", invoice_id)

    transaction.on_commit(enqueue)


def _push(client: Client, invoice: Invoice, lines: list) -> tuple[str, str]:
    missing = invoice.counterparty.missing_requisites()
    if missing:  # 1C would make a counterparty without ИНН, which the bank cannot match
        raise OneCError(
            _("%(counterparty)s has no %(fields)s: complete them, then send the invoice again.")
            % {
                "counterparty": invoice.counterparty,
                "fields": ", ".join(
                    str(invoice.counterparty._meta.get_field(name).verbose_name) for name in missing
                ),
            }
        )
    comment = comment_for(invoice)
    existing = [
        doc for doc in client.list(INVOICE_SET, {"Комментарий": comment}) if not doc.get("DeletionMark")
    ]
    if existing:
        return existing[0]["Ref_Key"], existing[0].get("Number", "")
    ours, customer = invoice.organization, invoice.counterparty
    organization = client.find_or_create(
        "Catalog_Организации",
        {"ИНН": ours.inn},
        {"Description": ours.name, "НаименованиеПолное": ours.full_name or ours.name, "КПП": ours.kpp},
    )
    if customer.inn:
        identity = {"ИНН": customer.inn, **({"КПП": customer.kpp} if customer.kpp else {})}
    else:  # a private person without an ИНН: known by name only
        identity = {"Description": customer.name[:100]}
    counterparty = client.find_or_create(
        "Catalog_Контрагенты",
        identity,
        {
            "Description": customer.name[:100],
            "НаименованиеПолное": customer.full_name or customer.name,
            "ИНН": customer.inn,
            "КПП": customer.kpp,
            "ЮридическоеФизическоеЛицо": "ЮридическоеЛицо"
            if customer.kind == Counterparty.Kind.LEGAL
            else "ФизическоеЛицо",
        },
    )
    contract = client.find_or_create(
        "Catalog_ДоговорыКонтрагентов",
        {
            "Owner_Key": Guid(counterparty["Ref_Key"]),
            "Организация_Key": Guid(organization["Ref_Key"]),
            "ВидДоговора": "СПокупателем",
        },
        {"Description": CONTRACT_NAME},
    )
    item = client.find_or_create(
        "Catalog_Номенклатура",
        {"Description": SERVICE_ITEM, "Услуга": True},
        {"НаименованиеПолное": SERVICE_ITEM},
    )
    document = client.create(
        INVOICE_SET,
        {
            "Date": one_c_date(invoice.date),
            "Организация_Key": organization["Ref_Key"],
            "Контрагент_Key": counterparty["Ref_Key"],
            "ДоговорКонтрагента_Key": contract["Ref_Key"],
            "СуммаВключаетНДС": True,
            "СуммаДокумента": invoice.total,
            "Комментарий": comment,
            "Товары": [
                {
                    "LineNumber": number,
                    "Номенклатура_Key": item["Ref_Key"],
                    "Содержание": line.description,
                    "Количество": line.quantity,
                    "Цена": line.price,
                    "Сумма": line.amount,
                    "СтавкаНДС": VAT_ENUM[invoice.vat_rate],
                    "СуммаНДС": vat_included(line.amount, invoice.vat_rate) or 0,
                }
                for number, line in enumerate(lines, start=1)
            ],
        },
    )
    return document["Ref_Key"], document.get("Number", "")


# --- refusals --------------------------------------------------------------------------------
def _refuse(base: AccountingBase, error: OneCError, now) -> None:
    BaseSync.objects.update_or_create(base=base, defaults={"refused_at": now, "refusal": str(error)})


def _refused(base: AccountingBase) -> bool:
    """Whether the base refused our login and has not been edited since. Once it has been,
    the refusal is lifted and its failed invoices get a fresh round."""
    state = BaseSync.objects.filter(base=base, refused_at__isnull=False).first()
    if state is None:
        return False
    if base.updated_at <= state.refused_at:
        return True
    _lift_refusal(base)
    return False


def _lift_refusal(base: AccountingBase) -> None:
    with transaction.atomic():
        BaseSync.objects.filter(base=base).update(refused_at=None, refusal="")
        Invoice.objects.filter(accounting_base=base, sync_status=S.FAILED).update(
            sync_status=S.PENDING, sync_attempts=0, sync_next_attempt_at=None
        )


# --- pull ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeenPayment:
    """A payment row of a posted 1C document that names one of our invoices."""

    invoice: Invoice
    amount: Decimal
    on: date
    reference: str
    purpose: str


@dataclass
class PaymentsRead:
    payments: list[SeenPayment] = field(default_factory=list)
    error: OneCError | None = None


def read_payments(base_id: int, *, force: bool = False) -> PaymentsRead:
    """The payments of our open invoices in that base, as 1C has them (recording them is
    ``flows/payments.py``'s). A failure is kept on the base (``BaseSync.pull_error``) and
    not raised: what was read before it is returned, and the next pull reads them all again."""
    base = AccountingBase.objects.get(pk=base_id)
    read = PaymentsRead()
    if base.kind != AccountingBase.Kind.ODATA or not base.is_active or (not force and _refused(base)):
        return read
    invoices = list(Invoice.objects.open().filter(accounting_base=base).exclude(external_id=""))
    now = timezone.now()
    try:
        with Client.for_base(base) as client:
            documents: dict[str, dict] = {}
            for invoice in invoices:
                for row in client.list(PAYMENT_ROWS_SET, {"СчетНаОплату_Key": Guid(invoice.external_id)}):
                    ref = row["Ref_Key"]
                    if ref not in documents:
                        documents[ref] = client.get(PAYMENT_SET, ref)
                    document = documents[ref]
                    if document.get("Posted") and not document.get("DeletionMark"):
                        read.payments.append(_seen(invoice, document, row))
    except OneCError as error:
        log.warning("1C payments of base %s: %s", base.pk, error)
        BaseSync.objects.update_or_create(base=base, defaults={"pull_error": str(error)})
        if isinstance(error, Unauthorized):
            _refuse(base, error, now)
        read.error = error
        ONEC_PULLS.labels(base=str(base.pk), outcome="error").inc()
        return read
    BaseSync.objects.update_or_create(base=base, defaults={"pulled_at": now, "pull_error": ""})
    ONEC_PULLS.labels(base=str(base.pk), outcome="ok").inc()
    return read


def _seen(invoice: Invoice, document: dict, row: dict) -> SeenPayment:
    return SeenPayment(
        invoice=invoice,
        amount=row["СуммаПлатежа"],
        on=date.fromisoformat(str(document["Date"])[:10]),
        reference=f"{document['Ref_Key']}:{row['LineNumber']}",
        purpose=str(document.get("НазначениеПлатежа", "")),
    )


def push_base(base_id: int) -> dict | None:
    """ "Sync now", the push half: the base's pending and failed invoices go at once, whatever
    their back-off. Returns the counts, or None when the base needs no push (a manual one:
    its invoices are marked as not needing 1C)."""
    base = AccountingBase.objects.get(pk=base_id)
    invoices = Invoice.objects.filter(accounting_base=base, sync_status__in=[S.PENDING, S.FAILED])
    if base.kind != AccountingBase.Kind.ODATA:
        invoices.update(sync_status=S.NOT_NEEDED, sync_error="", sync_next_attempt_at=None)
        return None
    _lift_refusal(base)
    pushed = failed = 0
    for pk in invoices.order_by("pk").values_list("pk", flat=True):
        status = push_attempt(pk, force=True)
        if status is None:
            continue
        pushed += status == S.SYNCED
        failed += status != S.SYNCED
        if _refused(base):  # the login is wrong: asking again for each invoice helps nobody
            break
    return {"pushed": pushed, "failed": failed, "refused": _refused(base)}


# --- tasks -----------------------------------------------------------------------------------
@task()
def push_invoice(invoice_id: int) -> str | None:
    """After an invoice is issued, and (deferred) for each retry."""
    return push_attempt(invoice_id)


@task()
def push_due_invoices() -> dict:
    """Every minute (``PERIODIC_JOBS``): whatever is due, so a lost task loses nothing."""
    return push_due()
