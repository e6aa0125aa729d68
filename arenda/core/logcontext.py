"""What every log record says about where it came from: the request's id (``X-Request-ID``),
the signed-in user's id and, inside a background task, the task's id (docs/metrics.md,
«Logs»). ``RequestIdMiddleware`` and the task hooks (``arenda/core/observability.py``) set
them in context variables; ``ContextFilter``, on the console handler, copies them onto each
record, so the plain format and the JSON one (``LOG_FORMAT=json``) both can show them.

Imported by ``arenda/settings.py``: nothing here may touch Django's settings or models."""

import logging
import re
import uuid
from contextvars import ContextVar

from django.utils.functional import SimpleLazyObject, empty

request_id: ContextVar[str] = ContextVar("request_id", default="")
current_request: ContextVar[object | None] = ContextVar("current_request", default=None)
task_id: ContextVar[str] = ContextVar("task_id", default="")

# What a proxy or a client may send as X-Request-ID; anything else is replaced, so a header
# cannot forge log lines or carry personal data into them.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

JSON_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s %(task_id)s"


def user_id_of(request) -> int | None:
    """The id of the request's user, if authentication has already found them. A user still
    behind Django's lazy object is not loaded: a log line must not query the database."""
    if request is None:
        return None
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        user = user._wrapped
        if user is empty:
            return None
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``user_id`` and ``task_id`` to every record (empty when unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a 4xx/5xx response ("Not Found: …") after the middleware has returned,
        # with the request on the record: its id is read from there.
        request = current_request.get() or getattr(record, "request", None)
        record.request_id = request_id.get() or getattr(request, "request_id", "")
        record.user_id = user_id_of(request)
        record.task_id = task_id.get()
        return True


class RequestIdMiddleware:
    """Takes the request's id from ``X-Request-ID`` (set by the proxy) or makes one, keeps it
    for the logs while the request runs and sends it back in the response's ``X-Request-ID``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        rid = given if _VALID_ID.match(given) else uuid.uuid4().hex
        request.request_id = rid
        id_token, request_token = request_id.set(rid), current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(id_token)
            current_request.reset(request_token)
        response["X-Request-ID"] = rid
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        """Authentication has run by now: the user is looked up here, once, so that every
        line the view logs names them (a filter must not query the database itself)."""
        user = getattr(request, "user", None)
        if user is not None:
            user.is_authenticated  # noqa: B018 — loads Django's lazy user
        return None


def logging_config(*, log_format: str, level: str) -> dict:
    """The ``LOGGING`` setting: the console handler, plain (the default) or JSON lines."""
    formatters = {
        # the message alone, as before LOG_FORMAT existed
        "plain": {"format": "%(message)s"},
        "json": {"()": "pythonjsonlogger.json.JsonFormatter", "fmt": JSON_FORMAT},
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "arenda.core.logcontext.ContextFilter"}},
        "formatters": formatters,
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["context"],
                "formatter": "json" if log_format == "json" else "plain",
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"axes": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
    }
