"""The deal form: validates (the model's rules via full_clean); the services write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from arenda.core.ui import ServiceForm
from arenda.crm.models import Deal


class DealForm(ServiceForm):
    class Meta:
        model = Deal
        fields = ["title", "counterparty", "contact", "organization", "manager", "stage", "lost_reason"]
        widgets = {"lost_reason": forms.Textarea(attrs={"rows": 2})}

    def adjust_for_user(self, user):
        if not self.instance.pk and not self.is_bound:
            self.initial.setdefault("manager", user.pk)

    def clean(self):
        data = super().clean()
        contact, counterparty = data.get("contact"), data.get("counterparty")
        if contact is not None and counterparty is not None and contact.counterparty_id != counterparty.pk:
            self.add_error("contact", _("The contact belongs to another counterparty."))
        return data
