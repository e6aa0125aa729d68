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

from django.core.exceptions import FieldDoesNotExist, ValidationError
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


def _any(conditions, model=None) -> Q:
    conditions = list(conditions)
    if not conditions:
        return NOTHING
    if model is not None and len(conditions) > 1:
        return _union(conditions, model)
    return reduce(operator.or_, conditions)


def _relations(condition: Q, model) -> frozenset[str]:
    """The relations of ``model`` a condition reaches across (``counterparty`` of
    ``counterparty__name__icontains``)."""
    found = set()
    for child in condition.children:
        if isinstance(child, Q):
            found |= _relations(child, model)
            continue
        head = child[0].split("__", 1)[0]
        try:
            field = model._meta.get_field(head)
        except FieldDoesNotExist:  # ``pk``: the model's own
            continue
        if field.is_relation:
            found.add(head)
    return frozenset(found)


def _union(conditions: list[Q], model) -> Q:
    """``a OR b`` where ``b`` reaches across a join is one scan of the joined rows: no index
    serves it (with 100 000 deals, a search went through all of them twice, once to count).
    As ``pk IN (rows with a UNION ALL rows with b)`` each part is its own query, served by
    its own table's (trigram) indexes — see docs/large-lists.md. Conditions on the model's
    own fields stay one part; an OR of those alone stays an OR."""
    groups: dict[frozenset[str], list[Q]] = {}
    for condition in conditions:
        groups.setdefault(_relations(condition, model), []).append(condition)
    if set(groups) == {frozenset()}:
        return reduce(operator.or_, conditions)
    manager = model._base_manager
    parts = [manager.filter(reduce(operator.or_, group)).order_by().values("pk") for group in groups.values()]
    return Q(pk__in=parts[0].union(*parts[1:], all=True))


@dataclass(frozen=True)
class Search:
    """The fields a list searches, by kind (lookups as in ``filter()``, across relations)."""

    text: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    inns: tuple[str, ...] = ()
    plates: tuple[str, ...] = ()
    # exact integers: an id, a number people quote
    numbers: tuple[str, ...] = ()

    def q(self, typed: str, model=None) -> Q:
        """``Q()`` (everything) when nothing is typed; otherwise what the text finds. Given
        the ``model`` searched, conditions across relations are ORed as a union of row ids
        (``_union``), which the indexes serve."""
        if not (typed or "").strip():
            return Q()
        text = clean(typed)
        if not text:
            return NOTHING
        found = [self._words(text, model), self._phones(text), self._inns(text), self._plates(text)]
        found.append(self._numbers(text))
        return _any((c for c in found if c is not None), model)

    def _words(self, text: str, model=None) -> Q | None:
        fields = (*self.text, *self.phones, *self.plates)
        typed = words(text)
        if not fields or not typed:
            return None
        per_word = []
        for word in typed:
            match = [Q(**{f"{name}__icontains": word}) for name in fields]
            if word.isascii() and word.isdigit() and len(word) >= MIN_INN_DIGITS:
                match += [Q(**{f"{name}__contains": word}) for name in self.inns]
            per_word.append(_any(match, model))
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
