"""Error reports to Sentry or GlitchTip (``SENTRY_DSN``; docs/metrics.md, «Errors»), without
personal data: ``scrub_event`` is the ``before_send`` of ``arenda/settings.py``. A request's
body and cookies are dropped, query-string values and credential headers are filtered, the
user is reduced to an id, and phone numbers, e-mail addresses and INNs are masked in every
remaining text (exception messages, log messages, breadcrumbs). Frames carry no local
variables (``include_local_variables=False`` in ``sentry_options``).

Imported by ``arenda/settings.py``: nothing here may touch Django's settings or models."""

import re

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import ignore_logger

FILTERED = "[Filtered]"

_SENSITIVE_HEADERS = {
    "authorization",
    "cookie",
    "set-cookie",
    "proxy-authorization",
    "x-csrftoken",
    "x-intake-token",
    "x-telegram-bot-api-secret-token",
    "x-api-key",
}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Phone numbers as people write them (+7 (912) 345-67-89, 89123456789) and INNs (10 or 12
# digits): any run of 10 or more digits, spaces, dashes and brackets holding at least 10 digits.
_DIGITS = re.compile(r"\+?\d[\d\s().-]{8,}\d")


def _mask_digits(match: re.Match) -> str:
    text = match.group(0)
    return FILTERED if sum(ch.isdigit() for ch in text) >= 10 else text


def scrub_text(text: str) -> str:
    """The text with e-mail addresses, phone numbers and INNs masked."""
    return _DIGITS.sub(_mask_digits, _EMAIL.sub(FILTERED, text))


def _scrub(value):
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def _scrub_query(query) -> str:
    if isinstance(query, list | tuple):  # [[key, value], ...]
        return "&".join(f"{pair[0]}={FILTERED}" for pair in query if pair)
    pairs = [part for part in str(query or "").split("&") if part]
    return "&".join(f"{part.split('=', 1)[0]}={FILTERED}" for part in pairs)


def _scrub_request(request: dict) -> dict:
    if "data" in request:
        request["data"] = FILTERED
    request.pop("cookies", None)
    if request.get("query_string"):
        request["query_string"] = _scrub_query(request["query_string"])
    headers = request.get("headers") or {}
    request["headers"] = {
        name: FILTERED if name.lower() in _SENSITIVE_HEADERS else scrub_text(str(value))
        for name, value in headers.items()
    }
    if request.get("url"):
        request["url"] = scrub_text(request["url"].split("?", 1)[0])
    request.pop("env", None)
    return request


def scrub_event(event: dict, hint=None) -> dict:
    """Sentry's ``before_send``: the event without personal data."""
    if isinstance(event.get("request"), dict):
        event["request"] = _scrub_request(event["request"])
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if user.get("id") is not None else {}
    for exception in (event.get("exception") or {}).get("values") or []:
        if isinstance(exception.get("value"), str):
            exception["value"] = scrub_text(exception["value"])
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
            for key in ("pre_context", "context_line", "post_context"):
                if key in frame:
                    frame[key] = _scrub(frame[key])
    if isinstance(event.get("logentry"), dict):
        event["logentry"] = _scrub(event["logentry"])
    if isinstance(event.get("message"), str):
        event["message"] = scrub_text(event["message"])
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict) and isinstance(breadcrumbs.get("values"), list):
        breadcrumbs["values"] = _scrub(breadcrumbs["values"])
    if isinstance(event.get("extra"), dict):
        event["extra"] = _scrub(event["extra"])
    return event


def init(*, dsn: str, environment: str, traces_sample_rate: float, **extra) -> None:
    """Start reporting (``arenda/settings.py``; the tests pass a ``transport``). A failed task
    is reported by the task hook (``arenda/core/observability.py``) with the task's path as a
    tag; django-tasks' own log line of it would be a second, untagged report."""
    ignore_logger("django_tasks")
    sentry_sdk.init(
        **sentry_options(dsn=dsn, environment=environment, traces_sample_rate=traces_sample_rate),
        **extra,
    )


def sentry_options(*, dsn: str, environment: str, traces_sample_rate: float) -> dict:
    """The arguments of ``sentry_sdk.init``."""
    return {
        "dsn": dsn,
        "environment": environment or None,
        "integrations": [DjangoIntegration()],
        "send_default_pii": False,
        "include_local_variables": False,
        "max_request_body_size": "never",
        "traces_sample_rate": traces_sample_rate,
        "before_send": scrub_event,
        "before_send_transaction": scrub_event,
    }
