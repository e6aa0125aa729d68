"""Absolute links for messages that leave the site (a driver's trip page in a Telegram
order, a document in an e-mail): no request to build them from, so the address is
``PUBLIC_URL`` (docs/operations.md), else the first of ``ALLOWED_HOSTS``."""

from django.conf import settings


def public_base() -> str:
    base = (settings.PUBLIC_URL or "").rstrip("/")
    if base:
        return base
    hosts = [h for h in settings.ALLOWED_HOSTS if h and h != "*" and not h.startswith(".")]
    return f"https://{hosts[0]}" if hosts else ""


def absolute(path: str) -> str:
    """``path`` (from ``reverse``) as a full address."""
    return public_base() + path
