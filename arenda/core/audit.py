"""The audit trail of access: sign-ins (and failures), API tokens issued and revoked, users'
roles and rights, 1C bases, intake tokens, drivers' pay, drivers' messenger bindings, and exports of reports with pay.

``record`` writes one ``AuditEvent``: who (the acting user), when, from which address (the
request's client, ``core/network.py``, kept for the request by ``AuditAddressMiddleware``),
what. The table is append-only: events are never changed (a database trigger refuses an
UPDATE on both databases) and only ``purge`` removes those older than
``AUDIT_RETENTION_DAYS``. Sign-ins are Django's own auth signals — the one hook every way
of signing in (the page, the admin, the API's token) goes through.
"""

import contextvars
import logging
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.utils import timezone
from django_tasks import task

from arenda.core.network import client_address

log = logging.getLogger(__name__)


class Kind:
    """The events' names (``AuditEvent.Kind`` holds their labels)."""

    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_OUT = "sign_out"
    API_TOKEN_ISSUED = "api_token_issued"
    API_TOKEN_REVOKED = "api_token_revoked"
    USER_CREATED = "user_created"
    USER_ACCESS_CHANGED = "user_access_changed"
    USER_DELETED = "user_deleted"
    ACCOUNTING_BASE_CHANGED = "accounting_base_changed"
    INTAKE_TOKEN_CREATED = "intake_token_created"
    INTAKE_TOKEN_REVOKED = "intake_token_revoked"
    PAY_CHANGED = "pay_changed"
    REPORT_EXPORTED = "report_exported"
    MESSENGER_INVITE_ISSUED = "messenger_invite_issued"
    MESSENGER_BOUND = "messenger_bound"
    MESSENGER_UNLINKED = "messenger_unlinked"
    CHANNEL_CHANGED = "channel_changed"


def _events():
    # Looked up when used: this module is imported by the core app's config, before models.
    return apps.get_model("core", "AuditEvent")


_address: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_address", default=None)


class AuditAddressMiddleware:
    """Keeps the request's client address for the events written while it is served."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _address.set(client_address(request) or None)
        try:
            return self.get_response(request)
        finally:
            _address.reset(token)


def record(
    kind: str, *, by=None, username: str = "", target=None, summary: str = "", request=None, **details
):
    """Write one event. ``by``: the acting user (None: the system or an anonymous caller);
    ``target``: what it was about (a record, or its description)."""
    user = by if getattr(by, "is_authenticated", False) else None
    address = client_address(request) if request is not None else _address.get()
    return _events().objects.create(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user else ""))[:150],
        address=address or None,
        target=str(target)[:200] if target is not None else "",
        summary=str(summary)[:500],
        details=details,
    )


@task()
def purge_old_events() -> int:
    """Daily (``PERIODIC_JOBS``): the events past the retention period go."""
    return purge()


def purge(now=None) -> int:
    """Remove the events older than the retention period (the periodic job)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _rows = _events().objects.filter(at__lt=cutoff).delete()
    return deleted


# --- Django's auth signals ------------------------------------------------------------------------
def _signed_in(sender, request, user, **kwargs):
    record(Kind.SIGN_IN, by=user, request=request)


def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        record(Kind.SIGN_OUT, by=user, request=request)


def _sign_in_failed(sender, credentials, request=None, **kwargs):
    record(Kind.SIGN_IN_FAILED, username=str(credentials.get("username", "")), request=request)


def connect() -> None:
    """Called once, from the core app's ready()."""
    user_logged_in.connect(_signed_in, dispatch_uid="arenda-audit-sign-in")
    user_logged_out.connect(_signed_out, dispatch_uid="arenda-audit-sign-out")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="arenda-audit-sign-in-failed")
