from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy
from simple_history.admin import SimpleHistoryAdmin

from arenda.core import audit
from arenda.core.models import AuditEvent, CalendarDay, CompanySettings, User
from arenda.core.roles import Action, can, has_special, role_of
from arenda.core.user_services import access_of, audit_access_change


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


class ReadOnlyAdminMixin:
    """A record the admin shows and never writes (something else writes it: a service, a
    flow, the customer's page). Put it before the class that grants the rights."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HistoryAdmin(SimpleHistoryAdmin):
    """django-simple-history's admin, with a version page that answers 404 for an address
    that is not a version (a relative link on the page, such as the user form's
    «../password/», would otherwise reach it and fail with a 500)."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if not str(version_id).isdigit():
            raise Http404
        return super().history_form_view(request, object_id, version_id, extra_context)


# Any active user with a role may open the admin; what they see there follows the matrix.
admin.site.has_permission = lambda request: role_of(request.user) is not None
admin.site.site_header = _("Arenda administration")
admin.site.site_title = _("Arenda")


@admin.register(User)
class UserAdmin(RoleAdminMixin, DjangoUserAdmin, HistoryAdmin):
    resource = "user"
    list_display = ("username", "full_name", "role", "is_active", "last_login")
    list_filter = ("role", "may_see_driver_pay", "is_active")
    search_fields = ("username", "full_name", "email", "phone")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (pgettext_lazy("user details", "Person"), {"fields": ("full_name", "email", "phone")}),
        (_("Access"), {"fields": ("role", "may_see_driver_pay", "is_active", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "full_name", "role", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined")

    def save_model(self, request, obj, form, change):
        before = access_of(User.objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)
        if change:
            audit_access_change(before=before, user=obj, by=request.user)
        else:
            audit.record(
                audit.Kind.USER_CREATED, by=request.user, target=obj.get_username(), **access_of(obj)
            )

    def delete_model(self, request, obj):
        username = obj.get_username()
        super().delete_model(request, obj)
        audit.record(audit.Kind.USER_DELETED, by=request.user, target=username)

    def delete_queryset(self, request, queryset):
        names = list(queryset.values_list("username", flat=True))
        super().delete_queryset(request, queryset)
        for username in names:
            audit.record(audit.Kind.USER_DELETED, by=request.user, target=username)


class ManageUsersOnly:
    """Only who manages users (the administrator) opens it."""

    def has_module_permission(self, request):
        return has_special(request.user, "manage_users")

    def has_view_permission(self, request, obj=None):
        return has_special(request.user, "manage_users")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, ManageUsersOnly, admin.ModelAdmin):
    """The audit trail of access: read and filtered, never changed."""

    list_display = ("at", "kind", "username", "address", "target", "summary")
    list_filter = ("kind", "at")
    search_fields = ("username", "address", "target", "summary")
    date_hierarchy = "at"
    list_per_page = 100

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class AuditedTokenAdmin(ManageUsersOnly, TokenAdmin):
    """API tokens: issuing and revoking one here is an audit event too."""

    def has_add_permission(self, request):
        return has_special(request.user, "manage_users")

    def has_delete_permission(self, request, obj=None):
        return has_special(request.user, "manage_users")

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(audit.Kind.API_TOKEN_ISSUED, by=request.user, target=obj.user.get_username())

    def delete_model(self, request, obj):
        username = obj.user.get_username()
        super().delete_model(request, obj)
        audit.record(audit.Kind.API_TOKEN_REVOKED, by=request.user, target=username)

    def delete_queryset(self, request, queryset):
        names = list(queryset.values_list("user__username", flat=True))
        super().delete_queryset(request, queryset)
        for username in names:
            audit.record(audit.Kind.API_TOKEN_REVOKED, by=request.user, target=username)


@admin.register(CompanySettings)
class CompanySettingsAdmin(RoleAdminMixin, HistoryAdmin):
    resource = "company_settings"
    list_display = ("__str__", "transit_buffer_minutes")


@admin.register(CalendarDay)
class CalendarDayAdmin(RoleAdminMixin, HistoryAdmin):
    """The admin's overrides of the working calendar (docs/working-calendar.md)."""

    resource = "company_settings"
    list_display = ("date", "is_working", "start", "end", "note")
    list_filter = ("is_working",)
    date_hierarchy = "date"

    def has_add_permission(self, request):
        return can(request.user, Action.ADD, self.resource) and not CompanySettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
