from datetime import date
from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import format_html

from arenda.core.formats import format_plate
from arenda.core.money import format_rub

register = template.Library()


def display(value, kind: str) -> str:
    if value is None or value == "":
        return "—"
    if kind == "money":
        return format_rub(value)
    if kind == "date" and isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if kind == "hours":
        return floatformat(value, "-2")
    if kind == "km":
        return floatformat(value, "-1")
    if kind == "number":
        return floatformat(value, "-2")
    if kind == "percent":
        return floatformat(Decimal(value) * 100, 1) + "\u00a0%"
    return str(value)


@register.simple_tag
def report_cell(row, column):
    """One cell of a report table, a link where the row has one for that column."""
    value = row.get(column.key)
    text = display(value, column.kind)
    if column.key == "plate" and value:
        text = format_plate(value)
    url = (row.get("links") or {}).get(column.key)
    if url:
        return format_html('<a href="{}">{}</a>', url, text)
    return text


@register.filter
def show(value, kind):
    return display(value, kind)
