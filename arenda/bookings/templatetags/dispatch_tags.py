"""``{% dispatch_panel panel %}``: the dispatch section of the booking page, from the context
its view made (``dispatch_views.panel_context``); ``{% delivery_badge status %}``: an
order's delivery status in words. Neither reads the database."""

from django import template

from arenda.bookings.dispatch import status_label

register = template.Library()


@register.inclusion_tag("bookings/_dispatch_panel.html", takes_context=True)
def dispatch_panel(context, panel: dict):
    return {"request": context["request"], "csrf_token": context.get("csrf_token"), **panel}


@register.inclusion_tag("bookings/_dispatch_badge.html")
def delivery_badge(status):
    return {"status": status, "label": status_label(status) if status else ""}
