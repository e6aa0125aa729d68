"""Bookings in the Django admin are for looking, not for working: a booking changes
status only through its actions (reserve, confirm, cancel…) in the UI or the API, so
unit, driver, times and status are read-only here. On PostgreSQL the exclusion
constraint would refuse an overlap from here anyway."""

from django.contrib import admin

from arenda.bookings.models import Booking, CalendarFeed, SupplyOrder
from arenda.core.admin import HistoryAdmin, RoleAdminMixin


@admin.register(Booking)
class BookingAdmin(RoleAdminMixin, HistoryAdmin):
    resource = "booking"
    list_display = ("id", "deal", "equipment_type", "start", "end", "unit", "driver", "status")
    list_filter = ("status", "equipment_type")
    search_fields = (
        "deal__title",
        "deal__counterparty__name",
        "unit__plate",
        "driver__full_name",
        "site_address",
    )
    list_select_related = ("deal", "equipment_type", "unit", "driver")
    date_hierarchy = "start"
    readonly_fields = (
        "deal",
        "unit",
        "driver",
        "status",
        "start",
        "end",
        "busy_until",
        "cancel_reason",
        "created_by",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SupplyOrder)
class SupplyOrderAdmin(RoleAdminMixin, HistoryAdmin):
    resource = "supply_order"
    list_display = ("id", "booking", "supplier", "unit_plate", "driver_name", "cost_per_hour", "status")
    list_filter = ("status", "supplier")
    list_select_related = ("booking", "supplier")
    readonly_fields = ("booking", "status")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(RoleAdminMixin, admin.ModelAdmin):
    resource = "booking"
    list_display = ("kind", "user", "driver", "unit", "created_at")
    list_filter = ("kind",)
    exclude = ("token",)

    def has_add_permission(self, request):
        return False
