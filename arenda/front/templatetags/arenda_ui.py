from django import template

from arenda.core.formats import format_plate, phone_display
from arenda.core.money import format_rub

register = template.Library()


@register.filter
def rub(value):
    """12500 → «12 500,00 ₽»; empty stays empty."""
    if value is None or value == "":
        return ""
    return format_rub(value)


@register.filter
def phone(value):
    return phone_display(value)


@register.filter
def plate(value):
    return format_plate(value)


@register.filter
def minutes(delta):
    """A timedelta as whole minutes (the login cool-off)."""
    return int(delta.total_seconds() // 60) if delta else 0
