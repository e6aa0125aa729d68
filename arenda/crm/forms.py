"""Forms of the deal pages: they validate (the model's rules via full_clean); the services
in ``arenda.crm.services`` write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from arenda.bookings.forms import NUMBER, LocalDateTimeInput
from arenda.core.models import User
from arenda.core.roles import Role
from arenda.crm.models import Deal, DealLine
from arenda.directory.models import Counterparty, EquipmentType
from arenda.front.forms import ServiceForm


class DealForm(ServiceForm):
    class Meta:
        model = Deal
        # The stage moves on the board and by the deal page's buttons (services.deal_move).
        fields = ["title", "counterparty", "contact", "organization", "manager", "proposal_valid_until"]
        widgets = {
            "proposal_valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def adjust_for_user(self, user):
        if not self.instance.pk and not self.is_bound:
            self.initial.setdefault("manager", user.pk)


class DealLineForm(ServiceForm):
    class Meta:
        model = DealLine
        fields = [
            "equipment_type", "min_capacity_t", "start", "end", "ordered_hours", "min_hours",
            "rate_per_hour", "km", "rate_per_km", "site_address", "notes",
        ]  # fmt: skip
        widgets = {
            "start": LocalDateTimeInput(),
            "end": LocalDateTimeInput(),
            "min_capacity_t": NUMBER,
            "ordered_hours": NUMBER,
            "min_hours": NUMBER,
            "rate_per_hour": NUMBER,
            "km": NUMBER,
            "rate_per_km": NUMBER,
        }

    def adjust_for_user(self, user):
        self.fields["equipment_type"].queryset = EquipmentType.objects.order_by("name")


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Comment"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class LostForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the deal lost?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ProposalForm(forms.Form):
    proposal_valid_until = forms.DateField(
        label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class BoardFilterForm(forms.Form):
    """The board's filters, kept in the URL."""

    manager = forms.ModelChoiceField(
        User.objects.filter(role=Role.MANAGER).order_by("full_name"),
        label=_("Manager"),
        required=False,
        empty_label=_("Manager: all"),
    )
    counterparty = forms.ModelChoiceField(
        Counterparty.objects.order_by("name"),
        label=_("Counterparty"),
        required=False,
        empty_label=_("Counterparty: all"),
    )
    created_from = forms.DateField(
        label=_("Created from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label=_("Created to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
