from django.contrib import admin

from arenda.core.admin import HistoryAdmin, ReadOnlyAdminMixin, RoleAdminMixin
from arenda.crm.models import Deal, ProposalResponse


@admin.register(Deal)
class DealAdmin(RoleAdminMixin, HistoryAdmin):
    resource = "deal"
    list_display = ("title", "counterparty", "manager", "stage", "created_at")
    list_filter = ("stage", "manager")
    search_fields = ("title", "counterparty__name", "counterparty__inn")
    list_select_related = ("counterparty", "manager")
    autocomplete_fields = ("counterparty", "contact")


@admin.register(ProposalResponse)
class ProposalResponseAdmin(ReadOnlyAdminMixin, RoleAdminMixin, admin.ModelAdmin):
    """What customers said through the КП link: a record of it, read-only (the customer's
    page writes it, ``crm.services.proposal_respond``)."""

    resource = "deal"
    list_display = ("created_at", "deal", "kind", "text")
    list_filter = ("kind",)
    search_fields = ("deal__title", "text")
    list_select_related = ("deal",)
    readonly_fields = ("deal", "kind", "text", "version", "created_at")
    fields = readonly_fields
