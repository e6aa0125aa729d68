"""What a person types into a list's search box, as one ``Q``: the same search on a page
(``?q=``) and in the API (``?search=``), whatever the list.

A record is found when any of these holds:

- every word of the text (quoted phrases kept together, as DRF's ``SearchFilter`` splits
  them) is in one of its text, phone or plate fields — case-insensitive, Cyrillic too
  (``arenda/core/sqlite.py`` makes SQLite's LIKE fold any case);
- its phone (stored E.164, ``+79161234567``) holds the digits typed, however they were
  typed: «9161234», «+7 (916) 123», and «8 916 123-45-67» as «+7916123…»;
- its ИНН holds the digits typed (two or more: a single digit is in nearly every ИНН);
- its plate holds the plate typed with Latin look-alikes and spaces: «a 123 bc 77» →
  «А123ВС77» (``normalize_plate``);
- a number field (an id, a booking's number) equals the number typed («123», «№ 123»).

NUL and other control characters are dropped (PostgreSQL refuses NUL in a string), ``%``
and ``_`` are matched literally (Django escapes them for LIKE); a text that was nothing but
such characters finds nothing rather than everything.
"""

import operator
import re
import unicodedata
from dataclasses import dataclass
from functools import reduce

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import smart_split, unescape_string_literal

from arenda.core.validators import normalize_phone, normalize_plate

# Longer text is cut: each word is one LIKE per field, and no one types more.
MAX_LENGTH = 200
MAX_WORDS = 10
# A number field is matched only by what fits a bigint.
MAX_NUMBER_DIGITS = 18
MIN_PHONE_DIGITS = 3
MIN_INN_DIGITS = 2

_NUMBER = re.compile(rf"[#№]?\s*([0-9]{{1,{MAX_NUMBER_DIGITS}}})")
_DIGITS_ONLY = re.compile(r"[0-9][0-9\s\-]*")
NOTHING = Q(pk__in=[])


def clean(typed: str) -> str:
    """The text without control characters (NUL among them), trimmed and cut to size."""
    kept = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in typed or "")
    return " ".join(kept.split())[:MAX_LENGTH]


def words(text: str) -> list[str]:
    """Words as DRF's ``SearchFilter`` takes them: split on spaces and commas, a quoted
    phrase kept whole."""
    found = []
    for term in smart_split(text):
        term = term.strip(",")
        if len(term) > 1 and term[0] in "\"'" and term[0] == term[-1]:
            found.append(unescape_string_literal(term).strip())
        else:
            found.extend(part.strip() for part in term.split(","))
    return [w for w in found if w][:MAX_WORDS]


def _any(conditions) -> Q:
    conditions = list(conditions)
    return reduce(operator.or_, conditions) if conditions else NOTHING


@dataclass(frozen=True)
class Search:
    """The fields a list searches, by kind (lookups as in ``filter()``, across relations)."""

    text: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    inns: tuple[str, ...] = ()
    plates: tuple[str, ...] = ()
    # exact integers: an id, a number people quote
    numbers: tuple[str, ...] = ()

    def q(self, typed: str) -> Q:
        """``Q()`` (everything) when nothing is typed; otherwise what the text finds."""
        if not (typed or "").strip():
            return Q()
        text = clean(typed)
        if not text:
            return NOTHING
        found = [self._words(text), self._phones(text), self._inns(text), self._plates(text)]
        found.append(self._numbers(text))
        return _any(c for c in found if c is not None)

    def _words(self, text: str) -> Q | None:
        fields = (*self.text, *self.phones, *self.plates)
        typed = words(text)
        if not fields or not typed:
            return None
        per_word = []
        for word in typed:
            match = [Q(**{f"{name}__icontains": word}) for name in fields]
            if word.isascii() and word.isdigit() and len(word) >= MIN_INN_DIGITS:
                match += [Q(**{f"{name}__contains": word}) for name in self.inns]
            per_word.append(_any(match))
        return reduce(operator.and_, per_word)

    def _phones(self, text: str) -> Q | None:
        digits = re.sub(r"[^0-9]", "", text)
        if not self.phones or len(digits) < MIN_PHONE_DIGITS:
            return None
        parts = {("contains", digits)}
        if digits[0] in "78" and len(digits) > MIN_PHONE_DIGITS:
            # «8 916 …» and «7 916 …» are how +7 numbers are dialled at home
            parts.add(("startswith", "+7" + digits[1:]))
        try:
            full = normalize_phone(text)
        except ValidationError:
            full = ""
        if full:
            parts.add(("contains", full))
        return _any(Q(**{f"{name}__{lookup}": value}) for name in self.phones for lookup, value in parts)

    def _inns(self, text: str) -> Q | None:
        if not self.inns or not _DIGITS_ONLY.fullmatch(text):
            return None
        digits = re.sub(r"[^0-9]", "", text)
        lookup = "contains" if len(digits) >= MIN_INN_DIGITS else "exact"
        return _any(Q(**{f"{name}__{lookup}": digits}) for name in self.inns)

    def _plates(self, text: str) -> Q | None:
        plate = normalize_plate(text)
        if not self.plates or not plate:
            return None
        return _any(Q(**{f"{name}__icontains": plate}) for name in self.plates)

    def _numbers(self, text: str) -> Q | None:
        number = _NUMBER.fullmatch(text)
        if not self.numbers or not number:
            return None
        return _any(Q(**{name: int(number.group(1))}) for name in self.numbers)
