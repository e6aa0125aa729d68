"""Forms of the lead pages. They only collect input; ``arenda.crm.services`` (and
``arenda.crm.tokens``) validate the rest and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from arenda.core.models import User
from arenda.core.roles import Role
from arenda.crm.models import Lead
from arenda.front.forms import ServiceErrorsMixin
from arenda.front.lookup import LookupField, LookupWidget


class LeadEntryForm(ServiceErrorsMixin, forms.Form):
    """A request typed in by hand: a call to a manager's mobile, a walk-in, a letter."""

    source = forms.ChoiceField(label=_("Source"), choices=Lead.Source.choices, initial=Lead.Source.MANUAL)
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "placeholder": "+7 912 345-67-89"}),
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    company = forms.CharField(label=_("Company"), max_length=300, required=False)
    inn = forms.CharField(label=_("INN"), max_length=12, required=False)
    message = forms.CharField(label=_("Request"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


class ReplyForm(ServiceErrorsMixin, forms.Form):
    text = forms.CharField(label=_("Reply"), widget=forms.Textarea(attrs={"rows": 3}))
    channel = forms.ChoiceField(label=_("Send in"), required=False, choices=())

    def __init__(self, *args, channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The messengers the lead has a chat in, the one the customer last wrote from first.
        self.fields["channel"].choices = [(c, Lead.Source(c).label) for c in channels]
        self.channels = list(channels)
        if self.channels:
            self.fields["channel"].initial = self.channels[0]


class RejectForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why is it junk?"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


def active_managers():
    return User.objects.filter(is_active=True, role=Role.MANAGER).order_by("full_name", "username")


class ManagerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name()


class AssignForm(ServiceErrorsMixin, forms.Form):
    manager = ManagerChoiceField(
        label=_("Manager"), queryset=User.objects.none(), required=False, empty_label=_("— nobody —")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = active_managers()


class QualifyForm(ServiceErrorsMixin, forms.Form):
    """The counterparty is optional: without it the lead's linked one is used, or a new
    one is made from what the lead tells."""

    counterparty = LookupField(
        "counterparty",
        label=_("Counterparty"),
        required=False,
        widget=LookupWidget(attrs={"placeholder": _("— the lead's own or a new one —")}),
    )
    title = forms.CharField(label=_("Deal title"), max_length=300, required=False)


class IntakeTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        help_text=_("Where it is used, e.g. «Website form» or «Mango PBX»."),
    )
    source = forms.ChoiceField(
        label=_("Source"), choices=[("", _("Any source"))] + list(Lead.Source.choices), required=False
    )
