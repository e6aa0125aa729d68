"""Money: always Decimal, always rounded half-up to kopecks here and nowhere else."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import BigIntegerField, Value
from django.db.models.functions import Cast, Round

KOPECK = Decimal("0.01")

# The bounds of every amount Arenda keeps, so that any line, total or sum fits its column
# (14 digits, 2 after the point) with room to add up: forms, the API and the services check
# them, and CHECK constraints hold them in the database.
MAX_PRICE = Decimal("100000000.00")  # a price or a rate per hour/km: 100 million ₽
MAX_QUANTITY = Decimal("100000")  # hours, km or pieces on one line
MAX_AMOUNT = Decimal("10000000000.00")  # a line, an invoice, a payment: 10 billion ₽
MAX_LINES = 200  # lines of one invoice, of one deal

PRICE_VALIDATORS = [MinValueValidator(0), MaxValueValidator(MAX_PRICE)]
QUANTITY_VALIDATORS = [MinValueValidator(0), MaxValueValidator(MAX_QUANTITY)]


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
