"""Money: always Decimal, always rounded half-up to kopecks here and nowhere else."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db.models import BigIntegerField, Value
from django.db.models.functions import Cast, Round

KOPECK = Decimal("0.01")


def to_money(value) -> Decimal:
    """Decimal rounded half-up to kopecks. Floats are refused: they are not exact."""
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a str, int or Decimal")
    try:
        amount = Decimal(value)
        # NaN quantizes to NaN without complaint; infinities raise below.
        if not amount.is_finite():
            raise InvalidOperation
        return amount.quantize(KOPECK, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"{value!r} is not an amount of money")


def format_rub(value) -> str:
    """«12 500,00 ₽» — Russian grouping with a narrow no-break space and a decimal comma."""
    amount = to_money(value)
    sign = "-" if amount < 0 else ""
    whole, frac = f"{abs(amount):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return sign + "\u202f".join(groups) + "," + frac + "\u00a0₽"


def vat_rate_percent(vat_rate: str) -> Decimal | None:
    """ "22" → Decimal(22); "none" (not a VAT payer) → None."""
    if vat_rate in (None, "", "none"):
        return None
    return Decimal(vat_rate)


def vat_included(total, vat_rate: str) -> Decimal | None:
    """VAT inside a price that includes it: total × rate / (100 + rate), to kopecks.
    None when the seller is not a VAT payer («Без НДС»)."""
    rate = vat_rate_percent(vat_rate)
    if rate is None:
        return None
    return to_money(to_money(total) * rate / (100 + rate))


# --- in the database: whole kopecks, so sums are exact integer arithmetic (SQLite too) --------
def kopecks(expr):
    """A decimal expression (2 or fewer decimals) as an integer number of hundredths."""
    return Cast(Round(expr * Value(100)), BigIntegerField())


def product_kopecks(quantity, price):
    """round_half_up(quantity × price, 2) in kopecks, in integer arithmetic: what
    ``to_money(quantity * price)`` gives, computed by the database."""
    return Cast((kopecks(quantity) * kopecks(price) + Value(50)) / Value(100), BigIntegerField())


def rubles(k) -> Decimal:
    """Kopecks (an int, or None for none) → Decimal roubles."""
    return Decimal(int(k or 0)).scaleb(-2).quantize(KOPECK)
