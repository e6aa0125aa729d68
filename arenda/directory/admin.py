"""The Django admin for reference data. Saves and deletes go through the services, so
the admin validates and records history exactly like the API and the UI."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from arenda.core.admin import HistoryAdmin, ReadOnlyAdminMixin, RoleAdminMixin
from arenda.core.roles import Action, can, can_change_pay, can_see_pay, has_special, hidden_pay_fields
from arenda.core.services import RecordInUse
from arenda.directory import models as m
from arenda.directory.services import (
    DOCUMENT_FIELDS,
    SERVICES,
    accounting_base_create,
    accounting_base_update,
    equipment_type_set_requirements,
)


class ServiceAdmin(RoleAdminMixin, HistoryAdmin):
    def save_model(self, request, obj, form, change):
        create, update, _delete = SERVICES[type(obj)]
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if change:
            update(instance=obj, by=request.user, **data)
        else:
            data = {name: value for name, value in form.cleaned_data.items() if name in self._concrete(obj)}
            saved = create(by=request.user, **data)
            obj.pk = saved.pk

    @staticmethod
    def _concrete(obj):
        return {f.name for f in obj._meta.concrete_fields if not f.primary_key}

    def delete_model(self, request, obj):
        try:
            SERVICES[type(obj)][2](instance=obj, by=request.user)
        except RecordInUse as exc:
            self.message_user(request, f"{obj}: {', '.join(map(str, exc.protected))}", messages.ERROR)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(m.Organization)
class OrganizationAdmin(ServiceAdmin):
    resource = "organization"
    list_display = ("name", "inn", "kpp", "vat_rate", "is_active")
    search_fields = ("name", "full_name", "inn")


class AccountingBaseAdminForm(forms.ModelForm):
    """The password is write-only here too: never shown, blank keeps the stored one — unless
    the OData URL or the user changes, when the model asks for it again
    (``AccountingBase.clean``; docs/security.md, «Outbound calls and 1C credentials»)."""

    new_password = forms.CharField(
        label=_("1C password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Write-only. Leave blank to keep the stored password."),
    )

    class Meta:
        model = m.AccountingBase
        fields = ["name", "organization", "kind", "odata_url", "username", "is_active"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_password"):
            # Before the model's validation (``_post_clean``), so that it sees the password given.
            self.instance.password = cleaned["new_password"]
        return cleaned

    def _update_errors(self, errors):
        # The model names ``password``; the field here is ``new_password``.
        if hasattr(errors, "error_dict") and "password" in errors.error_dict:
            errors.error_dict["new_password"] = errors.error_dict.pop("password")
        super()._update_errors(errors)


@admin.register(m.AccountingBase)
class AccountingBaseAdmin(ServiceAdmin):
    resource = "accounting_base"
    form = AccountingBaseAdminForm
    list_display = ("name", "organization", "kind", "odata_url", "is_active")
    list_filter = ("kind", "is_active", "organization")
    exclude = ("password",)

    def save_model(self, request, obj, form, change):
        password = form.cleaned_data.get("new_password")
        fields = AccountingBaseAdminForm.Meta.fields
        if change:
            data = {name: form.cleaned_data[name] for name in form.changed_data if name in fields}
            if password:
                data["password"] = password
            accounting_base_update(instance=obj, by=request.user, **data)
        else:
            data = {name: form.cleaned_data[name] for name in fields if name in form.cleaned_data}
            saved = accounting_base_create(by=request.user, **data, password=password or "")
            obj.pk = saved.pk


class ContactInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Read-only here: contacts are written through their own admin (and its service)."""

    model = m.Contact
    extra = 0
    fields = ("full_name", "phone", "email", "position")
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return can(request.user, Action.VIEW, "contact")


@admin.register(m.Counterparty)
class CounterpartyAdmin(ServiceAdmin):
    resource = "counterparty"
    list_display = ("name", "kind", "inn", "kpp", "accounting_base", "prepayment_required")
    list_filter = ("kind", "accounting_base", "prepayment_required")
    search_fields = ("name", "full_name", "inn", "phone")
    inlines = [ContactInline]

    def get_readonly_fields(self, request, obj=None):
        if has_special(request.user, "set_counterparty_accounting_base"):
            return ()
        return ("accounting_base",)


@admin.register(m.Contact)
class ContactAdmin(ServiceAdmin):
    resource = "contact"
    list_display = ("full_name", "counterparty", "phone", "position")
    search_fields = ("full_name", "phone", "counterparty__name")
    list_select_related = ("counterparty",)
    autocomplete_fields = ("counterparty",)


@admin.register(m.Supplier)
class SupplierAdmin(ServiceAdmin):
    resource = "supplier"
    list_display = ("name", "inn", "phone", "is_active")
    search_fields = ("name", "inn")


class RequirementInline(RoleAdminMixin, admin.TabularInline):
    """The documents a driver of this type must hold; saved through the service."""

    resource = "equipment_type"
    model = m.EquipmentTypeRequirement
    extra = 1


@admin.register(m.EquipmentType)
class EquipmentTypeAdmin(ServiceAdmin):
    resource = "equipment_type"
    list_display = ("name",)
    search_fields = ("name",)
    inlines = [RequirementInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not m.EquipmentTypeRequirement:
            return super().save_formset(request, form, formset, change)
        wanted = [
            {"kind": row["kind"], "category": row.get("category", "")}
            for row in formset.cleaned_data
            if row and not row.get("DELETE")
        ]
        equipment_type_set_requirements(equipment_type=form.instance, requirements=wanted, by=request.user)
        # what the admin's change message reads of a saved formset
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        return None


@admin.register(m.Unit)
class UnitAdmin(ServiceAdmin):
    resource = "unit"
    list_display = ("name", "plate", "equipment_type", "capacity_t", "owner", "supplier", "is_active")
    list_filter = ("equipment_type", "owner", "is_active")
    search_fields = ("name", "plate")
    list_select_related = ("equipment_type", "supplier")


@admin.register(m.MaintenanceWindow)
class MaintenanceWindowAdmin(ServiceAdmin):
    resource = "maintenance"
    list_display = ("unit", "start", "end", "reason")
    list_select_related = ("unit",)


@admin.register(m.Driver)
class DriverAdmin(ServiceAdmin):
    """The pay (``core.roles.PAY_FIELDS``) is left out of the list, the form and the history
    for whoever may not see it, and read-only for whoever may not change it; the chat is
    bound only by the invite link (read-only here)."""

    resource = "driver"
    list_display = ("full_name", "phone", "employment", "hourly_pay", "license_valid_until", "is_active")
    list_filter = ("employment", "is_active")
    search_fields = ("full_name", "phone")
    readonly_fields = ("telegram_chat_id", "messenger_bound_at", "messenger_bound_by")

    def get_list_display(self, request):
        hidden = hidden_pay_fields(request.user)
        return [name for name in super().get_list_display(request) if name not in hidden]

    def get_sortable_by(self, request):
        return self.get_list_display(request)

    def get_exclude(self, request, obj=None):
        return [*(super().get_exclude(request, obj) or ()), *hidden_pay_fields(request.user)]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if can_see_pay(request.user) and not can_change_pay(request.user):
            fields.append("hourly_pay")
        return fields

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """The history list's «changes» column, without the fields this user may not see."""
        hidden = hidden_pay_fields(request.user)
        previous = None
        for current in historical_records:
            if previous is not None:
                delta = previous.diff_against(
                    current, excluded_fields=hidden, foreign_keys_are_objs=foreign_keys_are_objs
                )
                helper = self.get_historical_record_context_helper(request, previous)
                previous.history_delta_changes = helper.context_for_delta_changes(delta)
            previous = current

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # An old version shows (and a revert would write back) the pay of that day.
        if not can_see_pay(request.user):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(m.DriverDocument)
class DriverDocumentAdmin(ServiceAdmin):
    resource = "driver_document"
    list_display = ("driver", "kind", "categories", "number", "valid_until")
    list_filter = ("kind",)
    search_fields = ("driver__full_name", "number")
    list_select_related = ("driver",)
    readonly_fields = ("scan_name", "scan_type")

    def save_model(self, request, obj, form, change):
        create, update, _delete = SERVICES[m.DriverDocument]
        data = {name: form.cleaned_data[name] for name in DOCUMENT_FIELDS if name in form.cleaned_data}
        scan = form.cleaned_data.get("scan") if "scan" in form.changed_data else None
        scan = scan or None  # clearing a scan here is not offered: replace it instead
        if change:
            update(instance=obj, by=request.user, scan=scan, **data)
        else:
            obj.pk = create(driver=form.cleaned_data["driver"], by=request.user, scan=scan, **data).pk


@admin.register(m.DriverPayRate)
class DriverPayRateAdmin(ReadOnlyAdminMixin, RoleAdminMixin, admin.ModelAdmin):
    """Read-only: rates are written by the driver's pay change (``directory/services.py``)."""

    resource = "driver"
    list_display = ("driver", "hourly_pay", "equipment_type", "valid_from", "created_by", "created_at")
    list_select_related = ("driver", "created_by")
    search_fields = ("driver__full_name",)

    def has_module_permission(self, request):
        return can_see_pay(request.user)

    def has_view_permission(self, request, obj=None):
        return can_see_pay(request.user)


@admin.register(m.DriverInvite)
class DriverInviteAdmin(ReadOnlyAdminMixin, RoleAdminMixin, admin.ModelAdmin):
    """Read-only: who issued each invite link and when it was used (``bookings/driver_link.py``);
    the tokens themselves are not shown."""

    resource = "driver"
    list_display = ("driver", "issued_by", "issued_at", "used_at", "chat_id")
    list_select_related = ("driver", "issued_by")
    exclude = ("token",)
