from django import template

from arenda.core.money import format_rub
from arenda.core.ui import format_plate
from arenda.core.validators import format_phone

register = template.Library()


@register.filter
def rub(value):
    """12500 → «12 500,00 ₽»; empty stays empty."""
    if value is None or value == "":
        return ""
    return format_rub(value)


@register.filter
def phone(value):
    """Never broken across lines: no-break spaces and non-breaking hyphens."""
    return format_phone(value).replace(" ", "\u00a0").replace("-", "\u2011")


@register.filter
def plate(value):
    return format_plate(value)


@register.filter
def minutes(delta):
    """A timedelta as whole minutes (the login cool-off)."""
    return int(delta.total_seconds() // 60) if delta else 0
