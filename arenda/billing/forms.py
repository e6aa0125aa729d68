"""Forms of the invoice pages. They collect input; ``arenda.billing.services`` writes."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from arenda.billing.models import Invoice
from arenda.billing.services import LineData
from arenda.core.money import MAX_AMOUNT, MAX_LINES, MAX_PRICE, MAX_QUANTITY
from arenda.directory.models import Organization
from arenda.front.forms import ServiceErrorsMixin
from arenda.front.lookup import LookupField, LookupWidget

MONEY = forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"})


class InvoiceForm(ServiceErrorsMixin, forms.Form):
    """The header of an invoice made by hand."""

    counterparty = LookupField("counterparty", label=_("Counterparty"))
    organization = forms.ModelChoiceField(
        label=_("Our legal entity"), queryset=Organization.objects.filter(is_active=True).order_by("name")
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Invoice.Kind.choices, initial=Invoice.Kind.POSTPAYMENT)
    # suggestions narrow to the counterparty's deals and the deal's bookings (front/lookup.js)
    deal = LookupField(
        "deal",
        label=_("Deal"),
        required=False,
        widget=LookupWidget(attrs={"data-lookup-with": "counterparty"}),
    )
    booking = LookupField(
        "booking", label=_("Booking"), required=False, widget=LookupWidget(attrs={"data-lookup-with": "deal"})
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class LineForm(forms.Form):
    description = forms.CharField(label=_("Description"), max_length=500)
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=12,
        decimal_places=3,
        min_value=Decimal("0.001"),
        max_value=MAX_QUANTITY,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"}),
    )
    unit = forms.CharField(label=pgettext_lazy("unit of measure", "Unit"), max_length=20, initial="ч")
    price = forms.DecimalField(
        label=_("Price"), max_digits=14, decimal_places=2, min_value=0, max_value=MAX_PRICE, widget=MONEY
    )


class BaseLineFormSet(forms.BaseFormSet):
    def lines(self) -> list[LineData]:
        return [
            LineData(
                description=form.cleaned_data["description"],
                quantity=form.cleaned_data["quantity"],
                price=form.cleaned_data["price"],
                unit=form.cleaned_data.get("unit") or "ч",
            )
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]

    def clean(self):
        super().clean()
        if not any(self.errors) and not self.lines():
            raise ValidationError(_("An invoice needs at least one line."))


LineFormSet = forms.formset_factory(
    LineForm,
    formset=BaseLineFormSet,
    extra=0,
    min_num=1,
    can_delete=True,
    max_num=MAX_LINES,
    validate_max=True,
)


class CancelForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PaymentForm(ServiceErrorsMixin, forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_AMOUNT,
        widget=MONEY,
    )
    date = forms.DateField(
        label=_("Date"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reference = forms.CharField(
        label=_("Reference"),
        max_length=200,
        required=False,
        help_text=_("The payment order number: the same reference is never counted twice."),
    )
    payer = forms.CharField(label=_("Payer"), max_length=300, required=False)
    # Shown once the same payment was entered a few minutes ago: the accountant confirms.
    confirm_duplicate = forms.BooleanField(
        label=_("Yes, this is another payment: record it again"), required=False, widget=forms.HiddenInput
    )

    def ask_to_confirm(self, detail: str) -> None:
        self.fields["confirm_duplicate"].widget = forms.CheckboxInput()
        self.add_error("confirm_duplicate", detail)
