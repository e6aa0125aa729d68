"""``{% booking_waybills booking %}``: the waybills of a booking with its settlement, for the
booking page (three queries, whatever the number of waybills)."""

from django import template

from arenda.billing.overtime import settlement
from arenda.bookings.waybills import RECORDING_STATUSES
from arenda.core.roles import Action, can, has_special

register = template.Library()


@register.inclusion_tag("bookings/_waybills.html", takes_context=True)
def booking_waybills(context, booking):
    user = context["request"].user
    if not can(user, Action.VIEW, "waybill"):
        return {"visible": False}
    waybills = list(booking.waybills.select_related("driver", "unit"))
    closed = booking.status in ("closed", "cancelled")
    return {
        "visible": True,
        "booking": booking,
        "waybills": waybills,
        "settlement": settlement(booking) if waybills else None,
        "may_add": can(user, Action.ADD, "waybill") and booking.status in RECORDING_STATUSES,
        "may_change": can(user, Action.CHANGE, "waybill") and not closed,
        "see_pay": has_special(user, "view_driver_pay"),
    }
