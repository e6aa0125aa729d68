from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import get_format
from django.utils.html import format_html

from arenda.core.formats import format_plate
from arenda.core.money import format_rub

register = template.Library()


PLACES = {n: Decimal(1).scaleb(-n) for n in range(4)}


def fixed(value, places: int, trim: bool) -> str:
    """Django's ``floatformat`` (``-places`` when ``trim``, else ``places``) for a number,
    without its per-call machinery: half-up to ``places``, a whole number without decimals
    when ``trim``, the active language's decimal separator, no grouping."""
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if trim and number == number.to_integral_value():  # whole before rounding, as floatformat
        return str(int(number))
    number = number.quantize(PLACES[places], rounding=ROUND_HALF_UP)
    text = f"{number if number else abs(number):.{places}f}"  # no «-0,00»
    return text.replace(".", get_format("DECIMAL_SEPARATOR"))


def display(value, kind: str) -> str:
    if value is None or value == "":
        return "—"
    if kind == "money":
        return format_rub(value)
    if kind == "date" and isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if kind in ("hours", "number"):
        return fixed(value, 2, trim=True)
    if kind == "km":
        return fixed(value, 1, trim=True)
    if kind == "percent":
        return fixed(Decimal(value) * 100, 1, trim=False) + "\u00a0%"
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
