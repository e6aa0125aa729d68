"""Forms of the reference-data pages. They validate (the models' rules via full_clean);
the views hand ``service_data()`` to the services, which write."""

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from arenda.core.roles import Role, can_change_pay, has_special, hidden_pay_fields, role_of
from arenda.directory import models as m
from arenda.front.forms import ServiceErrorsMixin, ServiceForm

TEXTAREA = forms.Textarea(attrs={"rows": 3})
NUMBER = forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"})
DIGITS = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})
PHONE = forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "placeholder": "+7 912 345-67-89"})
REQUISITES = ("inn", "kpp", "ogrn", "bik", "corr_account", "account")


class KeepWhenLeftOut:
    """Settings added after the forms' first clients (``kept_fields``): a post without one
    keeps the record's value (a new record: the model's default) instead of failing."""

    kept_fields: tuple[str, ...] = ()

    def keep_when_left_out(self):
        for name in self.kept_fields:
            if name in self.fields:
                self.fields[name].required = False

    def clean(self):
        cleaned = super().clean()
        for name in self.kept_fields:
            if name in self.fields and not cleaned.get(name):
                cleaned[name] = getattr(self.instance, name)
        return cleaned


class OrganizationForm(KeepWhenLeftOut, ServiceForm):
    kept_fields = ("closing_form",)

    class Meta:
        model = m.Organization
        fields = [
            "name", "full_name", "inn", "kpp", "ogrn", "address", "phone", "email", "director",
            "accountant", "vat_rate", "closing_form", "default_accounting_base", "bank_name", "bik", "corr_account",
            "account", "is_active",
        ]  # fmt: skip
        widgets = {**dict.fromkeys(REQUISITES, DIGITS), "phone": PHONE}

    def adjust_for_user(self, user):
        self.keep_when_left_out()
        # Only this entity's own bases may be its default; a new entity has none yet.
        field = self.fields["default_accounting_base"]
        field.queryset = m.AccountingBase.objects.filter(organization_id=self.instance.pk or 0)


def _url_as_typed(model_field, **kwargs):
    # 1C servers on a company network are usually plain http; keep Django's current default.
    if isinstance(model_field, models.URLField):
        kwargs["assume_scheme"] = "http"
    return model_field.formfield(**kwargs)


class AccountingBaseForm(ServiceForm):
    password = forms.CharField(
        label=capfirst(_("1C password")),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = m.AccountingBase
        fields = [
            "name", "organization", "kind", "odata_url", "username", "password", "wants_invoice_facture",
            "is_active",
        ]  # fmt: skip
        formfield_callback = _url_as_typed

    def adjust_for_user(self, user):
        if self.instance.pk:
            self.fields["password"].help_text = _(
                "Leave blank to keep the stored password. A new OData URL or 1C user needs the password again."
            )


class CounterpartyForm(KeepWhenLeftOut, ServiceForm):
    kept_fields = ("acts_period",)

    class Meta:
        model = m.Counterparty
        fields = [
            "kind", "name", "full_name", "inn", "kpp", "ogrn", "address", "phone", "email",
            "accounting_base", "prepayment_required", "payment_terms_days", "acts_period", "bank_name", "bik",
            "corr_account", "account", "reconciliation_quarterly", "notes",
        ]  # fmt: skip
        widgets = {**dict.fromkeys(REQUISITES, DIGITS), "phone": PHONE, "notes": TEXTAREA}

    def adjust_for_user(self, user):
        self.keep_when_left_out()
        # The accountant's settings of the customer (its 1C base, the quarterly reconciliation
        # statement, docs/reconciliation.md): the same right as the 1C base.
        if not has_special(user, "set_counterparty_accounting_base"):
            del self.fields["accounting_base"]
            del self.fields["reconciliation_quarterly"]


class ContactForm(ServiceForm):
    # typed, not a select of every counterparty (there may be a hundred thousand)
    lookups = {"counterparty": "counterparty"}

    class Meta:
        model = m.Contact
        fields = ["counterparty", "full_name", "position", "phone", "email"]
        widgets = {"phone": PHONE}


class SupplierForm(ServiceForm):
    class Meta:
        model = m.Supplier
        fields = ["name", "inn", "contact_person", "phone", "email", "is_active", "notes"]
        widgets = {"inn": DIGITS, "phone": PHONE, "notes": TEXTAREA}


class EquipmentTypeForm(ServiceForm):
    class Meta:
        model = m.EquipmentType
        fields = ["name", "description"]
        widgets = {"description": TEXTAREA}


class UnitForm(ServiceForm):
    lookups = {"supplier": "supplier"}

    class Meta:
        model = m.Unit
        fields = [
            "equipment_type", "name", "capacity_t", "plate", "owner", "supplier", "rate_per_hour",
            "rate_per_km", "min_hours", "has_hour_meter", "tracker_provider", "tracker_id", "is_active", "notes",
        ]  # fmt: skip
        widgets = {
            "plate": forms.TextInput(attrs={"placeholder": "А123ВС77", "autocomplete": "off"}),
            "capacity_t": NUMBER,
            "rate_per_hour": NUMBER,
            "rate_per_km": NUMBER,
            "min_hours": NUMBER,
            "notes": TEXTAREA,
            "tracker_id": forms.TextInput(attrs={"autocomplete": "off", "placeholder": "734455"}),
        }

    def adjust_for_user(self, user):
        if role_of(user) != Role.ADMIN:  # the trackers are the admin's to link (docs/telematics.md)
            for name in ("tracker_provider", "tracker_id"):
                self.fields[name].disabled = True

    def clean_tracker_id(self):
        return (self.cleaned_data.get("tracker_id") or "").strip()


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DriverForm(ServiceForm):
    """The chat is bound only through the invite link (not a field here). The pay
    (``core.roles.PAY_FIELDS``) is absent for whoever may not see it and locked for whoever
    may not change it; a new pay starts on ``hourly_pay_from`` (today unless changed)."""

    hourly_pay_from = forms.DateField(
        label=capfirst(_("new pay from")),
        required=False,
        widget=DATE,
        help_text=_("The day a changed pay starts: trips from that day on are paid at it."),
    )

    class Meta:
        model = m.Driver
        fields = [
            "full_name", "phone", "email", "preferred_channel", "employment", "hourly_pay", "hourly_pay_from",
            "license_number", "license_valid_until", "is_active", "notes",
        ]  # fmt: skip
        widgets = {"phone": PHONE, "hourly_pay": NUMBER, "license_valid_until": DATE, "notes": TEXTAREA}

    def adjust_for_user(self, user):
        if not can_change_pay(user):
            del self.fields["hourly_pay_from"]
            self.fields["hourly_pay"].disabled = True
        for name in hidden_pay_fields(user):
            self.fields.pop(name, None)
        if "hourly_pay_from" in self.fields:
            self.fields["hourly_pay_from"].initial = timezone.localdate()

    def clean(self):
        data = super().clean()
        changed = "hourly_pay" in self.changed_data
        if "hourly_pay_from" in self.fields and not changed:
            data.pop("hourly_pay_from", None)  # the date goes with a new pay only
        return data

    def service_data(self) -> dict:
        data = super().service_data()
        if data.get("hourly_pay_from") is None:
            data.pop("hourly_pay_from", None)
        return data


LOCAL_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class MaintenanceWindowForm(ServiceForm):
    """Times are typed in the company time zone (the current one) and stored in UTC."""

    class Meta:
        model = m.MaintenanceWindow
        fields = ["start", "end", "reason"]
        widgets = {"start": LOCAL_DATETIME, "end": LOCAL_DATETIME}


class DriverDocumentForm(ServiceForm):
    """A licence or certificate; the scan is checked by its content in the service."""

    scan = forms.FileField(
        label=capfirst(_("scan or photo")),
        required=False,
        help_text=_("A photo (JPEG, PNG, WebP, HEIC) or a PDF, up to 10 MB."),
    )

    class Meta:
        model = m.DriverDocument
        fields = ["kind", "categories", "number", "issued_on", "valid_until", "notes"]
        widgets = {"issued_on": DATE, "valid_until": DATE, "notes": forms.Textarea(attrs={"rows": 2})}

    def service_data(self) -> dict:
        data = super().service_data()
        if not data.get("scan"):
            data.pop("scan", None)
        return data


class RequirementForm(ServiceForm):
    class Meta:
        model = m.EquipmentTypeRequirement
        fields = ["kind", "category"]


class PayRateForm(ServiceErrorsMixin, forms.Form):
    """A pay for one kind of machine (the accountant's and the admin's)."""

    equipment_type = forms.ModelChoiceField(
        label=capfirst(_("equipment type")), queryset=m.EquipmentType.objects.order_by("name")
    )
    hourly_pay = forms.DecimalField(
        label=capfirst(_("hourly pay")), max_digits=14, decimal_places=2, min_value=0, widget=NUMBER
    )
    valid_from = forms.DateField(
        label=capfirst(_("valid from")), required=False, widget=DATE, help_text=_("Today when left blank.")
    )
