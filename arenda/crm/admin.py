from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from arenda.core.admin import RoleAdminMixin
from arenda.crm.models import Deal


@admin.register(Deal)
class DealAdmin(RoleAdminMixin, SimpleHistoryAdmin):
    resource = "deal"
    list_display = ("title", "counterparty", "manager", "stage", "created_at")
    list_filter = ("stage", "manager")
    search_fields = ("title", "counterparty__name", "counterparty__inn")
    list_select_related = ("counterparty", "manager")
    autocomplete_fields = ("counterparty", "contact")
