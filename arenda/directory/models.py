"""Reference data: our legal entities, 1C bases, counterparties and contacts, suppliers,
equipment types, units with maintenance windows, drivers."""

import contextlib
import re
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from arenda.core.crypto import EncryptedTextField
from arenda.core.files import EXTENSIONS
from arenda.core.models import TimeStamped
from arenda.core.money import MAX_PRICE, PRICE_VALIDATORS
from arenda.core.validators import (
    check_accounts,
    check_period,
    inn_is_valid,
    normalize_phone,
    normalize_plate,
    validate_account_number,
    validate_bik,
    validate_inn,
    validate_inn_for_kind,
    validate_kpp,
    validate_ogrn,
    validate_phone,
    validate_plate,
)
from arenda.integrations.outbound import OutboundRefused, check_url

MONEY = {"max_digits": 14, "decimal_places": 2}
NON_NEGATIVE = [MinValueValidator(0)]


class VatRate(models.TextChoices):
    VAT22 = "22", "22 %"
    VAT20 = "20", "20 %"
    VAT10 = "10", "10 %"
    VAT7 = "7", "7 %"
    VAT5 = "5", "5 %"
    VAT0 = "0", "0 %"
    NONE = "none", _("No VAT")


def _normalise_phone_field(instance, field: str) -> None:
    """Store phones in E.164. A value that is not a phone is left as typed: the field's
    own validator has already reported it, and reporting it twice helps nobody."""
    value = getattr(instance, field)
    if not value:
        return
    with contextlib.suppress(ValidationError):
        setattr(instance, field, normalize_phone(value))


class BankRequisites(models.Model):
    """Bank block shared by our legal entities and counterparties."""

    bank_name = models.CharField(_("bank"), max_length=200, blank=True)
    bik = models.CharField(_("BIK"), max_length=9, blank=True, validators=[validate_bik])
    corr_account = models.CharField(
        _("correspondent account"), max_length=20, blank=True, validators=[validate_account_number]
    )
    account = models.CharField(
        _("settlement account"), max_length=20, blank=True, validators=[validate_account_number]
    )

    class Meta:
        abstract = True

    def bank_errors(self) -> dict:
        errors = dict(check_accounts(bik=self.bik, account=self.account, corr_account=self.corr_account))
        if (self.account or self.corr_account) and not self.bik:
            errors["bik"] = ValidationError(_("Give the bank's BIK for the account."), code="required")
        return errors


class OrganizationQuerySet(models.QuerySet):
    def default(self):
        """The legal entity that sells when a deal names none: the first active one (or None)."""
        return self.filter(is_active=True).order_by("pk").first()


class Organization(TimeStamped, BankRequisites):
    """One of our own legal entities — the supplier on invoices."""

    name = models.CharField(_("short name"), max_length=200)
    full_name = models.CharField(pgettext_lazy("organisation", "full name"), max_length=500, blank=True)
    inn = models.CharField(_("INN"), max_length=12, validators=[validate_inn])
    kpp = models.CharField(_("KPP"), max_length=9, blank=True, validators=[validate_kpp])
    ogrn = models.CharField(_("OGRN"), max_length=15, blank=True, validators=[validate_ogrn])
    address = models.CharField(_("legal address"), max_length=500, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    email = models.EmailField(_("e-mail"), blank=True)
    director = models.CharField(_("director"), max_length=200, blank=True)
    accountant = models.CharField(_("chief accountant"), max_length=200, blank=True)
    vat_rate = models.CharField(_("VAT rate"), max_length=4, choices=VatRate.choices, default=VatRate.VAT22)
    default_accounting_base = models.ForeignKey(
        "AccountingBase",
        verbose_name=_("default 1C base"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Invoices of counterparties without their own 1C base go here."),
    )
    closing_form = models.CharField(
        _("closing document"),
        max_length=4,
        choices=[
            ("auto", _("By VAT: a UPD (status 1) for a VAT payer, an act otherwise")),
            ("act", _("An act of services rendered")),
            ("upd", _("A UPD (status 1 with VAT, 2 without)")),
        ],
        default="auto",
        help_text=_("What closes a job: the document the customer signs (docs/closing-documents.md)."),
    )
    is_active = models.BooleanField(pgettext_lazy("in use", "active"), default=True)

    objects = OrganizationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("legal entity")
        verbose_name_plural = _("our legal entities")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["inn", "kpp"], name="organization_inn_kpp_unique"),
            models.CheckConstraint(
                condition=Q(vat_rate__in=[v.value for v in VatRate]), name="organization_vat_valid"
            ),
            models.CheckConstraint(
                condition=Q(closing_form__in=["auto", "act", "upd"]), name="organization_closing_form_valid"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("directory:organization_detail", args=[self.pk])

    def clean(self, *, check_taken: bool = True):
        """``check_taken=False``: skip the look-up of another counterparty with this ИНН+КПП
        (a bulk import that has read them all already: directory/importing.py)."""
        errors = self.bank_errors()
        _normalise_phone_field(self, "phone")
        if self.inn and len(self.inn) == 10 and not self.kpp:
            errors["kpp"] = ValidationError(_("An organisation needs a KPP."), code="required")
        if (
            self.default_accounting_base_id
            and self.pk
            and self.default_accounting_base.organization_id != self.pk
        ):
            errors["default_accounting_base"] = ValidationError(
                _("The default 1C base must belong to this legal entity."), code="foreign"
            )
        if errors:
            raise ValidationError(errors)


class AccountingBase(TimeStamped):
    """A 1C infobase that invoices are pushed to and payments read from."""

    class Kind(models.TextChoices):
        ODATA = "odata", _("1C OData")
        MANUAL = "manual", _("Manual (no connection)")

    name = models.CharField(_("name"), max_length=200, unique=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("legal entity"),
        on_delete=models.PROTECT,
        related_name="accounting_bases",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.ODATA)
    odata_url = models.URLField(
        _("OData URL"), max_length=500, blank=True, help_text=_("http(s)://host/base/odata/standard.odata/")
    )
    username = models.CharField(_("1C user"), max_length=150, blank=True)
    password = EncryptedTextField(_("1C password"), blank=True)
    is_active = models.BooleanField(pgettext_lazy("in use", "active"), default=True)
    wants_invoice_facture = models.BooleanField(
        _("also make the issued invoice-facture"),
        default=False,
        help_text=_("With VAT, each closing document also makes a «Счёт-фактура выданный» in this base."),
    )

    history = HistoricalRecords(excluded_fields=["password"])

    class Meta:
        verbose_name = _("1C base")
        verbose_name_plural = _("1C bases")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["odata", "manual"]), name="accounting_base_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind="manual") | ~Q(odata_url=""), name="accounting_base_odata_needs_url"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("directory:accounting_base_detail", args=[self.pk])

    # --- the password stays with its address (docs/security.md, «Outbound calls and 1C
    # credentials») ---------------------------------------------------------------------------
    # A base read from the database remembers where its password was meant to go; assigning
    # a password (a non-empty one) marks it as given again for the new address.
    CREDENTIAL_FIELDS = ("odata_url", "username")

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._remember_credentials()
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._remember_credentials()

    def _remember_credentials(self):
        stored = {
            name: self.__dict__[name]
            for name in (*self.CREDENTIAL_FIELDS, "password")
            if name in self.__dict__
        }
        self.__dict__["_stored_credentials"] = stored
        self.__dict__["_password_given"] = False

    def __setattr__(self, name, value):
        # Validation writes every field back as it is (``clean_fields``): the same object is
        # not a password given.
        if (
            name == "password"
            and "_stored_credentials" in self.__dict__
            and value is not self.__dict__.get(name)
        ):
            self.__dict__["_password_given"] = bool(value)
        super().__setattr__(name, value)

    def credentials_moved(self) -> bool:
        """The stored base's address or 1C user is being changed."""
        stored = self.__dict__.get("_stored_credentials")
        if self.pk is None or not stored:
            return False
        return any(name in stored and getattr(self, name) != stored[name] for name in self.CREDENTIAL_FIELDS)

    def password_given(self) -> bool:
        """A (non-empty) password was set since the base was read."""
        return self.__dict__.get("_password_given", False)

    def clean(self):
        errors = {}
        if self.kind == self.Kind.ODATA and not self.odata_url:
            errors["odata_url"] = ValidationError(_("An OData base needs its OData URL."), code="required")
        elif self.odata_url:
            try:
                check_url(self.odata_url)
            except OutboundRefused as exc:
                errors["odata_url"] = ValidationError(exc.message, code="forbidden_address")
        stored_password = self.__dict__.get("_stored_credentials", {}).get("password")
        if self.odata_url and stored_password and self.credentials_moved() and not self.password_given():
            errors["password"] = ValidationError(
                _(
                    "The OData URL or the 1C user changes: enter the password for it again. "
                    "The stored password is never sent to another address."
                ),
                code="password_required",
            )
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if self.credentials_moved() and not self.password_given():
            # Whatever path skipped clean(), the old password does not follow a new address.
            self.password = ""
        super().save(*args, **kwargs)
        self._remember_credentials()


class Counterparty(TimeStamped, BankRequisites):
    """A customer: organisation, sole trader or person."""

    class Kind(models.TextChoices):
        LEGAL = "legal", _("Organisation")
        SOLE_TRADER = "sole_trader", _("Sole trader")
        PERSON = "person", _("Person")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.LEGAL)
    name = models.CharField(_("name"), max_length=200)
    full_name = models.CharField(pgettext_lazy("organisation", "full name"), max_length=500, blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True, validators=[validate_inn])
    kpp = models.CharField(_("KPP"), max_length=9, blank=True, validators=[validate_kpp])
    ogrn = models.CharField(_("OGRN / OGRNIP"), max_length=15, blank=True, validators=[validate_ogrn])
    address = models.CharField(_("address"), max_length=500, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    email = models.EmailField(_("e-mail"), blank=True)
    accounting_base = models.ForeignKey(
        AccountingBase,
        verbose_name=_("1C base"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="counterparties",
        help_text=_("Set by the accountant: the 1C base this customer's invoices go to."),
    )
    prepayment_required = models.BooleanField(_("prepayment required"), default=True)
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms, days"),
        default=5,
        validators=[MaxValueValidator(365)],
        help_text=_("Days from the invoice date to its due date."),
    )

    class ActsPeriod(models.TextChoices):
        BOOKING = "booking", _("After each booking")
        MONTH = "month", _("Once a month, for the month's bookings")

    acts_period = models.CharField(
        _("closing documents"),
        max_length=8,
        choices=ActsPeriod.choices,
        default=ActsPeriod.BOOKING,
        help_text=_("When Arenda makes the act (or UPD) for this customer's completed bookings."),
    )
    reconciliation_quarterly = models.BooleanField(
        _("send the reconciliation statement every quarter"),
        default=False,
        help_text=_("After each quarter the statement goes to the customer's e-mail."),
    )
    notes = models.TextField(_("notes"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("counterparty")
        verbose_name_plural = _("counterparties")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["inn", "kpp"], condition=~Q(inn=""), name="counterparty_inn_kpp_unique"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["legal", "sole_trader", "person"]), name="counterparty_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(acts_period__in=["booking", "month"]), name="counterparty_acts_period_valid"
            ),
            models.CheckConstraint(
                condition=Q(payment_terms_days__gte=0, payment_terms_days__lte=365),
                name="counterparty_payment_terms_range",
            ),
        ]
        indexes = [
            models.Index(fields=["inn"], name="counterparty_inn_idx"),
            # the list's order, and its kind filter in that order (docs/large-lists.md)
            models.Index(fields=["name", "id"], name="counterparty_name_idx"),
            models.Index(fields=["kind", "name", "id"], name="counterparty_kind_name_idx"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("directory:counterparty_detail", args=[self.pk])

    def duplicate(self):
        """The existing counterparty with the same INN+KPP, if any."""
        if not self.inn:
            return None
        return Counterparty.objects.filter(inn=self.inn, kpp=self.kpp).exclude(pk=self.pk).first()

    # Legal forms a name starts with, by what they make the counterparty.
    LEGAL_FORMS = ("ООО", "АО", "ПАО", "ЗАО", "ОАО", "НАО", "АНО", "НКО", "ГУП", "МУП", "ФГУП", "ТОО")

    @classmethod
    def kind_for(cls, *, name: str = "", inn: str = "") -> str:
        """What a name and an INN say a counterparty is: an ИНН of 10 digits or a name that
        starts with a legal form (ООО, АО …) → an organisation; 12 digits or «ИП …» → a sole
        trader; otherwise a person."""
        upper = (name or "").strip().upper()
        first = upper.replace("«", " ").replace('"', " ").split(" ", 1)[0]
        if len(inn) == 10 or first in cls.LEGAL_FORMS:
            return cls.Kind.LEGAL
        if len(inn) == 12 or first == "ИП" or upper.startswith("ИНДИВИДУАЛЬНЫЙ ПРЕДПРИНИМАТЕЛЬ"):
            return cls.Kind.SOLE_TRADER
        return cls.Kind.PERSON

    def missing_requisites(self) -> list[str]:
        """The fields an invoice to it needs and it lacks: an organisation's ИНН and КПП, a
        sole trader's ИНН (1C and the bank match by them)."""
        needed = {self.Kind.LEGAL: ("inn", "kpp"), self.Kind.SOLE_TRADER: ("inn",)}.get(self.kind, ())
        return [name for name in needed if not getattr(self, name)]

    def clean(self, *, check_taken: bool = True):
        """``check_taken=False``: skip the look-up of another counterparty with this ИНН+КПП
        (a bulk import that has read them all already: directory/importing.py)."""
        errors = self.bank_errors()
        _normalise_phone_field(self, "phone")
        if self.inn and inn_is_valid(self.inn):  # a malformed INN is its field validator's to report
            try:
                validate_inn_for_kind(self.inn, self.kind)
            except ValidationError as exc:
                errors["inn"] = exc
        # An organisation or a sole trader may be recorded before its requisites are known
        # (a lead qualified from a phone call); invoicing it asks for them (missing_requisites).
        if self.kind != self.Kind.LEGAL and self.kpp:
            errors["kpp"] = ValidationError(_("Only organisations have a KPP."), code="not_applicable")
        if self.ogrn and self.kind == self.Kind.PERSON:
            errors["ogrn"] = ValidationError(_("A person has no OGRN."), code="not_applicable")
        elif self.ogrn and "ogrn" not in errors:
            expected = 13 if self.kind == self.Kind.LEGAL else 15
            if len(self.ogrn) != expected:
                errors["ogrn"] = ValidationError(
                    _("An organisation has a 13-digit OGRN, a sole trader a 15-digit OGRNIP."), code="length"
                )
        if check_taken and "inn" not in errors and "kpp" not in errors:
            existing = self.duplicate()
            if existing is not None:
                errors["inn"] = ValidationError(
                    _("A counterparty with this INN and KPP already exists: %(name)s (#%(id)s)."),
                    code="duplicate",
                    params={"name": existing.name, "id": existing.pk},
                )
        if errors:
            raise ValidationError(errors)


class Contact(TimeStamped):
    counterparty = models.ForeignKey(
        Counterparty, verbose_name=_("counterparty"), on_delete=models.CASCADE, related_name="contacts"
    )
    full_name = models.CharField(_("full name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    email = models.EmailField(_("e-mail"), blank=True)
    position = models.CharField(_("position"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["full_name", "id"]
        indexes = [models.Index(fields=["phone"], name="contact_phone_idx")]

    def __str__(self):
        return self.full_name

    def get_absolute_url(self):
        return reverse("directory:contact_detail", args=[self.pk])

    def clean(self):
        _normalise_phone_field(self, "phone")


class Supplier(TimeStamped):
    """A company whose machines we hire when our own cannot serve (техника обеспечения)."""

    name = models.CharField(_("name"), max_length=200)
    inn = models.CharField(_("INN"), max_length=12, blank=True, validators=[validate_inn])
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    email = models.EmailField(_("e-mail"), blank=True)
    contact_person = models.CharField(_("contact person"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(pgettext_lazy("in use", "active"), default=True)
    # The supplier's Telegram chat with our bot, bound only by the supplier opening their
    # invite link (t.me/<bot>?start=sup_<token>; bookings/supplier_link.py): requests can
    # then go there too (docs/supplier-request.md).
    telegram_chat_id = models.CharField(_("Telegram chat id"), max_length=32, blank=True, editable=False)
    telegram_invite_token = models.CharField(
        _("Telegram invite token"), max_length=40, blank=True, editable=False
    )
    telegram_invite_issued_at = models.DateTimeField(_("invite issued at"), null=True, editable=False)
    messenger_bound_at = models.DateTimeField(_("messenger bound at"), null=True, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["inn"], condition=~Q(inn=""), name="supplier_inn_unique"),
            models.UniqueConstraint(
                fields=["telegram_invite_token"],
                condition=~Q(telegram_invite_token=""),
                name="supplier_invite_token_unique",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("directory:supplier_detail", args=[self.pk])

    def clean(self):
        errors: dict = {}
        _normalise_phone_field(self, "phone")
        if self.inn and "inn" not in errors:
            clash = Supplier.objects.filter(inn=self.inn).exclude(pk=self.pk).first()
            if clash:
                errors["inn"] = ValidationError(
                    _("A supplier with this INN already exists: %(name)s (#%(id)s)."),
                    code="duplicate",
                    params={"name": clash.name, "id": clash.pk},
                )
        if errors:
            raise ValidationError(errors)


class EquipmentType(TimeStamped):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("equipment type")
        verbose_name_plural = _("equipment types")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("directory:equipment_type_detail", args=[self.pk])


class Unit(TimeStamped):
    """One machine: ours or a supplier's."""

    class Owner(models.TextChoices):
        OWN = "own", _("Own")
        SUPPLIER = "supplier", _("Supplier's")

    class Tracker(models.TextChoices):
        WIALON = "wialon", "Wialon"
        AEMP = "aemp", _("ISO 15143-3 (AEMP 2.0)")

    equipment_type = models.ForeignKey(
        EquipmentType, verbose_name=_("equipment type"), on_delete=models.PROTECT, related_name="units"
    )
    name = models.CharField(_("model"), max_length=200)
    capacity_t = models.DecimalField(
        _("capacity, t"), max_digits=7, decimal_places=2, validators=[MinValueValidator(0)]
    )
    plate = models.CharField(_("plate"), max_length=12, validators=[validate_plate])
    owner = models.CharField(_("owner"), max_length=10, choices=Owner.choices, default=Owner.OWN)
    supplier = models.ForeignKey(
        Supplier,
        verbose_name=_("supplier"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="units",
    )
    rate_per_hour = models.DecimalField(_("rate per hour"), **MONEY, default=0, validators=PRICE_VALIDATORS)
    rate_per_km = models.DecimalField(_("rate per km"), **MONEY, default=0, validators=PRICE_VALIDATORS)
    min_hours = models.DecimalField(
        _("minimum order, hours"), max_digits=6, decimal_places=2, default=4, validators=NON_NEGATIVE
    )
    has_hour_meter = models.BooleanField(_("has an engine-hour meter"), default=False)
    # The unit's tracker: which telematics platform watches it and under what id there
    # (docs/telematics.md). Empty: no tracker, no evidence for its trips.
    tracker_provider = models.CharField(
        _("telematics platform"), max_length=10, choices=Tracker.choices, blank=True
    )
    tracker_id = models.CharField(
        _("unit's id in the platform"),
        max_length=64,
        blank=True,
        help_text=_("Wialon: the unit's number; ISO 15143-3: the equipment id or serial number."),
    )
    is_active = models.BooleanField(pgettext_lazy("in use", "active"), default=True)
    notes = models.TextField(_("notes"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["equipment_type__name", "-capacity_t", "plate"]
        constraints = [
            models.UniqueConstraint(fields=["plate"], name="unit_plate_unique"),
            models.CheckConstraint(condition=Q(capacity_t__gte=0), name="unit_capacity_non_negative"),
            models.CheckConstraint(
                condition=Q(rate_per_hour__gte=0, rate_per_km__gte=0, min_hours__gte=0),
                name="unit_rates_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(rate_per_hour__lte=MAX_PRICE, rate_per_km__lte=MAX_PRICE),
                name="unit_rates_bounded",
            ),
            models.CheckConstraint(
                condition=(
                    Q(owner="own", supplier__isnull=True) | Q(owner="supplier", supplier__isnull=False)
                ),
                name="unit_owner_matches_supplier",
            ),
            models.CheckConstraint(
                condition=Q(tracker_provider="", tracker_id="")
                | (~Q(tracker_provider="") & ~Q(tracker_id="")),
                name="unit_tracker_both_or_neither",
                violation_error_message=_(
                    "Give both the telematics platform and the unit's id there, or neither."
                ),
            ),
            models.UniqueConstraint(
                fields=["tracker_provider", "tracker_id"],
                condition=~Q(tracker_provider=""),
                name="unit_tracker_unique",
                violation_error_message=_("Another unit is linked to this tracker already."),
            ),
        ]
        indexes = [models.Index(fields=["equipment_type", "capacity_t"], name="unit_type_capacity_idx")]

    def __str__(self):
        return f"{self.name} {self.plate}"

    def get_absolute_url(self):
        return reverse("directory:unit_detail", args=[self.pk])

    def clean(self, *, check_taken: bool = True):
        """``check_taken=False``: skip the look-up of another unit with this plate (a bulk
        import that has read them all already: directory/importing.py)."""
        errors: dict = {}
        if self.plate:
            self.plate = normalize_plate(self.plate)
            clash = Unit.objects.filter(plate=self.plate).exclude(pk=self.pk).first() if check_taken else None
            if clash:
                errors["plate"] = ValidationError(
                    _("This plate already belongs to %(unit)s (#%(id)s)."),
                    code="duplicate",
                    params={"unit": clash.name, "id": clash.pk},
                )
        if self.owner == self.Owner.SUPPLIER and not self.supplier_id:
            errors["supplier"] = ValidationError(
                _("Choose the supplier who owns this unit."), code="required"
            )
        if self.owner == self.Owner.OWN and self.supplier_id:
            errors["supplier"] = ValidationError(_("Our own unit has no supplier."), code="not_applicable")
        if errors:
            raise ValidationError(errors)


class MaintenanceWindow(TimeStamped):
    """A time the unit cannot be booked (service, repair, inspection)."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="maintenance"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    reason = models.CharField(_("reason"), max_length=300)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        ordering = ["unit", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="maintenance_end_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.unit}: {self.reason}"

    def get_absolute_url(self):
        return reverse("directory:unit_detail", args=[self.unit_id])

    def clean(self):
        check_period(self.start, self.end)


class Driver(TimeStamped):
    """A driver/operator. Not a user: receives orders in a messenger."""

    class Employment(models.TextChoices):
        STAFF = "staff", _("Staff")
        CONTRACTOR = "contractor", _("Contractor")

    full_name = models.CharField(_("full name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=20, validators=[validate_phone])
    employment = models.CharField(
        _("employment"), max_length=12, choices=Employment.choices, default=Employment.STAFF
    )
    hourly_pay = models.DecimalField(_("hourly pay"), **MONEY, default=0, validators=PRICE_VALIDATORS)
    license_number = models.CharField(_("licence number"), max_length=30, blank=True)
    license_valid_until = models.DateField(_("licence valid until"), null=True, blank=True)

    class Channel(models.TextChoices):
        """Where the driver's orders go first (``bookings/dispatch.py`` falls back in
        ``DRIVER_CHANNEL_ORDER`` through the others the driver can be reached on)."""

        TELEGRAM = "telegram", "Telegram"
        MAX = "max", "MAX"
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")

    email = models.EmailField(_("e-mail"), blank=True)
    # Blank: no preference, the order of ``DRIVER_CHANNEL_ORDER``.
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, default=Channel.TELEGRAM, blank=True
    )
    telegram_chat_id = models.CharField(_("Telegram chat id"), max_length=32, blank=True)
    # The driver's MAX user id, bound like the Telegram chat by the invite link
    # (max.ru/<bot>?start=drv_<token>); orders go to the dialog with that user.
    max_user_id = models.CharField(_("MAX user id"), max_length=32, blank=True, editable=False)
    # The payload of the driver's personal invite link (t.me/<bot>?start=drv_<token>):
    # opening it binds the chat to this driver. Regenerating it cuts the old link off.
    telegram_invite_token = models.CharField(
        _("Telegram invite token"), max_length=40, blank=True, editable=False
    )
    # When the chat was bound and who had issued the invite link it was bound with (the
    # invites themselves: DriverInvite).
    messenger_bound_at = models.DateTimeField(_("messenger bound"), null=True, blank=True, editable=False)
    messenger_bound_by = models.ForeignKey(
        "core.User",
        verbose_name=_("invite issued by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    is_active = models.BooleanField(pgettext_lazy("in use", "active"), default=True)
    notes = models.TextField(_("notes"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("driver")
        verbose_name_plural = _("drivers")
        ordering = ["full_name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(hourly_pay__gte=0), name="driver_pay_non_negative"),
            models.CheckConstraint(condition=Q(hourly_pay__lte=MAX_PRICE), name="driver_pay_bounded"),
            models.CheckConstraint(
                condition=Q(employment__in=["staff", "contractor"]), name="driver_employment_valid"
            ),
            models.UniqueConstraint(
                fields=["telegram_invite_token"],
                condition=~Q(telegram_invite_token=""),
                name="driver_invite_token_unique",
            ),
        ]

    def __str__(self):
        return self.full_name

    def get_absolute_url(self):
        return reverse("directory:driver_detail", args=[self.pk])

    def clean(self):
        errors: dict = {}
        _normalise_phone_field(self, "phone")
        if self.telegram_chat_id and not self.telegram_chat_id.lstrip("-").isdigit():
            errors["telegram_chat_id"] = ValidationError(_("A Telegram chat id is a number."), code="format")
        if errors:
            raise ValidationError(errors)


class DriverPayRate(models.Model):
    """A driver's hourly pay from a date on: a waybill takes the rate valid on its trip's
    date (``directory/selectors.py``, ``pay_rate_on``). ``Driver.hourly_pay`` is the rate
    given last. Written only by ``directory.services`` when the pay changes, and read only by
    those who may see pay (docs/permissions.md, «Drivers' pay»)."""

    driver = models.ForeignKey(
        Driver, verbose_name=_("driver"), on_delete=models.CASCADE, related_name="pay_rates"
    )
    hourly_pay = models.DecimalField(_("hourly pay"), **MONEY, validators=PRICE_VALIDATORS)
    valid_from = models.DateField(_("valid from"))
    # A rate for one kind of machine (a crane pays more than a truck); blank: any machine.
    equipment_type = models.ForeignKey(
        EquipmentType,
        verbose_name=_("equipment type"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Blank: the rate for any machine."),
    )
    created_by = models.ForeignKey(
        "core.User",
        verbose_name=_("set by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("driver's pay rate")
        verbose_name_plural = _("drivers' pay rates")
        ordering = ["driver", "-valid_from", "-id"]
        indexes = [models.Index(fields=["driver", "valid_from"], name="driver_pay_rate_from")]
        constraints = [
            models.CheckConstraint(
                condition=Q(hourly_pay__gte=0) & Q(hourly_pay__lte=MAX_PRICE), name="driver_pay_rate_bounded"
            ),
        ]

    def __str__(self):
        return f"{self.driver}: {self.hourly_pay} ({self.valid_from:%Y-%m-%d})"


class DocumentKind(models.TextChoices):
    """What a driver's document proves. The licences carry categories; the operator
    certificates, the rigger's and the medical certificate do not."""

    DRIVING_LICENCE = "driving_licence", _("Driving licence")
    TRACTOR_LICENCE = "tractor_licence", _("Tractor-operator licence")
    TRUCK_CRANE = "truck_crane", _("Truck crane operator")
    LOADER_CRANE = "loader_crane", _("Loader crane operator")
    AERIAL_PLATFORM = "aerial_platform", _("Aerial platform operator")
    EXCAVATOR = "excavator", _("Excavator operator")
    BULLDOZER = "bulldozer", _("Bulldozer operator")
    FORKLIFT = "forklift", _("Loader operator")
    CONCRETE_PUMP = "concrete_pump", _("Concrete pump operator")
    RIGGER = "rigger", _("Rigger")
    MEDICAL = "medical", _("Medical certificate")


# The categories each licence kind knows (Latin letters; Cyrillic look-alikes are read as
# them). Any other kind has none.
CATEGORIES: dict[str, tuple[str, ...]] = {
    DocumentKind.DRIVING_LICENCE: (
        "A",
        "A1",
        "B",
        "B1",
        "BE",
        "C",
        "C1",
        "CE",
        "C1E",
        "D",
        "D1",
        "DE",
        "D1E",
        "M",
        "TM",
        "TB",
    ),  # fmt: skip
    DocumentKind.TRACTOR_LICENCE: ("A", "B", "C", "D", "E", "F"),
}
_CYRILLIC_LOOKALIKES = str.maketrans("АВСДЕМТ", "ABCDEMT")


def parse_categories(value: str) -> list[str]:
    """``"b, с ce"`` → ``["B", "C", "CE"]``: upper case, Cyrillic look-alikes as Latin, in
    the order given, each once."""
    found: list[str] = []
    for part in re.split(r"[\s,;]+", (value or "").upper().translate(_CYRILLIC_LOOKALIKES)):
        if part and part not in found:
            found.append(part)
    return found


def category_errors(kind: str, categories: list[str]) -> str | None:
    """Why these categories do not fit the kind, or None."""
    known = CATEGORIES.get(kind)
    if known is None:
        return _("This kind of document has no categories.") if categories else None
    unknown = [c for c in categories if c not in known]
    if unknown:
        return _("Unknown categories: %(unknown)s (known: %(known)s).") % {
            "unknown": ", ".join(unknown),
            "known": ", ".join(known),
        }
    return None


def driver_document_scan_path(instance, filename):
    """A random name with the extension of the sniffed type (never the uploader's name),
    like the waybills' scans (docs/security.md, «Files»)."""
    extension = EXTENSIONS.get(getattr(instance, "scan_type", ""), "")
    return f"driver-documents/{instance.driver_id}/{secrets.token_hex(16)}{extension}"


class DriverDocument(TimeStamped):
    """A licence or certificate of a driver. A driver may hold several of a kind (the old
    one and its renewal): the one valid then counts (``directory/selectors.py``,
    ``qualification_gaps``)."""

    driver = models.ForeignKey(
        Driver, verbose_name=_("driver"), on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    categories = models.CharField(
        _("categories"),
        max_length=100,
        blank=True,
        help_text=_("Licences only, separated by commas: B, C, CE."),
    )
    number = models.CharField(_("number"), max_length=50, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True, help_text=_("Blank: no expiry."))
    scan = models.FileField(_("scan or photo"), upload_to=driver_document_scan_path, blank=True)
    scan_name = models.CharField(_("scan's file name"), max_length=255, blank=True)
    scan_type = models.CharField(_("scan's content type"), max_length=50, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # When the admins were told it expires soon (once per document; cleared when
    # valid_until changes: directory/services.py).
    expiry_notified_at = models.DateTimeField(_("expiry notified"), null=True, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["expiry_notified_at"])

    class Meta:
        verbose_name = _("driver's document")
        verbose_name_plural = _("drivers' documents")
        ordering = ["driver", "kind", "-valid_until", "-id"]
        indexes = [models.Index(fields=["driver", "kind"], name="driver_document_kind_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in DocumentKind]), name="driver_document_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(issued_on__isnull=True)
                | Q(valid_until__gt=models.F("issued_on")),
                name="driver_document_valid_after_issued",
            ),
        ]

    def __str__(self):
        label = self.get_kind_display()
        if self.categories:
            label = f"{label} ({self.categories})"
        return f"{label} {self.number}".strip()

    def get_absolute_url(self):
        return reverse("directory:driver_detail", args=[self.driver_id]) + "#documents"

    def category_list(self) -> list[str]:
        return parse_categories(self.categories)

    def is_expired(self, day) -> bool:
        return self.valid_until is not None and self.valid_until < day

    def clean(self):
        errors: dict = {}
        categories = parse_categories(self.categories)
        if self.kind in CATEGORIES and not categories:
            errors["categories"] = ValidationError(_("Give the licence's categories."), code="required")
        elif message := category_errors(self.kind, categories):
            errors["categories"] = ValidationError(message, code="invalid")
        else:
            self.categories = ", ".join(categories)
        if self.valid_until and self.issued_on and self.valid_until <= self.issued_on:
            errors["valid_until"] = ValidationError(
                _("A document is valid until a day after it was issued."), code="before_issued"
            )
        if errors:
            raise ValidationError(errors)


class EquipmentTypeRequirement(models.Model):
    """A document a driver of this type of machine must hold, valid until the booking's last
    day (``bookings/services.py`` refuses to reserve one who lacks it). ``category`` blank:
    any category of that kind."""

    equipment_type = models.ForeignKey(
        EquipmentType,
        verbose_name=_("equipment type"),
        on_delete=models.CASCADE,
        related_name="requirements",
    )
    kind = models.CharField(_("document"), max_length=20, choices=DocumentKind.choices)
    category = models.CharField(_("category"), max_length=5, blank=True, help_text=_("Blank: any."))

    class Meta:
        verbose_name = _("required document")
        verbose_name_plural = _("required documents")
        ordering = ["equipment_type", "kind", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["equipment_type", "kind", "category"], name="equipment_type_requirement_unique"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in DocumentKind]), name="equipment_type_requirement_kind"
            ),
        ]

    def __str__(self):
        return requirement_label(self.kind, self.category)

    def clean(self):
        categories = parse_categories(self.category)
        if len(categories) > 1:
            raise ValidationError({"category": _("One category per requirement.")}, code="invalid")
        if message := category_errors(self.kind, categories):
            raise ValidationError({"category": message}, code="invalid")
        self.category = categories[0] if categories else ""


def requirement_label(kind: str, category: str = "") -> str:
    """«Driving licence, category C», «Medical certificate»."""
    label = str(DocumentKind(kind).label) if kind in DocumentKind.values else kind
    if category:
        return _("%(kind)s, category %(category)s") % {"kind": label, "category": category}
    return label


class DriverInvite(models.Model):
    """One invite link issued to a driver (``bookings/driver_link.py``): it binds the chat
    that opens it once (``used_at``), only before it expires (``DRIVER_INVITE_DAYS``) and
    only while it is the driver's current one (a new link replaces it)."""

    driver = models.ForeignKey(
        Driver, verbose_name=_("driver"), on_delete=models.CASCADE, related_name="invites"
    )
    token = models.CharField(_("token"), max_length=40, unique=True, editable=False)
    issued_by = models.ForeignKey(
        "core.User",
        verbose_name=_("issued by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    chat_id = models.CharField(_("bound chat"), max_length=32, blank=True)
    channel = models.CharField(_("bound in"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("driver's invite link")
        verbose_name_plural = _("drivers' invite links")
        ordering = ["-issued_at", "-id"]

    def __str__(self):
        return f"{self.driver} ({self.issued_at:%Y-%m-%d %H:%M})"
