"""``{% dispatch_panel %}``: the dispatch section of the booking page, with its own context
(the page's view does not need to know about dispatch)."""

from django import template

register = template.Library()


@register.inclusion_tag("bookings/_dispatch_panel.html", takes_context=True)
def dispatch_panel(context):
    from arenda.bookings.dispatch_views import panel_context

    request = context["request"]
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        **panel_context(context["booking"], request.user),
    }


@register.inclusion_tag("bookings/_dispatch_badge.html")
def delivery_badge(status):
    from arenda.bookings.dispatch import status_label

    return {"status": status, "label": status_label(status) if status else ""}
