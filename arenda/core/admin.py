from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from arenda.core.models import CompanySettings, User
from arenda.core.roles import Action, can, role_of


class RoleAdminMixin:
    """Makes the Django admin obey the same permission matrix as the API and the UI."""

    resource: str

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        return can(request.user, Action.VIEW, self.resource)

    def has_add_permission(self, request, *args):
        return can(request.user, Action.ADD, self.resource)

    def has_change_permission(self, request, obj=None):
        return can(request.user, Action.CHANGE, self.resource)

    def has_delete_permission(self, request, obj=None):
        return can(request.user, Action.DELETE, self.resource)


# Any active user with a role may open the admin; what they see there follows the matrix.
admin.site.has_permission = lambda request: role_of(request.user) is not None
admin.site.site_header = _("Arenda administration")
admin.site.site_title = _("Arenda")


@admin.register(User)
class UserAdmin(RoleAdminMixin, DjangoUserAdmin, SimpleHistoryAdmin):
    resource = "user"
    list_display = ("username", "full_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("username", "full_name", "email", "phone")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (pgettext_lazy("user details", "Person"), {"fields": ("full_name", "email", "phone")}),
        (_("Access"), {"fields": ("role", "is_active", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "full_name", "role", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined")


@admin.register(CompanySettings)
class CompanySettingsAdmin(RoleAdminMixin, SimpleHistoryAdmin):
    resource = "company_settings"
    list_display = ("__str__", "transit_buffer_minutes")

    def has_add_permission(self, request):
        return can(request.user, Action.ADD, self.resource) and not CompanySettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
