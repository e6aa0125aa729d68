from decimal import Decimal

import pytest

from arenda.core.money import format_rub, to_money


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0.005", "0.01"),  # half-up, not banker's rounding (which gives 0.00)
        ("2.675", "2.68"),  # the float 2.675 would round to 2.67
        ("-2.675", "-2.68"),  # half away from zero
        ("0.004", "0.00"),
        ("12500", "12500.00"),
        (12500, "12500.00"),
        (Decimal("1.005"), "1.01"),
        (" 7.5 ", "7.50"),
    ],
)
def test_to_money_rounds_half_up_to_kopecks(value, expected):
    amount = to_money(value)
    assert isinstance(amount, Decimal)
    assert amount == Decimal(expected)
    assert amount.as_tuple().exponent == -2


def test_floats_refused():
    with pytest.raises(TypeError):
        to_money(2.675)


@pytest.mark.parametrize("value", ["abc", "1,5", "", None, "NaN", "Infinity", "-inf", [1]])
def test_non_amounts_refused(value):
    with pytest.raises(ValueError):
        to_money(value)


@pytest.mark.parametrize(
    "value, text",
    [
        ("12500", "12\u202f500,00\u00a0₽"),
        ("1234567.891", "1\u202f234\u202f567,89\u00a0₽"),
        ("999.995", "1\u202f000,00\u00a0₽"),
        ("0", "0,00\u00a0₽"),
        ("-1500.5", "-1\u202f500,50\u00a0₽"),
        ("-0.001", "0,00\u00a0₽"),  # rounds to zero: no "-0,00"
    ],
)
def test_format_rub(value, text):
    assert format_rub(value) == text
