"""A report cell's number is written by ``reports.templatetags.reports.fixed``, a lean
``floatformat``: the two must agree to the character in both languages."""

from decimal import Decimal

from django.template.defaultfilters import floatformat
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from arenda.reports.templatetags.reports import display, fixed

NUMBERS = st.decimals(min_value=Decimal("-100000"), max_value=Decimal("100000"), places=4)


@given(NUMBERS)
def test_fixed_writes_what_floatformat_writes(number):
    for language in ("ru", "en"):
        with translation.override(language):
            assert fixed(number, 2, trim=True) == floatformat(number, -2)
            assert fixed(number, 1, trim=True) == floatformat(number, -1)
            assert fixed(number, 1, trim=False) == floatformat(number, 1)


def test_cells_in_russian_and_english():
    with translation.override("ru"):
        assert display(Decimal("12.50"), "hours") == "12,50"
        assert display(Decimal("12.00"), "hours") == "12"
        assert display(Decimal("340.0"), "km") == "340"
        assert display(Decimal("0.8765"), "percent") == "87,7\u00a0%"
        assert display(None, "hours") == "—"
    with translation.override("en"):
        assert display(Decimal("12.5"), "hours") == "12.50"
        assert display(3, "number") == "3"
