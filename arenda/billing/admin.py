"""Invoices, payments and closing documents (acts, УПД) in the Django admin are for looking:
numbering, totals, payments, signatures and the 1C state change only through the billing
services (the pages and the API), so nothing is added, changed or deleted here."""

from django.contrib import admin

from arenda.billing.models import Act, ActLine, Invoice, InvoiceLine, Payment
from arenda.core.admin import HistoryAdmin, ReadOnlyAdminMixin, RoleAdminMixin


class ReadOnlyAdmin(ReadOnlyAdminMixin, RoleAdminMixin):
    pass


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = ("position", "description", "quantity", "unit", "price", "amount")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    fields = ("date", "amount", "source", "reference", "payer")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin, HistoryAdmin):
    resource = "invoice"
    list_display = (
        "__str__",
        "date",
        "kind",
        "status",
        "counterparty",
        "organization",
        "total",
        "paid_amount",
        "sync_status",
    )
    list_filter = ("status", "kind", "sync_status", "organization")
    search_fields = ("number", "external_number", "counterparty__name", "counterparty__inn")
    list_select_related = ("counterparty", "organization")
    date_hierarchy = "date"
    inlines = [InvoiceLineInline, PaymentInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin, HistoryAdmin):
    resource = "payment"
    list_display = ("date", "amount", "source", "reference", "invoice", "payer")
    list_filter = ("source",)
    search_fields = ("reference", "payer", "invoice__number")
    list_select_related = ("invoice",)
    date_hierarchy = "date"


class ActLineInline(admin.TabularInline):
    model = ActLine
    fields = (
        "position",
        "booking",
        "description",
        "quantity",
        "unit",
        "price",
        "amount",
        "vat_amount",
        "quantity_before",
        "amount_before",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Act)
class ActAdmin(ReadOnlyAdmin, HistoryAdmin):
    resource = "invoice"
    list_display = (
        "__str__",
        "date",
        "form",
        "status",
        "counterparty",
        "organization",
        "total",
        "signed_on",
        "sync_status",
    )
    list_filter = ("status", "form", "sync_status", "organization")
    search_fields = ("number", "external_number", "counterparty__name", "counterparty__inn")
    list_select_related = ("counterparty", "organization")
    date_hierarchy = "date"
    # The customer's link is a key: never shown.
    exclude = ("accept_token",)
    inlines = [ActLineInline]
