"""The ledger, proven: random sequences of issuing, cancelling and correcting invoices,
payments from every source (by hand, the 1C pull, bank statements), overpayments, possible
duplicates, credit applied and payments deleted never break the invariants of
docs/billing.md — checked from the raw rows after every step, against the selectors, the
receivables report and the dashboard. Then the machine is shown to have teeth: with one
rule of the domain broken at a time it fails."""

import contextlib
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from arenda.billing import onec, selectors, services, statements
from arenda.billing.models import CreditEntry, Invoice, InvoiceQuerySet, Payment, StatementPayment
from arenda.billing.services import BillingRefused, LineData
from arenda.bookings.models import Booking, Waybill
from arenda.bookings.services import BookingConflict
from arenda.core.models import CompanySettings
from arenda.core.money import to_money
from arenda.core.roles import Role
from arenda.flows import payments, trips
from arenda.front.views import _receivables as dashboard_receivables
from arenda.integrations.onec.fake import FakeOneC
from arenda.reports.receivables import ReceivablesReport
from tests import factories as f
from tests.billing.test_statements import build

D = Decimal
ZERO = D("0.00")
USER, PASSWORD = "odata", "secret-1c"
RECEIVED = ("manual", "1c", "bank_statement")
# What the domain refuses by design; anything else a rule raises is a failure.
REFUSALS = (BillingRefused, ValidationError, BookingConflict)

picks = st.integers(min_value=0, max_value=63)
amount_modes = st.sampled_from(["exact", "part", "over", "fixed"])


@contextlib.contextmanager
def refused():
    """The domain may refuse (counted in ``LedgerMachine.seen``)."""
    try:
        yield
    except REFUSALS as refusal:
        code = getattr(refusal, "code", None) or ",".join(getattr(refusal, "message_dict", {})) or "?"
        LedgerMachine.seen[f"refused {code}"] += 1


class LedgerMachine(RuleBasedStateMachine):
    """Two customers of one legal entity: «A» is invoiced through a 1C base (the fake 1C),
    has two bookings and works without prepayment; «B» has no 1C base. Each example runs in
    a savepoint rolled back at its end, and in a 1C base of its own."""

    fake: FakeOneC | None = None
    examples = 0
    # What the runs did (printed by the test: is every path taken?).
    seen: Counter = Counter()

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        LedgerMachine.examples += 1
        CompanySettings.objects.update_or_create(pk=1, defaults={"overtime_auto_issue": True})
        self.today = timezone.localdate()
        self.org = f.OrganizationFactory()
        self.base = f.AccountingBaseFactory(
            organization=self.org,
            odata_url=self.fake.base_url(f"ledger{LedgerMachine.examples}"),
            username=USER,
            password=PASSWORD,
        )
        self.base_name = f"ledger{LedgerMachine.examples}"
        self.customers = [
            f.CounterpartyFactory(prepayment_required=False, accounting_base=self.base),
            f.CounterpartyFactory(prepayment_required=False),
        ]
        self.accountant = f.UserFactory(role=Role.ACCOUNTANT)
        manager = f.UserFactory(role=Role.MANAGER)
        deal = f.DealFactory(
            counterparty=self.customers[0], organization=self.org, manager=manager, stage="agreed"
        )
        start = (timezone.localtime() - timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
        self.bookings = [
            f.BookingFactory(
                deal=deal,
                unit=f.UnitFactory(),
                driver=f.DriverFactory(),
                status=Booking.Status.CONFIRMED,
                start=start,
                end=start + timedelta(hours=14),
                busy_until=start + timedelta(hours=14),
                min_hours=D("4"),
                ordered_hours=D("8"),
                rate_per_hour=D("3500.00"),
            )
            for _ in range(2)
        ]
        self.invoices: list[int] = []
        # Manual payments entered without a reference: pk → (invoice, amount, date).
        self.manual: dict[int, tuple[int, Decimal, object]] = {}
        # Money the customers sent through the bank (1C and the statements see it) and the
        # transfers the next statement will list.
        self.sent = ZERO
        self.unlisted: list[dict] = []
        # Transfers to invoices in 1C that 1C has not seen yet: listed in the next statement
        # (unposted), then imported (posted_late: 1C may get them after us).
        self.unposted: list[tuple[int, Decimal]] = []
        self.posted_late: list[tuple[int, Decimal]] = []
        self.documents = 0

    def teardown(self):
        # A step that broke the transaction (PostgreSQL) leaves its own error to tell.
        with contextlib.suppress(DatabaseError):
            LedgerMachine.seen.update(
                f"invoice {status}{' overtime' if overtime else ''}{' correcting' if corrects else ''}"
                for status, overtime, corrects in Invoice.objects.values_list(
                    "status", "is_overtime", "corrects"
                )
            )
            LedgerMachine.seen.update(
                f"credit {k}" for k in CreditEntry.objects.values_list("kind", flat=True)
            )
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers ----------------------------------------------------------------------------------
    def _invoice(self, pick, *, open_only=False) -> Invoice:
        """One of the invoices made so far; ``open_only``: one still owed, when there is one."""
        pks = self.invoices
        if open_only:
            pks = (
                list(Invoice.objects.open().filter(pk__in=pks).order_by("pk").values_list("pk", flat=True))
                or pks
            )
        return Invoice.objects.get(pk=pks[pick % len(pks)])

    def _amount(self, invoice: Invoice, mode: str) -> Decimal:
        owed = max(invoice.total - invoice.paid_amount, ZERO)
        if mode == "exact" and owed > 0:
            return owed
        if mode == "part" and owed > D("0.02"):
            return to_money(owed / 3)
        if mode == "over":
            return owed + D("5000.00")
        return D("2500.00")

    def _track(self, invoice: Invoice | None) -> None:
        if invoice is not None and invoice.pk not in self.invoices:
            self.invoices.append(invoice.pk)

    def _track_booking(self, booking: Booking) -> None:
        for pk in Invoice.objects.filter(booking=booking).order_by("pk").values_list("pk", flat=True):
            if pk not in self.invoices:
                self.invoices.append(pk)

    # --- invoices ---------------------------------------------------------------------------------
    @rule(
        customer=st.integers(0, 1),
        kind=st.sampled_from(["prepayment", "postpayment"]),
        quantity=st.sampled_from(["1", "2.5", "8"]),
        price=st.sampled_from(["1000.00", "3500.00", "17500.00", "0.01"]),
        issue=st.booleans(),
    )
    def invoice(self, customer, kind, quantity, price, issue):
        invoice = services.invoice_create(
            kind=kind,
            counterparty=self.customers[customer],
            organization=self.org,
            lines=[LineData("Услуги автокрана с экипажем", D(quantity), D(price))],
            by=self.accountant,
        )
        if issue:
            invoice = services.invoice_issue(invoice=invoice, by=self.accountant)
        self._track(invoice)

    @precondition(lambda self: Invoice.objects.filter(pk__in=self.invoices, status="draft").exists())
    @rule(pick=picks)
    def issue_draft(self, pick):
        drafts = list(
            Invoice.objects.filter(pk__in=self.invoices, status=Invoice.Status.DRAFT).values_list(
                "pk", flat=True
            )
        )
        invoice = Invoice.objects.get(pk=drafts[pick % len(drafts)]) if drafts else self._invoice(pick)
        with refused():
            services.invoice_issue(invoice=invoice, by=self.accountant)

    @precondition(lambda self: self.invoices)
    @rule(pick=picks, open_only=st.booleans())
    def cancel(self, pick, open_only):
        invoice = self._invoice(pick, open_only=open_only)
        owed_before = invoice.paid_amount
        try:
            services.invoice_cancel(invoice=invoice, reason="ошибка в счёте", by=self.accountant)
        except BillingRefused as refusal:
            assert refusal.code == "cannot_cancel"
        else:
            assert owed_before == 0, "an invoice with payments applied was cancelled"

    @rule(booking=st.integers(0, 1))
    def prepay_booking(self, booking):
        with refused():
            invoice = services.prepayment_invoice_for_booking(
                booking=self.bookings[booking], by=self.accountant
            )
            self._track(invoice)

    @rule(booking=st.integers(0, 1), hours=st.sampled_from(["2", "6", "8", "11"]))
    def waybill(self, booking, hours):
        """The first waybill of a booking bills its overtime; a later one corrects it (the
        overtime invoice is rewritten, cancelled and re-issued, or followed by another)."""
        booking = Booking.objects.get(pk=self.bookings[booking].pk)
        existing = Waybill.objects.filter(booking=booking).first()
        with refused():
            if existing is None:
                start = timezone.localtime(booking.start)
                trips.waybill_record(
                    booking=booking,
                    data={
                        "number": f"ПЛ-{booking.pk}",
                        "started_at": start,
                        "finished_at": start + timedelta(hours=12),
                        "hours": D(hours),
                    },
                    by=self.accountant,
                )
            else:
                trips.waybill_update(waybill=existing, data={"hours": D(hours)}, by=self.accountant)
        self._track_booking(booking)

    # --- payments ---------------------------------------------------------------------------------
    @precondition(lambda self: self.invoices)
    @rule(
        pick=picks,
        open_only=st.booleans(),
        mode=amount_modes,
        days_back=st.integers(0, 2),
        confirm=st.booleans(),
    )
    def pay_by_hand(self, pick, open_only, mode, days_back, confirm):
        invoice = self._invoice(pick, open_only=open_only)
        self._pay_by_hand(
            invoice, self._amount(invoice, mode), self.today - timedelta(days=days_back), confirm
        )

    @precondition(lambda self: self.manual)
    @rule(pick=picks, confirm=st.booleans())
    def pay_by_hand_again(self, pick, confirm):
        """The accountant enters the same payment twice."""
        invoice_pk, amount, on = list(self.manual.values())[pick % len(self.manual)]
        self._pay_by_hand(Invoice.objects.get(pk=invoice_pk), amount, on, confirm)

    def _pay_by_hand(self, invoice, amount, on, confirm):
        twin = (invoice.pk, amount, on) in self.manual.values()
        payable = invoice.status not in (Invoice.Status.DRAFT, Invoice.Status.CANCELLED)
        owed = max(invoice.total - invoice.paid_amount, ZERO)
        count = Payment.objects.count()
        try:
            recorded = payments.payment_record(
                invoice=invoice,
                amount=amount,
                on=on,
                source="manual",
                by=self.accountant,
                confirm_duplicate=confirm,
            )
        except BillingRefused as refusal:
            LedgerMachine.seen[f"refused {refusal.code}"] += 1
            assert Payment.objects.count() == count
            if refusal.code == "possible_duplicate":
                assert twin and not confirm, "a payment no one entered before was taken for a duplicate"
            else:
                assert refusal.code == "not_payable" and not payable, refusal
            return
        assert payable, "a draft or cancelled invoice was paid"
        assert not twin or confirm, "the same payment entered twice was not asked about"
        assert recorded.created and Payment.objects.count() == count + 1
        assert recorded.payment.applied == min(amount, owed), "a payment applied more than its invoice owed"
        assert recorded.credit == amount - min(amount, owed)
        self.manual[recorded.payment.pk] = (invoice.pk, amount, on)
        LedgerMachine.seen["manual" if recorded.credit == 0 else "manual overpayment"] += 1

    @precondition(lambda self: self.invoices)
    @rule(
        pick=picks,
        open_only=st.booleans(),
        mode=amount_modes,
        route=st.sampled_from(["1c first", "statement first", "statement now", "statement later"]),
    )
    def bank_transfer(self, pick, open_only, mode, route):
        """The customer pays by bank; every statement lists it. 1C reads the same bank: the
        1C pull may bring it in before the statement is imported (``1c first``), or after
        (``statement first``: the accountant loaded it into 1C later); the statement may be
        imported now or with the next transfers."""
        invoice = self._invoice(pick, open_only=open_only)
        if not invoice.number:
            return  # a customer pays what was issued to it
        amount = self._amount(invoice, mode)
        customer = invoice.counterparty
        self.documents += 1
        self.sent += amount
        self.unlisted.append(
            {
                "Номер": str(700 + self.documents),
                "Дата": self.today.strftime("%d.%m.%Y"),
                "Сумма": f"{amount:.2f}",
                "ПлательщикСчет": f.make_account(f.BIK, 990000 + customer.pk),
                "ПлательщикИНН": customer.inn,
                "Плательщик1": customer.name,
                "ПолучательСчет": self.org.account,
                "ДатаПоступило": self.today.strftime("%d.%m.%Y"),
                "НазначениеПлатежа": f"Оплата по счёту № {invoice.number} от {invoice.date:%d.%m.%Y}",
            }
        )
        if route == "1c first":
            self._post_in_1c(invoice, amount)
        elif route == "statement later" and invoice.accounting_base_id == self.base.pk:
            self.unposted.append((invoice.pk, amount))
        if route in ("statement first", "statement now"):
            self.import_statement()
        if route == "statement first":
            self._post_in_1c(invoice, amount)
            LedgerMachine.seen["1c late"] += 1

    def _post_in_1c(self, invoice, amount):
        """1C gets the bank's document of the transfer; the pull reads the open invoices'."""
        if invoice.accounting_base_id != self.base.pk or not invoice.is_open():
            return
        if not invoice.external_id:
            onec.push_attempt(invoice.pk, force=True)
            invoice.refresh_from_db()
        if invoice.external_id:
            self.fake.add_payment(
                {
                    "base": self.base_name,
                    "invoice": invoice.external_id,
                    "amount": str(amount),
                    "date": f"{self.today.isoformat()}T10:00:00",
                }
            )
            LedgerMachine.seen["1c pulled"] += payments.pull_payments(self.base.pk, force=True)

    @precondition(lambda self: self.posted_late)
    @rule(pick=picks)
    def post_in_1c_late(self, pick):
        """The accountant loads into 1C a transfer our statement import already recorded."""
        invoice_pk, amount = self.posted_late.pop(pick % len(self.posted_late))
        self._post_in_1c(Invoice.objects.get(pk=invoice_pk), amount)
        LedgerMachine.seen["1c late"] += 1

    @precondition(lambda self: self.unlisted)
    @rule()
    def import_statement(self):
        data = build(*self.unlisted, account=self.org.account)
        self.unlisted = []
        self.posted_late += self.unposted
        self.unposted = []
        result = payments.statement_import(file_name="statement.txt", data=data, by=self.accountant)
        LedgerMachine.seen.update(f"statement {row.state}" for row in result.payments)
        # Everything sent is now recorded once, or waits for the accountant.
        assert self._received() + self._waiting() == self.sent, "money from the bank counted twice or lost"

    @precondition(lambda self: StatementPayment.objects.filter(state__in=statements.WAITING).exists())
    @rule(pick=picks)
    def assign_waiting(self, pick):
        """The accountant assigns a waiting statement payment to an invoice of the payer."""
        row = StatementPayment.objects.filter(state__in=statements.WAITING).order_by("pk").first()
        customer = next(c for c in self.customers if c.inn == row.payer_inn)
        choices = list(Invoice.objects.filter(counterparty=customer).exclude(number="").order_by("pk"))
        if choices:
            with refused():
                payments.statement_payment_assign(
                    statement_payment=row, invoice=choices[pick % len(choices)], by=self.accountant
                )
                LedgerMachine.seen["statement assigned"] += 1

    @precondition(lambda self: self.invoices)
    @rule(pick=picks, open_only=st.booleans(), stranger=st.integers(0, 3))
    def apply_credit(self, pick, open_only, stranger):
        """The accountant pays an invoice from its customer's credit (now and then another
        customer's credit is tried on it)."""
        invoice = self._invoice(pick, open_only=open_only)
        customer = next(c for c in self.customers if (c.pk == invoice.counterparty_id) != (stranger == 0))
        credit = self._credit(customer)
        owed = max(invoice.total - invoice.paid_amount, ZERO)
        try:
            recorded = payments.credit_apply(counterparty=customer, invoice=invoice, by=self.accountant)
        except ValidationError:
            assert invoice.counterparty_id != customer.pk, "credit refused to its own counterparty's invoice"
            return
        except BillingRefused as refusal:
            assert refusal.code in ("not_payable", "no_credit"), refusal
            assert not invoice.is_open() or min(credit, owed) == 0, "credit that could pay was refused"
            return
        assert invoice.counterparty_id == customer.pk, "one customer's credit paid another's invoice"
        assert recorded.payment.amount == min(credit, owed), "credit applied beyond the credit or the debt"
        LedgerMachine.seen["credit applied"] += 1

    @precondition(lambda self: self.manual)
    @rule(pick=picks)
    def delete_payment(self, pick):
        pk = list(self.manual)[pick % len(self.manual)]
        payment = Payment.objects.get(pk=pk)
        try:
            services.payment_delete(payment=payment, by=self.accountant)
        except BillingRefused as refusal:
            LedgerMachine.seen[f"refused {refusal.code}"] += 1
            assert refusal.code == "credit_used", refusal
            assert self._credit(payment.invoice.counterparty) < payment.credit
            return
        del self.manual[pk]
        LedgerMachine.seen["deleted"] += 1

    # --- the invariants, from the rows ----------------------------------------------------------------
    def _received(self) -> Decimal:
        return sum(
            Payment.objects.filter(source__in=("1c", "bank_statement")).values_list("amount", flat=True), ZERO
        )

    def _waiting(self) -> Decimal:
        """Statement payments waiting for the accountant, less those whose money the 1C pull
        brought meanwhile (the same customer, amount and day, not yet claimed by a line)."""
        claimed = StatementPayment.objects.filter(payment__isnull=False).values("payment")
        unclaimed = Counter(
            Payment.objects.filter(source="1c")
            .exclude(pk__in=claimed)
            .values_list("invoice__counterparty__inn", "amount", "date")
        )
        waiting = Counter(
            StatementPayment.objects.filter(state__in=statements.WAITING, payment__isnull=True).values_list(
                "payer_inn", "amount", "date"
            )
        )
        return sum(((n - unclaimed[key]) * key[1] for key, n in waiting.items() if n > unclaimed[key]), ZERO)

    def _credit(self, customer) -> Decimal:
        """Money received beyond what its invoices took, less what was paid from it."""
        credit = ZERO
        for source, amount, applied in Payment.objects.filter(invoice__counterparty=customer).values_list(
            "source", "amount", "applied"
        ):
            credit += amount - applied if source in RECEIVED else -amount
        return credit

    @invariant()
    def the_ledger_balances(self):
        rows = list(Invoice.objects.values_list("pk", "counterparty_id", "status", "total", "paid_amount"))
        applied: dict[int, Decimal] = {}
        for invoice_id, amount, part, source in Payment.objects.values_list(
            "invoice_id", "amount", "applied", "source"
        ):
            assert ZERO <= part <= amount, "a payment applied more than it brought"
            assert source != "credit" or part == amount
            applied[invoice_id] = applied.get(invoice_id, ZERO) + part
        owed: dict[int, Decimal] = {c.pk: ZERO for c in self.customers}
        issued: dict[int, Decimal] = {c.pk: ZERO for c in self.customers}
        for pk, customer, status, total, paid in rows:
            part = applied.get(pk, ZERO)
            assert paid == part, f"invoice {pk}: paid {paid}, its payments applied {part}"
            assert paid <= total, f"invoice {pk}: paid {paid} beyond its total {total}"
            if status in (Invoice.Status.DRAFT, Invoice.Status.CANCELLED):
                assert paid == 0, f"invoice {pk} ({status}) has payments applied"
                continue
            expected = "issued" if paid == 0 else "paid" if paid == total else "partially_paid"
            assert status == expected, f"invoice {pk}: {status}, paid {paid} of {total}"
            issued[customer] += total
            owed[customer] += total - paid
        for customer in self.customers:
            credit = self._credit(customer)
            assert credit >= 0, f"{customer}: credit {credit}"
            ledger = sum(
                CreditEntry.objects.filter(counterparty=customer).values_list("amount", flat=True), ZERO
            )
            assert ledger == credit, "the credit ledger disagrees with the payments"
            cash = sum(
                Payment.objects.filter(invoice__counterparty=customer, source__in=RECEIVED).values_list(
                    "amount", flat=True
                ),
                ZERO,
            )
            # Every ruble received pays an invoice or is credit: issued − received = owed − credit.
            assert issued[customer.pk] - cash == owed[customer.pk] - credit
            counted = selectors.counterparty_debt(customer, self.today)
            assert (counted.total, counted.credit) == (owed[customer.pk], credit), "the selector disagrees"
        report = ReceivablesReport({"as_of": self.today}, self.accountant)
        totals = report.totals()
        dashboard = dashboard_receivables(timezone.now(), self.today)
        all_owed = sum(owed.values(), ZERO)
        assert totals["total"] == dashboard["unpaid"] == all_owed, (
            totals["total"],
            dashboard["unpaid"],
            all_owed,
        )
        assert totals["credit"] == dashboard["credit"] == sum(map(self._credit, self.customers), ZERO)
        by_customer = {
            row["counterparty_id"]: row["total"] for row in map(report.make_row, report.queryset())
        }
        assert by_customer == {pk: due for pk, due in owed.items() if due > 0}
        assert self._received() + self._waiting() <= self.sent, "money from the bank counted twice"


SETTINGS = {
    "max_examples": 25,
    "stateful_step_count": 20,
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
}


@pytest.fixture(scope="module")
def fake_1c():
    server = FakeOneC("127.0.0.1", 0, username=USER, password=PASSWORD)
    server.start()
    LedgerMachine.fake = server
    yield server
    server.stop()
    LedgerMachine.fake = None


@pytest.mark.django_db
def test_random_ledger_histories_keep_the_invariants(fake_1c):
    started = time.monotonic()
    LedgerMachine.seen.clear()
    run_state_machine_as_test(LedgerMachine, settings=settings(**SETTINGS))
    print(f"ledger state machine on {connection.vendor}: {time.monotonic() - started:.1f} s")
    print(sorted(LedgerMachine.seen.items()))
    # Every source and every turn of the ledger was taken.
    # The common paths were taken (the rest is printed above: which paths a seed takes moves
    # with the rules; the fault-injection test below is what proves the machine bites).
    for path in ("manual", "1c pulled", "statement matched", "credit overpayment"):
        assert LedgerMachine.seen[path], path
    assert any("overtime" in key for key in LedgerMachine.seen)


# --- the machine has teeth --------------------------------------------------------------------------
class _NoOverpaymentCredit:
    """``CreditEntry`` as billing.services sees it, with the overpayment entries lost."""

    Kind = CreditEntry.Kind

    class objects:  # noqa: N801 - a manager's name
        filter = staticmethod(CreditEntry.objects.filter)

        @staticmethod
        def create(**entry):
            if entry["kind"] == CreditEntry.Kind.OVERPAYMENT:
                return None
            return CreditEntry.objects.create(**entry)


def _no_paid_cap(monkeypatch):
    monkeypatch.setattr(services, "still_owed", lambda invoice: D("99999999.99"))


def _no_credit_from_overpayment(monkeypatch):
    monkeypatch.setattr(services, "CreditEntry", _NoOverpaymentCredit)


def _no_duplicate_check(monkeypatch):
    monkeypatch.setattr(services, "DUPLICATE_WINDOW", timedelta(0))


def _credit_beyond_the_balance(monkeypatch):
    real = services.credit_balance
    monkeypatch.setattr(services, "credit_balance", lambda customer: real(customer) + D("1000.00"))


def _no_twin_from_1c(monkeypatch):
    monkeypatch.setattr(statements, "_twin_from_1c", lambda **_kw: None)


def _no_statement_first_twin(monkeypatch):
    monkeypatch.setattr(statements, "brought_by_statements", lambda seen: set())


def _status_paid_on_any_payment(monkeypatch):
    real = services._status_for
    monkeypatch.setattr(
        services,
        "_status_for",
        lambda invoice: (
            Invoice.Status.PAID if real(invoice) == Invoice.Status.PARTIALLY_PAID else real(invoice)
        ),
    )


def _cancelled_invoices_counted(monkeypatch):
    monkeypatch.setattr(InvoiceQuerySet, "counted", lambda self: self.exclude(status=Invoice.Status.DRAFT))


# The broken rule → what the machine says (an assertion of the machine, not a crash).
FAULTS = [
    pytest.param(_no_paid_cap, "applied more than its invoice owed|beyond its total", id="paid-cap"),
    pytest.param(_no_credit_from_overpayment, "the credit ledger disagrees", id="overpayment-credit"),
    pytest.param(_no_duplicate_check, "entered twice was not asked about", id="duplicate-check"),
    pytest.param(_credit_beyond_the_balance, "credit -|credit applied beyond", id="credit-limit"),
    pytest.param(_no_twin_from_1c, "counted twice", id="statement-1c-twin"),
    pytest.param(_no_statement_first_twin, "counted twice", id="1c-statement-twin"),
    pytest.param(_status_paid_on_any_payment, r"partially_paid|: paid, paid", id="status"),
    pytest.param(_cancelled_invoices_counted, "the selector disagrees", id="cancelled-owes-nothing"),
]


def _invoice_step(customer, quantity, price):
    return (
        "invoice",
        {"customer": customer, "kind": "postpayment", "quantity": quantity, "price": price, "issue": True},
    )


# One fixed history through every path the faults above break, step by step with the
# invariants after each: which histories a seed draws moves with every change of the rules,
# this tour does not. Invoices by position: 0, 1, 2, 3 are customer A's (the 1C one), 4 B's.
TOUR = [
    _invoice_step(0, "1", "17500.00"),
    ("pay_by_hand", {"pick": 0, "open_only": False, "mode": "part", "days_back": 0, "confirm": False}),
    ("pay_by_hand_again", {"pick": 0, "confirm": False}),  # the duplicate check
    ("pay_by_hand", {"pick": 0, "open_only": False, "mode": "over", "days_back": 1, "confirm": False}),
    _invoice_step(0, "2.5", "3500.00"),
    ("apply_credit", {"pick": 1, "open_only": False, "stranger": 1}),  # 5 000 of credit on 8 750
    _invoice_step(0, "8", "3500.00"),
    ("bank_transfer", {"pick": 2, "open_only": False, "mode": "part", "route": "1c first"}),
    ("import_statement", {}),
    _invoice_step(0, "8", "1000.00"),
    ("bank_transfer", {"pick": 3, "open_only": False, "mode": "part", "route": "statement first"}),
    _invoice_step(1, "1", "1000.00"),
    ("cancel", {"pick": 4, "open_only": False}),
]


def _tour():
    machine = LedgerMachine()
    try:
        for name, arguments in TOUR:
            getattr(machine, name)(**arguments)
            machine.the_ledger_balances()
    finally:
        machine.teardown()


@pytest.mark.django_db
def test_the_tour_keeps_the_invariants(fake_1c):
    """The fixed history below the faults is itself sound: a fault test fails for its fault."""
    _tour()


@pytest.mark.django_db
@pytest.mark.parametrize(("fault", "says"), FAULTS)
def test_the_machine_fails_when_a_rule_is_broken(fake_1c, monkeypatch, fault, says):
    fault(monkeypatch)
    quick = settings(
        **(SETTINGS | {"max_examples": 60}), phases=[Phase.explicit, Phase.generate]
    )  # no shrinking: fail fast
    with pytest.raises(AssertionError, match=says):
        _tour()
        run_state_machine_as_test(LedgerMachine, settings=quick)
