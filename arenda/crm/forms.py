"""Forms of the deal pages: they validate (the model's rules via full_clean); the services
in ``arenda.crm.services`` write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from arenda.bookings.forms import NUMBER, LocalDateTimeInput
from arenda.core.models import User
from arenda.core.roles import Role
from arenda.crm.models import Deal, DealLine, ProposalResponse
from arenda.directory.models import EquipmentType
from arenda.front.forms import ServiceForm
from arenda.front.lookup import LookupField, LookupWidget


class DealForm(ServiceForm):
    lookups = {"counterparty": "counterparty", "contact": "contact"}

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
        # suggest the chosen counterparty's contacts (front/lookup.js adds it to the query)
        self.fields["contact"].widget.attrs["data-lookup-with"] = "counterparty"


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


# --- the customer's page (crm/public_views.py) --------------------------------------------------
def _text(label, required=True, rows=3):
    return forms.CharField(
        label=label,
        required=required,
        max_length=ProposalResponse.TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class ProposalDeclineForm(forms.Form):
    """Declining the КП as the customer saw it (``version``, as the accept form sends it;
    any other value is a КП that changed, never a hidden field's error)."""

    version = forms.CharField(required=False, widget=forms.HiddenInput)
    text = _text(_("Why does the proposal not suit you?"))


class ProposalQuestionForm(forms.Form):
    text = _text(_("Your question"))


class ProposalRenewalForm(forms.Form):
    text = _text(_("Comment (optional)"), required=False, rows=2)


PROPOSAL_FORMS = {
    ProposalResponse.Kind.DECLINED: ProposalDeclineForm,
    ProposalResponse.Kind.QUESTION: ProposalQuestionForm,
    ProposalResponse.Kind.RENEWAL: ProposalRenewalForm,
}


class BoardFilterForm(forms.Form):
    """The board's filters, kept in the URL."""

    manager = forms.ModelChoiceField(
        User.objects.filter(role=Role.MANAGER).order_by("full_name"),
        label=_("Manager"),
        required=False,
        empty_label=_("Manager: all"),
    )
    counterparty = LookupField(
        "counterparty",
        label=_("Counterparty"),
        required=False,
        widget=LookupWidget(attrs={"placeholder": _("Counterparty: all")}),
    )
    created_from = forms.DateField(
        label=_("Created from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label=_("Created to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
