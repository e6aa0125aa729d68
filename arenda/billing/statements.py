"""Bank statements in the 1CClientBankExchange format: reading the file, finding the
incoming payments, matching them to open invoices and recording them.

- ``parse_statement(bytes)`` → ``Statement``. Real files come in UTF-8, cp1251 or cp866
  whatever their ``Кодировка`` header says, with any line ending, blank lines, padded
  keys and values, unknown and repeated keys; anything that is not such a file raises
  ``StatementError`` with a message for the person who uploaded it.
- ``statement_import(file_name, data, by)`` records the statement in one transaction.
  A payment is known by ``number|date|amount|payer INN|payer account``, so importing
  the same payments again (the same file, or an overlapping period) records nothing twice.
- A payment is matched when exactly one open invoice fits: the invoice number named in
  the purpose (with its date when given), the payer's INN equal to the counterparty's,
  and an amount not above the debt; without a usable number, the INN and an amount
  equal to the debt. Several fits, or an overpayment, wait for the accountant as
  ``ambiguous``; no fit as ``unmatched``. The accountant assigns or ignores them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from arenda.billing.models import BankStatement, Invoice, Payment, StatementPayment
from arenda.billing.services import BillingRefused, payment_date_error, payment_record
from arenda.core.money import MAX_AMOUNT, to_money
from arenda.core.services import locked
from arenda.directory.models import Organization

MAX_BYTES = 10 * 1024 * 1024
MARKER = "1CClientBankExchange"

# Keys whose presence tells a right decoding from a wrong one (the header may lie).
KNOWN_KEYS = frozenset(
    {
        "ВерсияФормата",
        "Кодировка",
        "Отправитель",
        "Получатель",
        "ДатаСоздания",
        "ДатаНачала",
        "ДатаКонца",
        "РасчСчет",
        "Документ",
        "СекцияРасчСчет",
        "КонецРасчСчет",
        "СекцияДокумент",
        "КонецДокумента",
        "КонецФайла",
        "Номер",
        "Дата",
        "Сумма",
        "ПлательщикИНН",
        "ПолучательИНН",
        "НазначениеПлатежа",
    }
)


class StatementError(Exception):
    """The upload is not a statement we can read; the message is for the uploader."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Fields:
    """``key=value`` lines of a block. A repeated key keeps every value; ``get`` gives the
    first non-empty one."""

    def __init__(self):
        self.values: dict[str, list[str]] = {}

    def add(self, key: str, value: str) -> None:
        self.values.setdefault(key, []).append(value)

    def get(self, *keys: str) -> str:
        for key in keys:
            for value in self.values.get(key, ()):
                if value:
                    return value
        return ""

    def all(self, key: str) -> list[str]:
        return [v for v in self.values.get(key, ()) if v]


def parse_amount(raw: str) -> Decimal | None:
    text = re.sub(r"[\s\u00a0\u202f']", "", raw or "").replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d{1,2})?", text):
        return None
    return to_money(text)


def parse_date(raw: str) -> date | None:
    match = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{2}|\d{4})", (raw or "").strip())
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    if year < 100:
        year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        return None


@dataclass
class AccountSection:
    fields: Fields

    @property
    def account(self) -> str:
        return self.fields.get("РасчСчет")

    @property
    def opening(self) -> Decimal | None:
        return parse_amount(self.fields.get("НачальныйОстаток"))

    @property
    def received(self) -> Decimal | None:
        return parse_amount(self.fields.get("ВсегоПоступило"))

    @property
    def written_off(self) -> Decimal | None:
        return parse_amount(self.fields.get("ВсегоСписано"))

    @property
    def closing(self) -> Decimal | None:
        return parse_amount(self.fields.get("КонечныйОстаток"))


PACKED_INN = re.compile(r"^\s*ИНН\s*(\d{10}|\d{12})\b[\s,;]*(.*)$", re.S)


@dataclass
class Document:
    kind: str
    fields: Fields
    line: int

    @property
    def number(self) -> str:
        return self.fields.get("Номер")

    @property
    def date(self) -> date | None:
        return parse_date(self.fields.get("Дата"))

    @property
    def amount(self) -> Decimal | None:
        return parse_amount(self.fields.get("Сумма"))

    @property
    def received_on(self) -> date | None:
        return parse_date(self.fields.get("ДатаПоступило"))

    @property
    def written_off_on(self) -> date | None:
        return parse_date(self.fields.get("ДатаСписано"))

    def _packed_payer(self) -> tuple[str, str]:
        """``Плательщик`` may read «ИНН 7719617469 ОАО Ромашка»: (inn, name)."""
        packed = self.fields.get("Плательщик")
        match = PACKED_INN.match(packed)
        return (match.group(1), match.group(2).strip()) if match else ("", packed)

    @property
    def payer_inn(self) -> str:
        inn = re.sub(r"\D", "", self.fields.get("ПлательщикИНН"))
        return inn if inn.strip("0") else self._packed_payer()[0]

    @property
    def payer_name(self) -> str:
        return self.fields.get("Плательщик1") or self._packed_payer()[1]

    @property
    def payer_account(self) -> str:
        return self.fields.get("ПлательщикСчет", "ПлательщикРасчСчет")

    @property
    def recipient_account(self) -> str:
        return self.fields.get("ПолучательСчет", "ПолучательРасчСчет")

    @property
    def recipient_inn(self) -> str:
        return self.fields.get("ПолучательИНН")

    @property
    def purpose(self) -> str:
        """The whole purpose; older banks split it over ``НазначениеПлатежа1…6``."""
        whole = self.fields.get("НазначениеПлатежа")
        if whole:
            return whole
        parts = [self.fields.get(f"НазначениеПлатежа{i}") for i in range(1, 7)]
        return " ".join(p for p in parts if p)


@dataclass
class Statement:
    header: Fields
    accounts: list[AccountSection] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    encoding: str = "utf-8"
    warnings: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        return self.header.get("ВерсияФормата")

    @property
    def own_accounts(self) -> list[str]:
        """The accounts the statement is of: the header's, else its balance sections'."""
        listed = self.header.all("РасчСчет") or [a.account for a in self.accounts if a.account]
        return list(dict.fromkeys(listed))

    @property
    def period_start(self) -> date | None:
        return parse_date(self.header.get("ДатаНачала"))

    @property
    def period_end(self) -> date | None:
        return parse_date(self.header.get("ДатаКонца"))


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise StatementError(_("The file is damaged: it cannot be read as text.")) from exc
    if b"\x00" in data:
        raise StatementError(_("This is not a text file (it holds binary data)."))
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Single-byte encodings decode anything; the one that yields known keys is right.
    best = None
    for encoding in ("cp1251", "cp866"):
        text = data.decode(encoding, errors="replace")
        keys = {line.split("=", 1)[0].strip() for line in text.splitlines()[:400]}
        score = len(keys & KNOWN_KEYS)
        if best is None or score > best[0]:
            best = (score, text, encoding)
    return best[1], best[2]


def parse_statement(data: bytes) -> Statement:
    """Read a 1CClientBankExchange file. A missing ``КонецФайла`` only warns; a document
    without its ``КонецДокумента`` is dropped with a warning (the file may be cut)."""
    if not data or not data.strip():
        raise StatementError(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise StatementError(too_big_message())
    text, encoding = _decode(data)
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise StatementError(_("The file is empty."))
    if lines[first].strip().lstrip("\ufeff") != MARKER:
        raise StatementError(
            _(
                "This is not a bank statement in the 1C exchange format: such a file starts "
                "with the line “1CClientBankExchange”. Export the statement from the "
                "bank's client for 1C:Enterprise and upload that file."
            )
        )
    statement = Statement(header=Fields(), encoding=encoding)
    block: Fields | None = None
    document: Document | None = None
    in_accounts = False
    ended = False
    for number, raw in enumerate(lines[first + 1 :], start=first + 2):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if key == "КонецФайла":
            ended = True
            break
        if key == "СекцияДокумент":
            if document is not None:
                _drop_unclosed(statement, document)
            block = Fields()
            document, in_accounts = Document(kind=value, fields=block, line=number), False
        elif key == "КонецДокумента":
            if document is not None:
                statement.documents.append(document)
            document, block = None, None
        elif key == "СекцияРасчСчет":
            if document is not None:
                _drop_unclosed(statement, document)
                document = None
            block, in_accounts = Fields(), True
            statement.accounts.append(AccountSection(block))
        elif key == "КонецРасчСчет":
            block, in_accounts = None, False
        elif sep:
            (block if block is not None else statement.header).add(key, value)
    if document is not None:
        _drop_unclosed(statement, document)
    if in_accounts:
        statement.warnings.append(_("A balance section is not closed (КонецРасчСчет)."))
    if not ended:
        statement.warnings.append(_("The file has no end marker (КонецФайла); it may be cut short."))
    return statement


def _drop_unclosed(statement: Statement, document: Document) -> None:
    statement.warnings.append(
        _("Document № %(number)s (line %(line)s) has no end (КонецДокумента) and was skipped.")
        % {"number": document.number or "?", "line": document.line}
    )


def too_big_message() -> str:
    return _("The file is larger than %(mb)s MB; a bank statement is much smaller.") % {
        "mb": MAX_BYTES // (1024 * 1024)
    }


def read_upload(upload) -> bytes:
    """The bytes of an uploaded file, refusing a too big one before reading it all."""
    if upload is None:
        raise StatementError(_("Choose the statement file."))
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise StatementError(too_big_message())
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise StatementError(too_big_message())
    return data


# --- matching -------------------------------------------------------------------------------

# «по счету № 123 от 01.02.2026», «сч. 123», «счет №123», «по с/ф 123», «счета N 1024 от 01.01.23г»
INVOICE_REF = re.compile(
    r"(?<![\w/])(?:сч(?:[её]т(?:а|у|ом|ам|ов)?)?\.?|с/ф|сч/ф|счет[ау]?-фактур\w*|invoice|inv\.?)"
    r"\s*(?:№|N|#|No\.?)?\s*(?P<number>[A-Za-zА-Яа-яЁё]{0,5}-?\d[\d/-]*)"
    r"(?:\s*(?:от|from|d\.)\s*(?P<date>\d{1,2}[./]\d{1,2}[./]\d{2,4}))?",
    re.I,
)


def invoice_refs(purpose: str) -> list[tuple[str, date | None]]:
    """Invoice numbers (normalised) and their dates named in a payment purpose."""
    refs = []
    for match in INVOICE_REF.finditer(purpose or ""):
        refs.append((normal_number(match.group("number")), parse_date(match.group("date") or "")))
    return [ref for ref in refs if ref[0]]


def normal_number(raw: str) -> str:
    """«00123», «НФ-00000123» and «123» name the same invoice: the last digits, no zeros."""
    digits = re.findall(r"\d+", raw or "")
    return digits[-1].lstrip("0") if digits else ""


@dataclass
class Match:
    state: str
    invoice: Invoice | None = None
    candidates: list[Invoice] = field(default_factory=list)


def match_payment(*, amount: Decimal, payer_inn: str, purpose: str, organization_ids=None) -> Match:
    """Which open invoice a payment pays (see the module docstring)."""
    State = StatementPayment.State
    refs = invoice_refs(purpose)
    open_invoices = Invoice.objects.open().select_related("counterparty")
    if organization_ids:
        open_invoices = open_invoices.filter(organization_id__in=organization_ids)
    numbers = {n for n, _d in refs}
    named = [i for i in open_invoices.filter(invoice_number_q(numbers)) if _named(i, refs)] if numbers else []
    if not payer_inn:
        return Match(State.UNMATCHED, candidates=named)
    payer_named = [i for i in named if i.counterparty.inn == payer_inn]
    if payer_named:
        fitting = [i for i in payer_named if amount <= i.debt]
        if len(fitting) == 1:
            return Match(State.MATCHED, fitting[0])
        return Match(State.AMBIGUOUS, candidates=fitting or payer_named)
    exact = [i for i in open_invoices.filter(counterparty__inn=payer_inn) if i.debt == amount]
    if len(exact) == 1:
        return Match(State.MATCHED, exact[0])
    if exact:
        return Match(State.AMBIGUOUS, candidates=exact)
    # A number of someone else's invoice: a third party paying for the customer, perhaps.
    return Match(State.UNMATCHED, candidates=named)


def invoice_number_q(numbers: set[str]) -> Q:
    q = Q()
    for number in numbers:
        q |= Q(number__iregex=rf"^\D*0*{number}$") | Q(external_number__iregex=rf"^\D*0*{number}$")
    return q


def _named(invoice: Invoice, refs) -> bool:
    """A number with a date names the invoice of that date (numbers restart every year)."""
    for number, on in refs:
        names = number in (normal_number(invoice.number), normal_number(invoice.external_number))
        if names and (on is None or on == invoice.date):
            return True
    return False


# --- import ---------------------------------------------------------------------------------


@dataclass
class ImportResult:
    statement: BankStatement
    created: bool
    payments: list[StatementPayment] = field(default_factory=list)
    known: int = 0
    outgoing: int = 0
    warnings: list[str] = field(default_factory=list)
    # Invoices this import made paid in full (what follows is ``flows/payments.py``'s).
    settled: list[Invoice] = field(default_factory=list)

    @property
    def matched(self) -> list[StatementPayment]:
        return [p for p in self.payments if p.state == StatementPayment.State.MATCHED]

    @property
    def waiting(self) -> list[StatementPayment]:
        return [p for p in self.payments if p.state != StatementPayment.State.MATCHED]


def payment_key(document: Document) -> str:
    return "|".join(
        [
            document.number,
            document.date.strftime("%d.%m.%Y"),
            f"{document.amount:.2f}",
            document.payer_inn,
            document.payer_account,
        ]
    )[:200]


def _our_accounts() -> dict[str, int]:
    return {
        account: pk for pk, account in Organization.objects.exclude(account="").values_list("pk", "account")
    }


def statement_import(*, file_name: str, data: bytes, by) -> ImportResult:
    """Import a statement file: parse it (``StatementError`` when it is not one), then
    record its incoming payments in one transaction. The same file again answers with the
    first import and records nothing."""
    sha256 = hashlib.sha256(data).hexdigest()
    earlier = BankStatement.objects.filter(sha256=sha256).order_by("pk").first()
    if earlier is not None:
        return ImportResult(earlier, False, list(earlier.payments.order_by("pk")))
    parsed = parse_statement(data)
    return _record(parsed, file_name=file_name, sha256=sha256, by=by)


@transaction.atomic
def _record(parsed: Statement, *, file_name: str, sha256: str, by) -> ImportResult:
    ours = _our_accounts()
    own = parsed.own_accounts
    warnings = list(parsed.warnings)
    if ours and own and not set(own) & set(ours):
        warnings.append(_("None of the statement's accounts is an account of our legal entities."))
    statement = BankStatement.objects.create(
        file_name=(file_name or "statement.txt")[:255],
        sha256=sha256,
        account=next((a for a in own if a in ours), own[0] if own else "")[:20],
        period_start=parsed.period_start,
        period_end=parsed.period_end,
        documents=len(parsed.documents),
        imported_by=by if getattr(by, "is_authenticated", False) else None,
    )
    result = ImportResult(statement, True, warnings=warnings)
    for document in parsed.documents:
        if not _incoming(document, ours):
            result.outgoing += 1
            continue
        if document.amount is None or not 0 < document.amount <= MAX_AMOUNT or document.date is None:
            result.warnings.append(
                _("Document № %(number)s (line %(line)s) has no valid date or amount and was skipped.")
                % {"number": document.number or "?", "line": document.line}
            )
            continue
        row = _record_document(statement, document, ours, by, result.settled)
        if row is None:
            result.known += 1
        else:
            result.payments.append(row)
    return result


def _incoming(document: Document, ours: dict[str, int]) -> bool:
    if document.recipient_account in ours:
        return True
    if document.payer_account in ours:
        return False
    return document.received_on is not None and document.written_off_on is None


def _record_document(
    statement, document: Document, ours: dict[str, int], by, settled: list[Invoice]
) -> StatementPayment | None:
    key = payment_key(document)
    if StatementPayment.objects.filter(key=key).exists():
        return None
    on = document.received_on or document.date
    twin = _twin_from_1c(amount=document.amount, on=on, payer_inn=document.payer_inn)
    if twin is not None:
        match = Match(StatementPayment.State.MATCHED, twin.invoice)
    else:
        organization = ours.get(document.recipient_account)
        match = match_payment(
            amount=document.amount,
            payer_inn=document.payer_inn,
            purpose=document.purpose,
            organization_ids=[organization] if organization else None,
        )
        if match.invoice is not None and payment_date_error(match.invoice, on):
            # Dated where no payment of that invoice can be (a typo in the bank's file?):
            # the accountant decides.
            match = Match(StatementPayment.State.AMBIGUOUS, candidates=[match.invoice])
    try:
        with transaction.atomic():
            row = StatementPayment.objects.create(
                statement=statement,
                key=key,
                number=document.number[:30],
                date=on,
                amount=document.amount,
                payer_name=document.payer_name[:300],
                payer_inn=document.payer_inn[:12],
                payer_account=document.payer_account[:20],
                purpose=document.purpose,
                state=match.state,
            )
    except IntegrityError:
        return None  # the same payment imported at this moment by another upload
    if match.candidates:
        row.candidates.set(match.candidates)
    if match.invoice is not None:
        row.payment = twin or _pay(row, match.invoice, by, settled)
        row.save(update_fields=["payment", "updated_at"])
    return row


def _twin_from_1c(*, amount, on, payer_inn, invoice=None) -> Payment | None:
    """The same money already brought in by the 1C sync (1C reads the same bank), not yet
    claimed by another statement line: counting it again would pay the invoice twice."""
    if not payer_inn and invoice is None:
        return None
    twins = Payment.objects.filter(source=Payment.Source.ONEC, amount=amount, date=on).exclude(
        pk__in=StatementPayment.objects.filter(payment__isnull=False).values("payment")
    )
    twins = (
        twins.filter(invoice=invoice)
        if invoice is not None
        else twins.filter(invoice__counterparty__inn=payer_inn)
    )
    return twins.select_related("invoice").order_by("pk").first()


def brought_by_statements(seen) -> set[str]:
    """The other way round from ``_twin_from_1c``: the references of 1C payments (``seen``:
    what the 1C pull read, ``billing.onec.SeenPayment``) whose money a statement import
    already recorded, because the statement came first and the accountant loaded the same
    bank document into 1C later. Nothing links the two, so they are paired by count: per
    customer, amount and date, as many 1C payments not recorded yet as there are statement
    payments of that customer, amount and date (first references first) are the same money
    and are not recorded again (docs/billing.md)."""
    seen = list(seen)
    recorded = set(
        Payment.objects.filter(
            source=Payment.Source.ONEC, reference__in=[s.reference for s in seen]
        ).values_list("reference", flat=True)
    )
    new: dict[tuple, list[str]] = {}
    for payment in seen:
        if payment.reference not in recorded:
            key = (payment.invoice.counterparty_id, to_money(payment.amount), payment.on)
            new.setdefault(key, []).append(payment.reference)
    same = set()
    for (counterparty_id, amount, on), references in new.items():
        from_bank = Payment.objects.filter(
            source=Payment.Source.BANK_STATEMENT,
            invoice__counterparty_id=counterparty_id,
            amount=amount,
            date=on,
        ).count()
        same.update(sorted(references)[:from_bank])
    return same


def _pay(row: StatementPayment, invoice: Invoice, by, settled: list[Invoice]) -> Payment:
    """Record the payment, unless 1C already brought the same money in for this invoice;
    an invoice it settles goes to ``settled``."""
    twin = _twin_from_1c(amount=row.amount, on=row.date, payer_inn=row.payer_inn, invoice=invoice)
    if twin is not None:
        return twin
    recorded = payment_record(
        invoice=invoice,
        amount=row.amount,
        on=row.date,
        source=Payment.Source.BANK_STATEMENT,
        by=by,
        reference=row.key,
        payer=row.payer_name,
        purpose=row.purpose,
    )
    if recorded.settled:
        settled.append(recorded.payment.invoice)
    return recorded.payment


# --- the accountant's decisions ---------------------------------------------------------------

WAITING = (StatementPayment.State.AMBIGUOUS, StatementPayment.State.UNMATCHED)


@dataclass
class Assigned:
    row: StatementPayment
    # The invoice, when this payment made it paid in full (``flows/payments.py`` follows it).
    settled: Invoice | None = None


@transaction.atomic
def statement_payment_assign(*, statement_payment: StatementPayment, invoice: Invoice, by) -> Assigned:
    """The accountant says which invoice a waiting payment pays."""
    row = locked(StatementPayment, statement_payment.pk)
    if row.state not in (*WAITING, StatementPayment.State.IGNORED):
        raise BillingRefused("already_recorded", _("This payment is already recorded against an invoice."))
    twin = _twin_from_1c(amount=row.amount, on=row.date, payer_inn=row.payer_inn)
    if twin is not None and twin.invoice_id != invoice.pk:
        # The 1C pull brought this money in meanwhile, on another invoice: recording it
        # here too would count it twice (docs/billing.md).
        raise BillingRefused(
            "recorded_from_1c",
            _("1C has already recorded this payment on %(invoice)s: assign it there, or set it aside.")
            % {"invoice": twin.invoice},
            {"invoice": twin.invoice_id},
        )
    settled: list[Invoice] = []
    row.payment = _pay(row, invoice, by, settled)
    row.state = StatementPayment.State.ASSIGNED
    row.save(update_fields=["payment", "state", "updated_at"])
    return Assigned(row, settled[0] if settled else None)


@transaction.atomic
def statement_payment_ignore(*, statement_payment: StatementPayment, by) -> StatementPayment:
    """Not a payment for our invoices (a refund, a loan, someone else's money)."""
    row = locked(StatementPayment, statement_payment.pk)
    if row.state not in WAITING:
        raise BillingRefused("already_recorded", _("Only a payment waiting for a decision can be set aside."))
    row.state = StatementPayment.State.IGNORED
    row.save(update_fields=["state", "updated_at"])
    return row
