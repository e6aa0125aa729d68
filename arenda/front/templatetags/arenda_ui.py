from functools import cache

from django import template
from django.contrib.staticfiles import finders
from django.utils.safestring import mark_safe

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


@cache
def _static_text(path: str) -> str:
    found = finders.find(path)
    if not found:
        raise template.TemplateSyntaxError(f"static_text: no static file {path!r}")
    with open(found, encoding="utf-8") as handle:
        return handle.read()


@register.simple_tag
def static_text(path):
    """A static file's text, for documents rendered outside the browser (WeasyPrint's PDFs)
    that share a stylesheet with a web page; web pages link the file instead (CSP)."""
    return mark_safe(_static_text(path))  # noqa: S308 — our own static file
