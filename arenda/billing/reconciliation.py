"""The reconciliation statement («Акт сверки взаимных расчётов») of a counterparty with one of
our legal entities over a period, its PDF, and the quarterly e-mail (docs/reconciliation.md).

- ``statement(counterparty, organization, start, end)`` → :class:`Statement`: the opening
  balance on ``start`` (the counted acts before it less the money received before it), a row
  per counted act (debit) and per payment received (credit) by date, the turnovers and the
  closing balance. Four queries whatever the number of rows.
- A counted act is issued, sent or signed (``Act.COUNTED_STATUSES``); a correction counts
  its difference as a debit of that sign (a reduction is a negative debit, as 1C prints it).
- A payment is what was received (``Payment.amount``, an overpayment included) on the
  counterparty's invoices of that legal entity; a payment from the customer's credit
  (``source="credit"``) moves money already received between invoices and is not a row.
- ``render_statement_pdf`` prints it in the usual two-sided layout (our half filled, the
  counterparty's blank), in the company's language.
- ``send_quarterly_statements`` (daily job ``billing.reconciliation_quarterly``) mails the
  previous quarter's statement to each counterparty that asked for it, once per
  counterparty, legal entity and quarter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from arenda.billing.models import Act, Invoice, Payment
from arenda.billing.printing import _number, _party, amount_in_words
from arenda.directory.models import Counterparty, Organization
from arenda.integrations.messaging import outbox
from arenda.integrations.messaging.models import OutboxMessage

log = logging.getLogger(__name__)
ZERO = Decimal("0.00")
# The quarterly statement goes in the first days of a quarter (a job that missed the 1st
# catches up); later, the quarter is left to the accountant.
SEND_WITHIN_DAYS = 10


@dataclass(frozen=True)
class Row:
    date: date
    document: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    kind: str = "act"  # act | payment


def _split(balance: Decimal) -> tuple[Decimal, Decimal]:
    """A signed balance (+ the customer owes us) as (debit, credit)."""
    return (balance, ZERO) if balance >= 0 else (ZERO, -balance)


@dataclass(frozen=True)
class Statement:
    counterparty: Counterparty
    organization: Organization
    start: date
    end: date
    opening: Decimal  # signed: + the customer owes us
    rows: list[Row]

    @property
    def opening_debit(self) -> Decimal:
        return _split(self.opening)[0]

    @property
    def opening_credit(self) -> Decimal:
        return _split(self.opening)[1]

    @property
    def turnover_debit(self) -> Decimal:
        return sum((r.debit for r in self.rows), ZERO)

    @property
    def turnover_credit(self) -> Decimal:
        return sum((r.credit for r in self.rows), ZERO)

    @property
    def closing(self) -> Decimal:
        return self.opening + self.turnover_debit - self.turnover_credit

    @property
    def closing_debit(self) -> Decimal:
        return _split(self.closing)[0]

    @property
    def closing_credit(self) -> Decimal:
        return _split(self.closing)[1]

    @property
    def in_favour_of(self) -> str:
        """``us`` (the customer owes us), ``counterparty`` (we owe it: it paid ahead) or ``none``."""
        if self.closing > 0:
            return "us"
        if self.closing < 0:
            return "counterparty"
        return "none"

    def closing_text(self) -> str:
        """«По данным ООО «А» на 30.09.2026 задолженность в пользу ООО «А» 1 000,00 руб. (…)» —
        the printed form's wording (Russian: a document of Russian accounting)."""
        ours = self.organization.name
        if self.in_favour_of == "none":
            return _("According to %(ours)s, on %(date)s there is no debt.") % {
                "ours": ours,
                "date": _day(self.end),
            }
        whom = ours if self.in_favour_of == "us" else (self.counterparty.full_name or self.counterparty.name)
        amount = abs(self.closing)
        return _(
            "According to %(ours)s, on %(date)s the debt in favour of %(whom)s is %(amount)s RUB (%(words)s)."
        ) % {
            "ours": ours,
            "date": _day(self.end),
            "whom": whom,
            "amount": _number(amount),
            "words": amount_in_words(amount),
        }


def _day(value: date) -> str:
    return f"{value:%d.%m.%Y}"


def act_document(act: Act) -> str:
    """The act's name in the statement: «Продажа (акт № 5 от 01.10.2026)», «УПД № 5 от …»,
    «Корректировка № 7 от … к акту № 5 от …»."""
    if act.corrects_id:
        original = act.corrects
        template = (
            gettext_lazy("Correction № {number} of {date} to act № {original} of {original_date}")
            if original.form == Act.Form.ACT
            else gettext_lazy("Correction № {number} of {date} to UPD № {original} of {original_date}")
        )
        return format_lazy(
            template,
            number=act.number,
            date=_day(act.date),
            original=original.number,
            original_date=_day(original.date) if original.date else "—",
        )
    if act.form == Act.Form.UPD:
        return format_lazy(gettext_lazy("UPD № {number} of {date}"), number=act.number, date=_day(act.date))
    return format_lazy(
        gettext_lazy("Sale (act № {number} of {date})"), number=act.number, date=_day(act.date)
    )


def payment_number(payment: Payment) -> str:
    """The payment order's number where we know it: a bank statement's payment keeps it first
    in its reference (``billing/statements.py`` ``payment_key``); a hand-entered one may carry
    it as its reference. 1C's references are document keys, not numbers."""
    if payment.source == Payment.Source.BANK_STATEMENT:
        return payment.reference.split("|", 1)[0].strip()
    if payment.source == Payment.Source.MANUAL:
        return payment.reference.strip()[:30]
    return ""


def payment_document(payment: Payment) -> str:
    number = payment_number(payment)
    if number:
        return format_lazy(
            gettext_lazy("Payment (payment order № {number} of {date})"),
            number=number,
            date=_day(payment.date),
        )
    return format_lazy(gettext_lazy("Payment (of {date})"), date=_day(payment.date))


def _acts(counterparty, organization):
    return Act.objects.filter(
        counterparty=counterparty, organization=organization, status__in=Act.COUNTED_STATUSES
    )


def _payments(counterparty, organization):
    return Payment.objects.filter(
        invoice__counterparty=counterparty, invoice__organization=organization
    ).exclude(source=Payment.Source.CREDIT)


def statement(counterparty: Counterparty, organization: Organization, start: date, end: date) -> Statement:
    """The statement of ``counterparty`` with our ``organization`` from ``start`` to ``end``
    (inclusive; dates are the documents' own, in the company's time zone): four queries."""
    if end < start:
        raise ValueError("the period ends before it starts")
    acts, payments = _acts(counterparty, organization), _payments(counterparty, organization)
    sold = acts.filter(date__lt=start).aggregate(s=Sum("total"))["s"] or ZERO
    received = payments.filter(date__lt=start).aggregate(s=Sum("amount"))["s"] or ZERO
    rows = [
        (a.date, 0, a.sequence or 0, a.pk, Row(a.date, act_document(a), debit=a.total, kind="act"))
        for a in acts.filter(date__gte=start, date__lte=end).select_related("corrects")
    ]
    rows += [
        (p.date, 1, 0, p.pk, Row(p.date, payment_document(p), credit=p.amount, kind="payment"))
        for p in payments.filter(date__gte=start, date__lte=end).order_by()
    ]
    rows.sort(key=lambda r: r[:4])
    return Statement(
        counterparty=counterparty,
        organization=organization,
        start=start,
        end=end,
        opening=sold - received,
        rows=[r[-1] for r in rows],
    )


def organizations_with_business(counterparty, until: date | None = None) -> list[Organization]:
    """Our legal entities that issued the counterparty an act or an invoice (up to ``until``):
    one query."""
    acts = _acts(counterparty, OuterRef("pk"))
    invoices = Invoice.objects.filter(counterparty=counterparty, organization=OuterRef("pk")).exclude(
        status__in=[Invoice.Status.DRAFT, Invoice.Status.CANCELLED]
    )
    if until is not None:
        acts, invoices = acts.filter(date__lte=until), invoices.filter(date__lte=until)
    return list(Organization.objects.filter(Exists(acts) | Exists(invoices)).order_by("name", "pk"))


def default_organization_for(counterparty) -> Organization | None:
    """The legal entity a statement is asked for by default: the one that dealt with the
    counterparty (the first by name when several did), else the company's default."""
    dealt = organizations_with_business(counterparty)
    return dealt[0] if dealt else Organization.objects.default()


# --- printing ---------------------------------------------------------------------------------
def statement_context(s: Statement) -> dict:
    org, cp = s.organization, s.counterparty
    money = lambda v: _number(v) if v else ""  # noqa: E731 - an empty cell for nothing
    return {
        "s": s,
        "org": org,
        "cp": cp,
        "ours": org.full_name or org.name,
        "theirs": cp.full_name or cp.name,
        "ours_party": _party(org.full_name or org.name, org.inn, org.kpp, org.address),
        "theirs_party": _party(cp.full_name or cp.name, cp.inn, cp.kpp, cp.address),
        "period": f"{_day(s.start)} — {_day(s.end)}",
        "rows": [
            {
                "date": _day(r.date),
                "document": str(r.document),
                "debit": money(r.debit),
                "credit": money(r.credit),
            }
            for r in s.rows
        ],
        "opening": {"debit": money(s.opening_debit), "credit": money(s.opening_credit)},
        "turnover": {"debit": money(s.turnover_debit), "credit": money(s.turnover_credit)},
        "closing": {"debit": money(s.closing_debit), "credit": money(s.closing_credit)},
        "closing_text": s.closing_text(),
    }


def render_statement_html(s: Statement) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string("billing/reconciliation_print.html", statement_context(s))


def render_statement_pdf(s: Statement) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is made

    return HTML(string=render_statement_html(s)).write_pdf()


def statement_filename(s: Statement, ext: str = "pdf") -> str:
    """«Akt-sverki-7707083893-5001234567-2026-07-01-2026-09-30.pdf»: both ИНН and the period."""
    inn = s.counterparty.inn or str(s.counterparty.pk)
    return f"Akt-sverki-{s.organization.inn}-{inn}-{s.start:%Y-%m-%d}-{s.end:%Y-%m-%d}.{ext}"


# --- the quarterly e-mail -------------------------------------------------------------------
def quarter_of(day: date) -> tuple[date, date]:
    """The calendar quarter ``day`` is in: (first day, last day)."""
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    after = date(first.year + (first.month == 10), (first.month + 2) % 12 + 1, 1)
    return first, after - timedelta(days=1)


def last_full_quarter(today: date) -> tuple[date, date]:
    """The quarter before the one ``today`` is in."""
    first, _last = quarter_of(today)
    return quarter_of(first - timedelta(days=1))


def quarterly_key(counterparty_id: int, organization_id: int, start: date) -> str:
    return f"reconciliation:{counterparty_id}:{organization_id}:{start.year}Q{(start.month - 1) // 3 + 1}"


def _queue_statement(s: Statement, key: str) -> OutboxMessage:
    name = default_storage.save(
        f"reconciliation/{s.start:%Y}/{statement_filename(s)}", ContentFile(render_statement_pdf(s))
    )
    try:
        with translation.override(settings.LANGUAGE_CODE):
            title = _("Reconciliation statement for %(start)s — %(end)s") % {
                "start": _day(s.start),
                "end": _day(s.end),
            }
            text = _(
                "Good day!\n\nThe reconciliation statement of %(ours)s and %(theirs)s for %(start)s — "
                "%(end)s is attached. Please check it, sign it and send us a copy, or tell us what "
                "differs.\n\n%(closing)s"
            ) % {
                "ours": s.organization.name,
                "theirs": s.counterparty.name,
                "start": _day(s.start),
                "end": _day(s.end),
                "closing": s.closing_text(),
            }
        with transaction.atomic():
            return outbox.enqueue(
                channel="email",
                recipient=s.counterparty.email,
                title=title,
                text=text,
                subject=s.counterparty,
                idempotency_key=key,
                attachments=[
                    {"name": name, "filename": statement_filename(s), "content_type": "application/pdf"}
                ],
            )
    except BaseException:
        default_storage.delete(name)
        raise


def send_quarterly_statements(*, today: date | None = None, limit: int = 500) -> int:
    """In the first ``SEND_WITHIN_DAYS`` days of a quarter, queue the previous quarter's
    statement for each counterparty with ``reconciliation_quarterly`` and an e-mail, one per
    legal entity of ours that dealt with it by the quarter's end, unless queued already (the
    idempotency key: counterparty, legal entity, quarter). A statement with no rows and no
    balance is not sent. Returns how many were queued."""
    today = today or timezone.localdate()
    if (today - quarter_of(today)[0]).days >= SEND_WITHIN_DAYS:
        return 0
    start, end = last_full_quarter(today)
    queued = 0
    counterparties = (
        Counterparty.objects.filter(reconciliation_quarterly=True).exclude(email="").order_by("pk")
    )
    for counterparty in counterparties.iterator():
        for organization in organizations_with_business(counterparty, until=end):
            key = quarterly_key(counterparty.pk, organization.pk, start)
            if OutboxMessage.objects.filter(idempotency_key=key).exists():
                continue
            s = statement(counterparty, organization, start, end)
            if not s.rows and not s.opening:
                continue
            try:
                _queue_statement(s, key)
            except Exception:
                log.exception("quarterly reconciliation of counterparty %s failed", counterparty.pk)
                continue
            queued += 1
            if queued >= limit:
                return queued  # the rest on the next run: the keys skip what went
    return queued


@task()
def send_quarterly_statements_task() -> int:
    """Daily (``PERIODIC_JOBS``)."""
    return send_quarterly_statements()
