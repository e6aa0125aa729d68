from decimal import Decimal

import pytest
from django.utils import translation

from arenda.core.formats import format_hours, format_number


@pytest.mark.parametrize(
    ("value", "ru", "en"),
    [
        (Decimal("3.00"), "3", "3"),
        (Decimal("3.50"), "3,5", "3.5"),
        (Decimal("12.25"), "12,25", "12.25"),
        (Decimal("10"), "10", "10"),
        (Decimal("100.00"), "100", "100"),
        (Decimal("0.5"), "0,5", "0.5"),
        (Decimal("2.005"), "2,01", "2.01"),
        ("8", "8", "8"),
        (Decimal("-1.50"), "-1,5", "-1.5"),
    ],
)
def test_numbers_drop_trailing_zeros_and_take_the_languages_separator(value, ru, en):
    with translation.override("ru"):
        assert format_number(value) == ru
    with translation.override("en"):
        assert format_number(value) == en


def test_hours_in_both_languages():
    with translation.override("ru"):
        assert format_hours(Decimal("3.00")) == "3 ч"
        assert format_hours(Decimal("3.50")) == "3,5 ч"
    with translation.override("en"):
        assert format_hours(Decimal("3.50")) == "3.5 h"
