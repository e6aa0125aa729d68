"""Stored values as a person reads them. Every layer that shows a value uses these: the
pages, the printed invoice, the orders sent to drivers, the reports."""

import re
from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.translation import gettext as _

from arenda.core.crypto import EncryptedTextField
from arenda.core.money import format_rub
from arenda.core.validators import format_phone


def _is_money(model_field) -> bool:
    return (
        isinstance(model_field, models.DecimalField)
        and model_field.max_digits == 14
        and model_field.decimal_places == 2
    )


def format_value(model_field, value, related_names: dict | None = None) -> str:
    """How a person reads a stored value: choices by label, money in roubles, phones and
    plates formatted, dates in the company time zone, secrets never."""
    if isinstance(model_field, EncryptedTextField):
        return _("set") if value else _("not set")
    if value is None or value == "":
        return "—"
    if model_field.is_relation:
        if isinstance(value, models.Model):
            return str(value)
        return (related_names or {}).get(value, f"#{value}")
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.BooleanField):
        return _("yes") if value else _("no")
    if _is_money(model_field):
        return format_rub(value)
    if isinstance(value, Decimal):
        return floatformat(value, "-2")
    if isinstance(model_field, models.DateTimeField):
        return date_filter(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(model_field, models.DateField):
        return date_filter(value, "SHORT_DATE_FORMAT")
    if model_field.name == "phone":
        return phone_display(value)
    if model_field.name == "plate":
        return format_plate(value)
    return str(value)


def display_value(obj, name: str) -> str:
    model_field = obj._meta.get_field(name)
    return format_value(model_field, getattr(obj, name))


def phone_display(value: str) -> str:
    """A phone that never breaks across lines: no-break spaces, non-breaking hyphens."""
    return format_phone(value).replace(" ", "\u00a0").replace("-", "\u2011")


def format_plate(value: str) -> str:
    """«А123ВС77» → «А 123 ВС 77», «1234АВ77» → «1234 АВ 77», as written on the plate."""
    match = re.match(r"^(\D?)(\d{3,4})(\D{2})(\d{2,3})$", value or "")
    return " ".join(part for part in match.groups() if part) if match else value


def format_number(value, places: int = 2) -> str:
    """«3», «3,5», «12,25» — a quantity (hours, km) rounded to ``places``, without trailing
    zeros, with the active language's decimal separator (a comma in Russian)."""
    number = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = floatformat(number, -places)
    if "," in text or "." in text:
        text = text.rstrip("0").rstrip(",.")
    return text


def format_hours(value) -> str:
    """«3 ч», «3,5 ч» in Russian; «3.5 h» in English."""
    return _("%(hours)s h") % {"hours": format_number(value)}
