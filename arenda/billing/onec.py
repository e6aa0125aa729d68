"""Invoices and closing documents to 1C and payments back, through the standard OData
interface: billing's side of the exchange (``integrations/onec/client.py`` is the protocol,
and knows no invoices). Invoices and acts go through the same claim / record / sweep /
"sync now" code, described per kind by ``Kind`` (``INVOICES``, ``ACTS``); an act becomes a
posted ``Document_РеализацияТоваровУслуг`` (a correction: ``Document_КорректировкаРеализации``)
and, with VAT where the base wants it, a ``Document_СчетФактураВыданный``: docs/onec-documents.md.

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
(``push_invoice``, ``push_act``, ``push_due_invoices``) live here, next to the retries that enqueue them.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from arenda.billing.models import Act, ActPushClaim, BaseSync, Invoice, PushClaim
from arenda.core.metrics import ONEC_PULLS, ONEC_PUSHES
from arenda.core.money import vat_included
from arenda.directory.models import AccountingBase, Counterparty, VatRate
from arenda.integrations.onec.client import Client, Guid, OneCError, Unauthorized, one_c_date

log = logging.getLogger(__name__)

S = Invoice.SyncStatus
INVOICE_SET = "Document_СчетНаОплатуПокупателю"
SALE_SET = "Document_РеализацияТоваровУслуг"
SALE_CORRECTION_SET = "Document_КорректировкаРеализации"
FACTURE_SET = "Document_СчетФактураВыданный"
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


@dataclass(frozen=True)
class Kind:
    """What is pushed: invoices or closing documents. One claim/record/sweep machinery
    serves both; only this differs."""

    name: str  # in the logs
    model: type[models.Model]
    claim: type[models.Model]  # the row that says "being pushed right now"
    claim_field: str
    prefix: str  # of our id in ``Комментарий``
    build: Callable  # (client, document, lines) → the fields to keep (external_id, …)
    withdraw: Callable | None  # (client, document) for a cancelled one already in 1C
    task: Callable  # → the task that pushes one


class Waiting(OneCError):
    """Something this document needs in 1C is not there yet (a correction's act): later."""

    retryable = True


def _comment(kind: Kind, document) -> str:
    """Our id in 1C's ``Комментарий``: unique across our legal entities and databases."""
    return f"{kind.prefix}-{document.pk}-{document.organization.inn}"


def comment_for(invoice: Invoice) -> str:
    return _comment(INVOICES, invoice)


def act_comment_for(act: Act) -> str:
    return _comment(ACTS, act)


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


# --- push ------------------------------------------------------------------------------------
def push_attempt(invoice_id: int, *, force: bool = False) -> str | None:
    """One attempt to put the invoice in its 1C base. ``force`` (a person asked) ignores the
    back-off and a refused base. Returns the sync status after it, or None when there was
    nothing to do (not pending, not due, being pushed by another worker)."""
    return _attempt(INVOICES, invoice_id, force)


def push_act_attempt(act_id: int, *, force: bool = False) -> str | None:
    """The same for a closing document (``Document_РеализацияТоваровУслуг``)."""
    return _attempt(ACTS, act_id, force)


def _attempt(kind: Kind, pk: int, force: bool) -> str | None:
    claim = _claim(pk, force, kind)
    if claim is None:
        return None
    document, lines, token = claim
    base = document.accounting_base
    if base is None or base.kind != AccountingBase.Kind.ODATA:
        return _record(pk, token, kind=kind, not_needed=True)
    cancelled = document.status == document.Status.CANCELLED
    # A cancelled one never sent (this claim is its first attempt) has nothing in 1C.
    if cancelled and (kind.withdraw is None or not (document.external_id or document.sync_attempts > 1)):
        return _record(pk, token, kind=kind, not_needed=True)
    try:
        with Client.for_base(base) as client:
            if cancelled:
                kind.withdraw(client, document)
            else:
                kept = kind.build(client, document, lines)
    except OneCError as error:
        return _record(pk, token, kind=kind, error=error)
    if cancelled:
        return _record(pk, token, kind=kind, not_needed=True)
    return _record(pk, token, kind=kind, kept=kept)


def push_due(limit: int = 200) -> dict:
    """The sweep: bases edited after a refusal go again, then every pending invoice and
    closing document whose time has come is pushed (a lost or not-deferrable task leaves
    them to this); invoices first, so an act finds its invoice in 1C. A closing document
    cancelled after it went to 1C goes again, to mark its 1C documents for deletion."""
    for state in BaseSync.objects.filter(refused_at__isnull=False).select_related("base"):
        _refused(state.base)
    _withdraw_cancelled(Act.objects.all())
    now = timezone.now()
    statuses = []
    for kind in KINDS:
        due = (
            kind.model.objects.filter(sync_status=S.PENDING)
            .filter(Q(sync_next_attempt_at__isnull=True) | Q(sync_next_attempt_at__lte=now))
            .order_by("sync_next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        statuses += [_attempt(kind, pk, False) for pk in due]
    return {"attempted": sum(s is not None for s in statuses), "synced": statuses.count(S.SYNCED)}


def _claim(pk: int, force: bool, kind: "Kind | None" = None) -> tuple | None:
    kind = kind or INVOICES
    now = timezone.now()
    with transaction.atomic():
        document = (
            kind.model.objects.select_for_update(of=("self",))
            .filter(pk=pk, sync_status=S.PENDING)
            .select_related("accounting_base", "organization", "counterparty")
            .first()
        )
        if document is None:
            return None
        if not force and document.sync_next_attempt_at and document.sync_next_attempt_at > now:
            return None
        # A refused base gets no automatic retries; a first attempt (a new document, or one a
        # person sent again) still asks once.
        if (
            not force
            and document.sync_attempts
            and document.accounting_base
            and _refused(document.accounting_base)
        ):
            return None
        claim = kind.claim.objects.filter(**{kind.claim_field: pk}).first()
        if claim is not None and claim.claimed_at > now - CLAIM_LEASE:
            return None
        token = uuid.uuid4().hex
        kind.claim.objects.update_or_create(
            **{kind.claim_field: pk}, defaults={"token": token, "claimed_at": now}
        )
        document.sync_attempts += 1
        document.sync_next_attempt_at = now + CLAIM_LEASE  # the sweep's fallback if this worker dies
        kind.model.objects.filter(pk=pk).update(
            sync_attempts=document.sync_attempts, sync_next_attempt_at=document.sync_next_attempt_at
        )
        return document, list(document.lines.all()), token


def _record(
    pk: int,
    token: str,
    *,
    kind: "Kind | None" = None,
    kept: dict | None = None,
    error: OneCError | None = None,
    not_needed=False,
):
    kind = kind or INVOICES
    now = timezone.now()
    with transaction.atomic():
        document = (
            kind.model.objects.select_for_update(of=("self",)).select_related("accounting_base").get(pk=pk)
        )
        if not kind.claim.objects.filter(**{kind.claim_field: pk, "token": token}).delete()[0]:
            log.warning("1C push of %s %s: a late answer ignored (%s)", kind.name, pk, error or kept)
            return document.sync_status
        fields = ["sync_status", "sync_error", "sync_next_attempt_at", "updated_at"]
        if not_needed:
            document.sync_status, document.sync_error, document.sync_next_attempt_at = S.NOT_NEEDED, "", None
        elif error is None:
            document.sync_status, document.sync_error, document.sync_next_attempt_at = S.SYNCED, "", None
            document.synced_at = now
            for name, value in (kept or {}).items():
                setattr(document, name, value)
            fields += ["synced_at", *(kept or {})]
        elif error.retryable and document.sync_attempts < MAX_ATTEMPTS:
            document.sync_error = str(error)
            document.sync_next_attempt_at = now + backoff(document.sync_attempts)
            _schedule(kind, document.pk, document.sync_next_attempt_at)
        else:
            document.sync_status, document.sync_next_attempt_at = S.FAILED, None
            document.sync_error = str(error)
            if error.retryable:
                document.sync_error = _("Gave up after %(n)d attempts. Last error: %(error)s") % {
                    "n": document.sync_attempts,
                    "error": error,
                }
            if isinstance(error, Unauthorized):
                _refuse(document.accounting_base, error, now)
        document.save(update_fields=fields)
    if error is not None:
        log.warning("1C push of %s %s: %s", kind.name, pk, error)
    _count_push(document, error=error, not_needed=not_needed)
    return document.sync_status


def _count_push(document, *, error, not_needed: bool) -> None:
    if not_needed:
        outcome = "not_needed"
    elif error is None:
        outcome = "synced"
    else:
        outcome = "failed" if document.sync_status == S.FAILED else "retry"
    ONEC_PUSHES.labels(base=str(document.accounting_base_id or ""), outcome=outcome).inc()


def schedule_push(invoice_id: int, when=None) -> None:
    """Queue the push task after the caller's transaction commits: now, or (a retry) at
    ``when`` where the task backend can wait. A lost task loses nothing: ``push_due``."""
    _schedule(INVOICES, invoice_id, when)


def schedule_act_push(act_id: int, when=None) -> None:
    """The same for a closing document (``billing/acts.py`` calls it when one is issued)."""
    _schedule(ACTS, act_id, when)


def _schedule(kind: Kind, pk: int, when) -> None:
    def enqueue():
        push = kind.task()
        try:
            if when is None:
                push.enqueue(pk)
            elif push.get_backend().supports_defer:
                push.using(run_after=when).enqueue(pk)
        except Exception:  # the sweep pushes it when due anyway
            log.exception("1C push of %s %s: could not enqueue the push", kind.name, pk)

    transaction.on_commit(enqueue)


def schedule_again(document) -> None:
    """Queue the push of an invoice or a closing document now (a retry a person asked for)."""
    _schedule(KIND_OF[type(document)], document.pk, None)


# --- what both pushes make first: the parties, the contract, the item -------------------------
@dataclass(frozen=True)
class Parties:
    organization: dict
    counterparty: dict
    contract: dict
    item: dict


def _require_requisites(customer: Counterparty, closing: bool) -> None:
    missing = customer.missing_requisites()
    if not missing:  # else 1C would make a counterparty without ИНН, which the bank cannot match
        return
    names = ", ".join(str(customer._meta.get_field(name).verbose_name) for name in missing)
    if closing:
        message = _(
            "%(counterparty)s has no %(fields)s: complete them, then send the closing document again."
        )
    else:
        message = _("%(counterparty)s has no %(fields)s: complete them, then send the invoice again.")
    raise OneCError(message % {"counterparty": customer, "fields": names})


def _parties(client: Client, ours, customer: Counterparty) -> Parties:
    """Our organization and the counterparty by ИНН (+ КПП), the contract «с покупателем»,
    the one service item: each found first, created only when missing."""
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
    return Parties(organization, counterparty, contract, item)


def _header(document, comment: str, parties: Parties) -> dict:
    return {
        "Date": one_c_date(document.date),
        "Организация_Key": parties.organization["Ref_Key"],
        "Контрагент_Key": parties.counterparty["Ref_Key"],
        "ДоговорКонтрагента_Key": parties.contract["Ref_Key"],
        "СуммаВключаетНДС": True,
        "СуммаДокумента": document.total,
        "Комментарий": comment,
    }


def _row(number: int, item: dict, line, vat_rate: str) -> dict:
    return {
        "LineNumber": number,
        "Номенклатура_Key": item["Ref_Key"],
        "Содержание": line.description,
        "Количество": line.quantity,
        "Цена": line.price,
        "Сумма": line.amount,
        "СтавкаНДС": VAT_ENUM[vat_rate],
        "СуммаНДС": vat_included(line.amount, vat_rate) or 0,
    }


def _ours(client: Client, entity_set: str, comment: str) -> dict | None:
    """The document a former attempt made (by our id in ``Комментарий``), if any."""
    found = [doc for doc in client.list(entity_set, {"Комментарий": comment}) if not doc.get("DeletionMark")]
    return found[0] if found else None


def _push(client: Client, invoice: Invoice, lines: list) -> dict:
    _require_requisites(invoice.counterparty, closing=False)
    comment = comment_for(invoice)
    document = _ours(client, INVOICE_SET, comment)
    if document is None:
        parties = _parties(client, invoice.organization, invoice.counterparty)
        document = client.create(
            INVOICE_SET,
            {
                **_header(invoice, comment, parties),
                "Товары": [
                    _row(number, parties.item, line, invoice.vat_rate)
                    for number, line in enumerate(lines, start=1)
                ],
            },
        )
    return {"external_id": document["Ref_Key"], "external_number": document.get("Number", "")[:30]}


# --- closing documents: the sale, its correction, the invoice-facture -----------------------
def _act_set(act: Act) -> str:
    return SALE_CORRECTION_SET if act.corrects_id else SALE_SET


def _wants_facture(act: Act) -> bool:
    return act.vat_rate != VatRate.NONE and act.accounting_base.wants_invoice_facture


def _push_act(client: Client, act: Act, lines: list) -> dict:
    """``Document_РеализацияТоваровУслуг`` (a correction: ``Document_КорректировкаРеализации``
    naming the corrected act's), posted; with VAT and when the base wants it, the
    ``Document_СчетФактураВыданный`` on it, posted too. Each found first by our id."""
    _require_requisites(act.counterparty, closing=True)
    comment = act_comment_for(act)
    entity_set = _act_set(act)
    document = _ours(client, entity_set, comment)
    if document is None:
        body = _act_body(client, act, lines, comment)
        document = client.create(entity_set, body)
    if not document.get("Posted"):  # new, or a former attempt's Post failed
        client.post_document(entity_set, document["Ref_Key"])
    kept = {"external_id": document["Ref_Key"], "external_number": document.get("Number", "")[:30]}
    if _wants_facture(act):
        facture = _ours(client, FACTURE_SET, comment)
        if facture is None:
            facture = client.create(
                FACTURE_SET,
                {
                    "Date": one_c_date(act.date),
                    "Организация_Key": document["Организация_Key"],
                    "Контрагент_Key": document["Контрагент_Key"],
                    "ДокументОснование": document["Ref_Key"],
                    "ДокументОснование_Type": f"StandardODATA.{entity_set}",
                    "ВидСчетаФактуры": "Корректировочный" if act.corrects_id else "НаРеализацию",
                    "СуммаДокумента": act.total,
                    "Комментарий": comment,
                },
            )
        if not facture.get("Posted"):
            client.post_document(FACTURE_SET, facture["Ref_Key"])
        kept |= {
            "facture_external_id": facture["Ref_Key"],
            "facture_external_number": facture.get("Number", "")[:30],
        }
    return kept


def _act_body(client: Client, act: Act, lines: list, comment: str) -> dict:
    corrected = None
    if act.corrects_id:
        corrected = Act.objects.filter(pk=act.corrects_id).values_list("external_id", flat=True).first()
        if not corrected:
            raise Waiting(
                _("The corrected document %(act)s is not in 1C yet; this correction follows it.")
                % {"act": act.corrects}
            )
    parties = _parties(client, act.organization, act.counterparty)
    body = _header(act, comment, parties)
    rows = [_row(number, parties.item, line, act.vat_rate) for number, line in enumerate(lines, start=1)]
    if corrected:
        body |= {"ДокументРеализации_Key": corrected, "ВидОперации": "КорректировкаПоСогласованиюСторон"}
        for row, line in zip(rows, lines, strict=True):
            row |= {
                "КоличествоДоКорректировки": line.quantity_before or 0,
                "ЦенаДоКорректировки": line.price_before if line.price_before is not None else line.price,
                "СуммаДоКорректировки": line.amount_before or 0,
                "СуммаНДСДоКорректировки": vat_included(line.amount_before or 0, act.vat_rate) or 0,
            }
        return body | {"Услуги": rows}
    body["ВидОперации"] = "Услуги"
    invoice = act.invoices.exclude(external_id="").order_by("date", "sequence", "pk").first()
    if invoice is not None:
        body["СчетНаОплатуПокупателю_Key"] = invoice.external_id
    return body | {"Услуги": rows}


def _withdraw_act(client: Client, act: Act) -> None:
    """A closing document cancelled after it went to 1C: its documents there are unposted and
    marked for deletion (found by our id, so also one whose answer was lost)."""
    comment = act_comment_for(act)
    sets = [FACTURE_SET] if act.facture_external_id or _wants_facture(act) else []
    for entity_set in [*sets, _act_set(act)]:
        document = _ours(client, entity_set, comment)
        if document is None:
            continue
        if document.get("Posted"):
            client.unpost_document(entity_set, document["Ref_Key"])
        client.patch(entity_set, document["Ref_Key"], {"DeletionMark": True})


# --- refusals --------------------------------------------------------------------------------
def _refuse(base: AccountingBase, error: OneCError, now) -> None:
    BaseSync.objects.update_or_create(base=base, defaults={"refused_at": now, "refusal": str(error)})


def _refused(base: AccountingBase) -> bool:
    """Whether the base refused our login and has not been edited since. Once it has been,
    the refusal is lifted and its failed invoices and closing documents get a fresh round."""
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
        for kind in KINDS:
            kind.model.objects.filter(accounting_base=base, sync_status=S.FAILED).update(
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
    their back-off, then its closing documents (after the invoices, so a sale finds its 1C
    invoice). Returns the counts, or None when the base needs no push (a manual one: its
    documents are marked as not needing 1C)."""
    base = AccountingBase.objects.get(pk=base_id)
    waiting = {
        kind: kind.model.objects.filter(accounting_base=base, sync_status__in=[S.PENDING, S.FAILED])
        for kind in KINDS
    }
    if base.kind != AccountingBase.Kind.ODATA:
        for documents in waiting.values():
            documents.update(sync_status=S.NOT_NEEDED, sync_error="", sync_next_attempt_at=None)
        return None
    _lift_refusal(base)
    _withdraw_cancelled(Act.objects.filter(accounting_base=base))
    pushed = failed = 0
    for kind, documents in waiting.items():
        for pk in documents.order_by("pk").values_list("pk", flat=True):
            status = _attempt(kind, pk, True)
            if status is None:
                continue
            pushed += status == S.SYNCED
            failed += status not in (S.SYNCED, S.NOT_NEEDED)
            if _refused(base):  # the login is wrong: asking again for each one helps nobody
                return {"pushed": pushed, "failed": failed, "refused": True}
    return {"pushed": pushed, "failed": failed, "refused": _refused(base)}


def _withdraw_cancelled(acts) -> None:
    """Closing documents cancelled after they went to 1C go again: to be marked for deletion."""
    acts.filter(status=Act.Status.CANCELLED, sync_status=S.SYNCED).update(
        sync_status=S.PENDING, sync_attempts=0, sync_next_attempt_at=None
    )


# --- tasks -----------------------------------------------------------------------------------
@task()
def push_invoice(invoice_id: int) -> str | None:
    """After an invoice is issued, and (deferred) for each retry."""
    return push_attempt(invoice_id)


@task()
def push_due_invoices() -> dict:
    """Every minute (``PERIODIC_JOBS``): whatever is due, so a lost task loses nothing."""
    return push_due()


@task()
def push_act(act_id: int) -> str | None:
    """After a closing document is issued, and (deferred) for each retry."""
    return push_act_attempt(act_id)


INVOICES = Kind(
    name="invoice",
    model=Invoice,
    claim=PushClaim,
    claim_field="invoice_id",
    prefix="arenda-invoice",
    build=_push,
    withdraw=None,
    task=lambda: push_invoice,
)
ACTS = Kind(
    name="act",
    model=Act,
    claim=ActPushClaim,
    claim_field="act_id",
    prefix="arenda-act",
    build=_push_act,
    withdraw=_withdraw_act,
    task=lambda: push_act,
)
KINDS = (INVOICES, ACTS)  # in this order: an act links its invoice, pushed before it
KIND_OF = {kind.model: kind for kind in KINDS}
