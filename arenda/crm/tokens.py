"""Intake tokens: the secrets websites, PBXs and other systems send in ``X-Intake-Token``.
Only the sha256 of a token is stored, so the token is shown once — when it is made."""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from arenda.core import audit
from arenda.core.services import record_create
from arenda.crm.models import IntakeToken


def token_hash(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def intake_token_create(*, name: str, source: str = "", by) -> tuple[IntakeToken, str]:
    """A new token for ``source`` (empty: any source). Returns it and its plain text —
    the only time the plain text exists outside the caller."""
    plain = secrets.token_urlsafe(32)
    token = record_create(
        IntakeToken,
        data={
            "name": name,
            "source": source or "",
            "token_hash": token_hash(plain),
            "prefix": plain[:8],
            "created_by": by if getattr(by, "is_authenticated", False) else None,
        },
        by=by,
    )
    audit.record(
        audit.Kind.INTAKE_TOKEN_CREATED,
        by=by,
        target=f"{token.name} ({token.prefix}…)",
        source=token.source or "*",
    )
    return token, plain


@transaction.atomic
def intake_token_revoke(*, token: IntakeToken, by) -> IntakeToken:
    token = IntakeToken.objects.select_for_update().get(pk=token.pk)
    if token.is_active:
        token.is_active = False
        token.revoked_at = timezone.now()
        if getattr(by, "is_authenticated", False):
            token._history_user = by
        token.save(update_fields=["is_active", "revoked_at", "updated_at"])
        audit.record(audit.Kind.INTAKE_TOKEN_REVOKED, by=by, target=f"{token.name} ({token.prefix}…)")
    return token


def intake_token_accepts(plain: str, source: str) -> bool:
    """Whether ``plain`` lets a request in for ``source``: an active token of that source
    or of any source, or the ``INTAKE_TOKEN`` of the environment. Marks the token used."""
    if settings.INTAKE_TOKEN and hmac.compare_digest(
        plain.encode("utf-8", "surrogatepass"), settings.INTAKE_TOKEN.encode()
    ):
        return True
    found = IntakeToken.objects.filter(
        Q(source=source) | Q(source=""), token_hash=token_hash(plain), is_active=True
    ).values_list("pk", flat=True)
    pk = next(iter(found), None)
    if pk is None:
        return False
    IntakeToken.objects.filter(pk=pk).update(last_used_at=timezone.now())
    return True
