"""Invoices with their lines, payments, the per-entity yearly numbering, and imported bank
statements.

Invariants the database keeps: an invoice's total is the sum of its lines and its lines
are frozen once it is issued (triggers, migration 0002, on SQLite and PostgreSQL); a number
is unique per legal entity and year; a payment is recorded once per source reference.
"""

import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from arenda.core.models import TimeStamped
from arenda.core.money import MAX_AMOUNT, MAX_PRICE, MAX_QUANTITY, PRICE_VALIDATORS
from arenda.directory.models import VatRate

MONEY = {"max_digits": 14, "decimal_places": 2}


class InvoiceQuerySet(models.QuerySet):
    def open(self):
        """Issued and not fully paid: what customers owe."""
        return self.filter(status__in=Invoice.OPEN_STATUSES)

    def counted(self):
        """Invoices that bill something (not drafts, not cancelled)."""
        return self.exclude(status__in=[Invoice.Status.DRAFT, Invoice.Status.CANCELLED])

    def overdue(self, on: date | None = None):
        """Open and past their due date (``Invoice.is_overdue``)."""
        return self.open().filter(due_date__lt=on or timezone.localdate())


class Invoice(TimeStamped):
    class Kind(models.TextChoices):
        PREPAYMENT = "prepayment", _("Prepayment")
        POSTPAYMENT = "postpayment", _("Post-payment")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", pgettext_lazy("invoice status", "Paid")
        CANCELLED = "cancelled", pgettext_lazy("invoice status", "Cancelled")

    class SyncStatus(models.TextChoices):
        NOT_NEEDED = "not_needed", _("Not needed")
        PENDING = "pending", _("Waiting for 1C")
        SYNCED = "synced", _("In 1C")
        FAILED = "failed", _("Failed")

    # Issued and not fully paid: what customers owe.
    OPEN_STATUSES = (Status.ISSUED, Status.PARTIALLY_PAID)

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("our legal entity"),
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    counterparty = models.ForeignKey(
        "directory.Counterparty",
        verbose_name=_("counterparty"),
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    deal = models.ForeignKey(
        "crm.Deal",
        verbose_name=_("deal"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
    )
    booking = models.ForeignKey(
        "bookings.Booking",
        verbose_name=_("booking"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
    )
    accounting_base = models.ForeignKey(
        "directory.AccountingBase",
        verbose_name=_("1C base"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
    )
    # Numbered when issued: unique per legal entity and year, never reused.
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    sequence = models.PositiveIntegerField(_("sequence"), null=True, blank=True)
    number = models.CharField(_("number"), max_length=30, blank=True)
    date = models.DateField(_("date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    vat_rate = models.CharField(_("VAT rate"), max_length=4, choices=VatRate.choices, default=VatRate.VAT22)
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0.00"))
    vat_amount = models.DecimalField(_("VAT"), **MONEY, default=Decimal("0.00"))
    paid_amount = models.DecimalField(_("paid"), **MONEY, default=Decimal("0.00"))
    # Hours this invoice bills for its booking (the overtime rule counts them).
    billed_hours = models.DecimalField(_("billed hours"), max_digits=9, decimal_places=2, default=0)
    # The day it became fully paid (by payment dates), kept by ``invoice_recompute``: an
    # invoice is owed on day D when date <= D < settled_on (the receivables report).
    settled_on = models.DateField(_("settled on"), null=True, blank=True, editable=False)
    # The date of its latest payment, kept by ``invoice_recompute`` too: on any day from it
    # on, what was paid by then is ``paid_amount``, so the receivables report sums the
    # payments only of the invoices paid again after the day it asks about.
    last_paid_on = models.DateField(_("last paid on"), null=True, blank=True, editable=False)
    billed_km = models.DecimalField(_("billed km"), max_digits=10, decimal_places=2, default=0)
    # Made by the overtime rule from the waybills (``billing.overtime``).
    is_overtime = models.BooleanField(_("overtime"), default=False)
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects invoice"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
    )
    purpose = models.CharField(_("payment purpose"), max_length=210, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    # The 1C side.
    sync_status = models.CharField(
        _("1C sync"), max_length=12, choices=SyncStatus.choices, default=SyncStatus.NOT_NEEDED
    )
    sync_error = models.TextField(_("last 1C error"), blank=True)
    sync_attempts = models.PositiveIntegerField(_("1C attempts"), default=0)
    sync_next_attempt_at = models.DateTimeField(_("next 1C attempt"), null=True, blank=True)
    synced_at = models.DateTimeField(_("synced"), null=True, blank=True)
    external_id = models.CharField(_("1C Ref_Key"), max_length=36, blank=True)
    external_number = models.CharField(_("1C number"), max_length=30, blank=True)

    objects = InvoiceQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-date", "-sequence", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["prepayment", "postpayment"]), name="invoice_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "issued", "partially_paid", "paid", "cancelled"]),
                name="invoice_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(sync_status__in=["not_needed", "pending", "synced", "failed"]),
                name="invoice_sync_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(total__gte=0, vat_amount__gte=0, paid_amount__gte=0, billed_hours__gte=0),
                name="invoice_amounts_non_negative",
            ),
            models.CheckConstraint(condition=Q(billed_km__gte=0), name="invoice_billed_km_non_negative"),
            models.CheckConstraint(
                condition=Q(total__lte=MAX_AMOUNT, paid_amount__lte=MAX_AMOUNT),
                name="invoice_amounts_bounded",
            ),
            models.CheckConstraint(condition=Q(vat_amount__lte=F("total")), name="invoice_vat_within_total"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(number__gt="", date__isnull=False, year__isnull=False),
                name="invoice_issued_has_number",
            ),
            models.UniqueConstraint(
                fields=["organization", "year", "sequence"],
                condition=Q(sequence__isnull=False),
                name="invoice_number_unique_per_entity_year",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="invoice_status_due_idx"),
            models.Index(fields=["counterparty", "status"], name="invoice_cp_status_idx"),
            models.Index(fields=["sync_status", "sync_next_attempt_at"], name="invoice_sync_idx"),
            # the list's order (read backwards: the newest first, undated drafts on top), and its
            # status and legal-entity filters in that order (docs/large-lists.md)
            models.Index(fields=["date", "sequence", "id"], name="invoice_date_idx"),
            models.Index(fields=["status", "date", "sequence", "id"], name="invoice_status_date_idx"),
            models.Index(fields=["organization", "date", "sequence", "id"], name="invoice_org_date_idx"),
            # «№ 12» in the header's search: the number typed exactly, in any case
            models.Index(Upper("number"), name="invoice_number_upper_idx"),
            models.Index(Upper("external_number"), name="invoice_ext_number_upper_idx"),
        ]

    def __str__(self):
        if self.number:
            return _("Invoice № %(number)s") % {"number": self.number}
        return _("Draft invoice #%(id)s") % {"id": self.pk}

    def get_absolute_url(self):
        return reverse("billing:invoice_detail", args=[self.pk])

    @property
    def debt(self) -> Decimal:
        return max(self.total - self.paid_amount, Decimal("0.00"))

    def clean(self):
        """An invoice's links agree: its booking is of its deal, and its counterparty is the
        deal's (a booking's customer is its deal's)."""
        errors = {}
        if self.booking_id and self.deal_id and self.booking.deal_id != self.deal_id:
            errors["booking"] = ValidationError(_("The booking belongs to another deal."), code="other_deal")
        deal = self.deal if self.deal_id else (self.booking.deal if self.booking_id else None)
        if (
            not errors
            and deal is not None
            and self.counterparty_id
            and deal.counterparty_id != self.counterparty_id
        ):
            errors["counterparty"] = ValidationError(
                _("The invoice's counterparty must be its deal's: %(name)s."),
                code="other_counterparty",
                params={"name": deal.counterparty},
            )
        if errors:
            raise ValidationError(errors)

    def is_open(self) -> bool:
        """Issued and not fully paid: the customer owes it (``InvoiceQuerySet.open``)."""
        return self.status in self.OPEN_STATUSES

    def is_overdue(self, on=None) -> bool:
        """Open, and its due date has passed (today, or ``on``)."""
        return self.is_open() and self.due_date is not None and self.due_date < (on or timezone.localdate())


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveSmallIntegerField(pgettext_lazy("line order", "position"), default=1)
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(MAX_QUANTITY)],
    )
    unit = models.CharField(pgettext_lazy("unit of measure", "unit"), max_length=20, default="ч")
    price = models.DecimalField(_("price"), **MONEY, validators=PRICE_VALIDATORS)
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0, price__gte=0, amount__gte=0), name="invoice_line_positive"
            ),
            models.CheckConstraint(
                condition=Q(quantity__lte=MAX_QUANTITY, price__lte=MAX_PRICE, amount__lte=MAX_AMOUNT),
                name="invoice_line_bounded",
            ),
        ]

    def __str__(self):
        return self.description


class InvoiceCounter(models.Model):
    """The last number given per legal entity and year. Issuing locks this row, so two
    invoices issued at the same moment get consecutive numbers, and a number is never
    given twice (a cancelled invoice keeps its number)."""

    organization = models.ForeignKey("directory.Organization", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="invoice_counter_unique")
        ]

    def __str__(self):
        return f"{self.organization_id}/{self.year}: {self.last}"


class Payment(TimeStamped):
    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by hand")
        ONEC = "1c", _("From 1C")
        BANK_STATEMENT = "bank_statement", _("Bank statement")
        CREDIT = "credit", _("From the customer's credit")

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="payments"
    )
    # What was received (as the bank, 1C or the accountant says) …
    amount = models.DecimalField(
        _("amount"), **MONEY, validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_AMOUNT)]
    )
    # … and what of it pays this invoice: at most what it owed. The rest is the
    # counterparty's credit (a CreditEntry of this payment).
    applied = models.DecimalField(_("applied to the invoice"), **MONEY, default=Decimal("0.00"))
    date = models.DateField(_("date"))
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.MANUAL)
    # What the source calls it: 1C's document Ref_Key + line, the statement's document key.
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    payer = models.CharField(_("payer"), max_length=300, blank=True)
    purpose = models.TextField(_("payment purpose"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(amount__lte=MAX_AMOUNT), name="payment_amount_bounded"),
            models.CheckConstraint(
                condition=Q(applied__gte=0, applied__lte=F("amount")), name="payment_applied_within_amount"
            ),
            models.CheckConstraint(
                condition=Q(source__in=["manual", "1c", "bank_statement", "credit"]),
                name="payment_source_valid",
            ),
            # A payment seen twice (1C sync, a re-imported statement) is recorded once.
            models.UniqueConstraint(
                fields=["source", "reference"], condition=~Q(reference=""), name="payment_reference_unique"
            ),
        ]

    def __str__(self):
        return f"{self.amount} · {self.date}"

    @property
    def credit(self) -> Decimal:
        """What it brought beyond its invoice's debt: the counterparty's credit."""
        return self.amount - self.applied


class CreditEntry(TimeStamped):
    """The counterparty's credit (переплата, аванс): money received beyond what its invoice
    owed (+), and its use to pay another invoice of the same counterparty (−). The balance
    is the sum of the entries and never goes below zero (``billing.services``)."""

    class Kind(models.TextChoices):
        OVERPAYMENT = "overpayment", _("Overpayment")
        APPLIED = "applied", _("Applied to an invoice")

    counterparty = models.ForeignKey(
        "directory.Counterparty",
        verbose_name=_("counterparty"),
        on_delete=models.PROTECT,
        related_name="credit_entries",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    # The payment that brought the money in (an overpayment) or that used it (applied).
    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), on_delete=models.PROTECT, related_name="credit_entries"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("credit entry")
        verbose_name_plural = _("credit entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="overpayment", amount__gt=0) | Q(kind="applied", amount__lt=0),
                name="credit_entry_sign_by_kind",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=-MAX_AMOUNT, amount__lte=MAX_AMOUNT), name="credit_entry_bounded"
            ),
        ]

    def __str__(self):
        return f"{self.counterparty_id}: {self.amount}"


class BankStatement(TimeStamped):
    """An imported 1CClientBankExchange file."""

    file_name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(max_length=64, editable=False)
    account = models.CharField(_("account"), max_length=20, blank=True)
    period_start = models.DateField(_("from"), null=True, blank=True)
    period_end = models.DateField(_("to"), null=True, blank=True)
    documents = models.PositiveIntegerField(_("documents"), default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-created_at"]

    def __str__(self):
        return self.file_name


class StatementPayment(TimeStamped):
    """An incoming payment read from a statement. Matched ones become Payments; ambiguous
    and unmatched ones wait for the accountant."""

    class State(models.TextChoices):
        MATCHED = "matched", _("Matched")
        AMBIGUOUS = "ambiguous", _("Several invoices fit")
        UNMATCHED = "unmatched", _("No invoice found")
        ASSIGNED = "assigned", _("Assigned by hand")
        IGNORED = "ignored", _("Not ours")

    statement = models.ForeignKey(BankStatement, on_delete=models.CASCADE, related_name="payments")
    key = models.CharField(
        max_length=200, unique=True, help_text="number|date|amount|payer INN|payer account"
    )
    number = models.CharField(_("number"), max_length=30, blank=True)
    date = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), **MONEY)
    payer_name = models.CharField(_("payer"), max_length=300, blank=True)
    payer_inn = models.CharField(_("payer INN"), max_length=12, blank=True)
    payer_account = models.CharField(_("payer account"), max_length=20, blank=True)
    purpose = models.TextField(_("payment purpose"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    candidates = models.ManyToManyField(Invoice, blank=True, related_name="+")
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("statement payment")
        verbose_name_plural = _("statement payments")
        ordering = ["-date", "-id"]

    def __str__(self):
        return f"{self.number} · {self.amount}"


# --- the exchange with 1C (``billing/onec.py``) ---------------------------------------------------
class BaseSync(models.Model):
    """One 1C base: when its payments were last read, and whether it refused our login
    (then nothing is sent to it by itself until the base is edited or someone asks)."""

    base = models.OneToOneField(
        "directory.AccountingBase", primary_key=True, on_delete=models.CASCADE, related_name="onec_sync"
    )
    pulled_at = models.DateTimeField(_("payments last read"), null=True, blank=True)
    pull_error = models.TextField(_("last error reading payments"), blank=True)
    refused_at = models.DateTimeField(_("login refused"), null=True, blank=True)
    refusal = models.TextField(_("refusal"), blank=True)

    class Meta:
        # The tables keep the names they were made with (the exchange state lived in the
        # 1C adapter before it became billing's).
        db_table = "onec_basesync"
        verbose_name = _("1C base exchange")
        verbose_name_plural = _("1C base exchanges")

    def __str__(self):
        return str(self.base_id)


class PushClaim(models.Model):
    """An invoice being pushed to 1C right now. A second push of the same invoice must not
    start meanwhile: both would find no document in 1C and both would create one."""

    invoice = models.OneToOneField(Invoice, primary_key=True, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=32)
    claimed_at = models.DateTimeField()

    class Meta:
        db_table = "onec_pushclaim"

    def __str__(self):
        return f"{self.invoice_id} @ {self.claimed_at:%H:%M:%S}"


# --- closing documents (``billing/acts.py``, docs/closing-documents.md) ---------------------------
def act_scan_path(instance, filename):
    """Signed scans are stored under a random name (the served name is the act's)."""
    return f"acts/{instance.pk or 'new'}/{uuid.uuid4().hex}"


class Act(TimeStamped):
    """A closing document: «Акт оказанных услуг» or a УПД, numbered per legal entity and
    year when issued. A correction (``corrects``) names the act it corrects and carries the
    difference; its lines keep the figures before and after."""

    class Form(models.TextChoices):
        ACT = "act", _("Act")
        UPD = "upd", _("UPD")

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("act status", "Draft")
        ISSUED = "issued", pgettext_lazy("act status", "Issued")
        SENT = "sent", pgettext_lazy("act status", "Sent")
        SIGNED = "signed", pgettext_lazy("act status", "Signed by the customer")
        CANCELLED = "cancelled", pgettext_lazy("act status", "Cancelled")

    class SignedVia(models.TextChoices):
        ACCOUNTANT = "accountant", _("Marked by the accountant")
        LINK = "link", _("Accepted through the link")

    SyncStatus = Invoice.SyncStatus
    # Issued and not cancelled: a document that counts (the reconciliation's debit).
    COUNTED_STATUSES = (Status.ISSUED, Status.SENT, Status.SIGNED)

    form = models.CharField(_("form"), max_length=4, choices=Form.choices, default=Form.ACT)
    # A УПД's status: 1 (also the invoice-facture, with VAT), 2 (a primary document only).
    upd_status = models.PositiveSmallIntegerField(_("UPD status"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("our legal entity"),
        on_delete=models.PROTECT,
        related_name="acts",
    )
    counterparty = models.ForeignKey(
        "directory.Counterparty",
        verbose_name=_("counterparty"),
        on_delete=models.PROTECT,
        related_name="acts",
    )
    deal = models.ForeignKey(
        "crm.Deal",
        verbose_name=_("deal"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="acts",
        help_text=_("Set when every booking it closes is of one deal."),
    )
    accounting_base = models.ForeignKey(
        "directory.AccountingBase",
        verbose_name=_("1C base"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="acts",
    )
    invoices = models.ManyToManyField(Invoice, verbose_name=_("invoices"), blank=True, related_name="acts")
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects act"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    basis = models.CharField(_("basis"), max_length=300, blank=True)
    # Numbered when issued: unique per legal entity and year, never reused.
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    sequence = models.PositiveIntegerField(_("sequence"), null=True, blank=True)
    number = models.CharField(_("number"), max_length=30, blank=True)
    date = models.DateField(_("date"), null=True, blank=True)
    vat_rate = models.CharField(_("VAT rate"), max_length=4, choices=VatRate.choices, default=VatRate.VAT22)
    # A correction's total and VAT are the difference it makes (may be negative).
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0.00"))
    vat_amount = models.DecimalField(_("VAT"), **MONEY, default=Decimal("0.00"))
    notes = models.TextField(_("notes"), blank=True)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    sent_to = models.CharField(_("sent to"), max_length=254, blank=True)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    signed_by_name = models.CharField(_("signed by"), max_length=200, blank=True)
    signed_via = models.CharField(_("signed via"), max_length=10, choices=SignedVia.choices, blank=True)
    signed_scan = models.FileField(_("signed scan"), upload_to=act_scan_path, blank=True, max_length=200)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    # The customer's link (like the proposal's): reads the act and accepts it.
    accept_token = models.CharField(_("link token"), max_length=64, unique=True, null=True, blank=True)
    # The 1C side: ``Document_РеализацияТоваровУслуг`` (and ``Document_СчетФактураВыданный``).
    sync_status = models.CharField(
        _("1C sync"), max_length=12, choices=Invoice.SyncStatus.choices, default=Invoice.SyncStatus.NOT_NEEDED
    )
    sync_error = models.TextField(_("last 1C error"), blank=True)
    sync_attempts = models.PositiveIntegerField(_("1C attempts"), default=0)
    sync_next_attempt_at = models.DateTimeField(_("next 1C attempt"), null=True, blank=True)
    synced_at = models.DateTimeField(_("synced"), null=True, blank=True)
    external_id = models.CharField(_("1C Ref_Key"), max_length=36, blank=True)
    external_number = models.CharField(_("1C number"), max_length=30, blank=True)
    facture_external_id = models.CharField(_("1C invoice-facture Ref_Key"), max_length=36, blank=True)
    facture_external_number = models.CharField(_("1C invoice-facture number"), max_length=30, blank=True)

    history = HistoricalRecords(excluded_fields=["accept_token"])

    class Meta:
        verbose_name = _("closing document")
        verbose_name_plural = _("closing documents")
        ordering = ["-date", "-sequence", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(form__in=["act", "upd"]), name="act_form_valid"),
            models.CheckConstraint(
                condition=Q(form="act", upd_status__isnull=True) | Q(form="upd", upd_status__in=[1, 2]),
                name="act_upd_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "issued", "sent", "signed", "cancelled"]),
                name="act_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(sync_status__in=["not_needed", "pending", "synced", "failed"]),
                name="act_sync_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=False) | Q(total__gte=0, vat_amount__gte=0),
                name="act_amounts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(total__gte=-MAX_AMOUNT, total__lte=MAX_AMOUNT), name="act_total_bounded"
            ),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="act_period_ordered"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(number__gt="", date__isnull=False, year__isnull=False),
                name="act_issued_has_number",
            ),
            models.UniqueConstraint(
                fields=["organization", "year", "sequence"],
                condition=Q(sequence__isnull=False),
                name="act_number_unique_per_entity_year",
            ),
        ]
        indexes = [
            models.Index(fields=["counterparty", "status"], name="act_cp_status_idx"),
            models.Index(fields=["sync_status", "sync_next_attempt_at"], name="act_sync_idx"),
            models.Index(fields=["organization", "counterparty", "date"], name="act_org_cp_date_idx"),
        ]

    def __str__(self):
        label = self.get_form_display()
        if self.number:
            return _("%(form)s № %(number)s") % {"form": label, "number": self.number}
        return _("Draft %(form)s #%(id)s") % {"form": label, "id": self.pk}

    def get_absolute_url(self):
        return reverse("billing:act_detail", args=[self.pk])

    @property
    def is_correction(self) -> bool:
        return self.corrects_id is not None

    def is_counted(self) -> bool:
        return self.status in self.COUNTED_STATUSES


class ActLine(models.Model):
    """A line of a closing document: a booking's hours or km. A correction's line also keeps
    what the corrected act said (``*_before``)."""

    act = models.ForeignKey(
        Act, verbose_name=_("closing document"), on_delete=models.CASCADE, related_name="lines"
    )
    booking = models.ForeignKey(
        "bookings.Booking",
        verbose_name=_("booking"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="act_lines",
    )
    position = models.PositiveSmallIntegerField(pgettext_lazy("line order", "position"), default=1)
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, validators=[MaxValueValidator(MAX_QUANTITY)]
    )
    unit = models.CharField(pgettext_lazy("unit of measure", "unit"), max_length=20, default="ч")
    price = models.DecimalField(_("price"), **MONEY, validators=PRICE_VALIDATORS)
    amount = models.DecimalField(_("amount"), **MONEY)
    vat_amount = models.DecimalField(_("VAT"), **MONEY, default=Decimal("0.00"))
    quantity_before = models.DecimalField(
        _("quantity before"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    price_before = models.DecimalField(_("price before"), **MONEY, null=True, blank=True)
    amount_before = models.DecimalField(_("amount before"), **MONEY, null=True, blank=True)

    class Meta:
        verbose_name = _("closing document line")
        verbose_name_plural = _("closing document lines")
        ordering = ["act", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=0, price__gte=0, amount__gte=0), name="act_line_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(quantity__lte=MAX_QUANTITY, price__lte=MAX_PRICE, amount__lte=MAX_AMOUNT),
                name="act_line_bounded",
            ),
        ]

    def __str__(self):
        return self.description


class ActBooking(models.Model):
    """A booking a closing document closes. While the document is not cancelled the link is
    ``active``, and a booking has at most one active link: never in two acts. A correction
    links its bookings inactive (it corrects; it does not close them again)."""

    act = models.ForeignKey(Act, on_delete=models.CASCADE, related_name="booking_links")
    booking = models.ForeignKey("bookings.Booking", on_delete=models.PROTECT, related_name="act_links")
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("booking of a closing document")
        verbose_name_plural = _("bookings of closing documents")
        constraints = [
            models.UniqueConstraint(fields=["act", "booking"], name="act_booking_unique"),
            models.UniqueConstraint(
                fields=["booking"], condition=Q(active=True), name="act_booking_one_active_per_booking"
            ),
        ]

    def __str__(self):
        return f"{self.act_id} → {self.booking_id}"


class ActCounter(models.Model):
    """The last closing-document number given per legal entity and year (locked when issuing,
    as ``InvoiceCounter``)."""

    organization = models.ForeignKey("directory.Organization", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "year"], name="act_counter_unique")]

    def __str__(self):
        return f"{self.organization_id}/{self.year}: {self.last}"


class ActPushClaim(models.Model):
    """A closing document being pushed to 1C right now (as ``PushClaim`` for invoices)."""

    act = models.OneToOneField(Act, primary_key=True, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=32)
    claimed_at = models.DateTimeField()

    class Meta:
        db_table = "onec_actpushclaim"

    def __str__(self):
        return f"{self.act_id} @ {self.claimed_at:%H:%M:%S}"
