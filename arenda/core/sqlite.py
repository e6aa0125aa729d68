"""Case-insensitive search of Cyrillic text on SQLite.

SQLite's own LIKE folds the case of ASCII letters only, so ``icontains`` (``?search=``,
list filters) would not find «мостострой» in «ООО «Мостострой»». Django uses LIKE only
for the case-insensitive lookups on SQLite (and ``contains``, which SQLite never treated
as case-sensitive), so LIKE is replaced on each new connection by one that folds any case.
PostgreSQL needs nothing: Django uses UPPER(...) LIKE UPPER(...) there.
"""

import re
from functools import lru_cache

from django.db.backends.signals import connection_created


@lru_cache(maxsize=256)
def _pattern(like: str, escape: str) -> re.Pattern:
    parts, chars = [], iter(like)
    for char in chars:
        if char == escape:
            parts.append(re.escape(next(chars, "")))
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | re.IGNORECASE)


def _like(pattern, value, escape="\\"):
    if pattern is None or value is None:
        return None
    return _pattern(str(pattern), escape).fullmatch(str(value)) is not None


def _install(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function("like", 2, _like, deterministic=True)
        connection.connection.create_function("like", 3, _like, deterministic=True)


def install_unicode_like():
    connection_created.connect(_install, dispatch_uid="arenda-sqlite-unicode-like")
