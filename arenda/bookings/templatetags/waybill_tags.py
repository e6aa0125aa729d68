"""``{% booking_waybills panel %}``: the waybills of a booking with its settlement, for the
booking page, from the context its view made (``waybill_views.waybills_panel``)."""

from django import template

register = template.Library()


@register.inclusion_tag("bookings/_waybills.html", takes_context=True)
def booking_waybills(context, panel: dict):
    return {"request": context["request"], "csrf_token": context.get("csrf_token"), **panel}
