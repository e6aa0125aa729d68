"""A supplier's Telegram chat, bound to the supplier by an invite link — as a driver's is
(``bookings/driver_link.py``), so that a «Заявка поставщику» can go to Telegram too
(``bookings/supply_requests.py``, docs/supplier-request.md).

The manager gives the supplier ``t.me/<bot>?start=sup_<token>`` (a link and a QR code on
the supplier's page); opening it sends ``/start sup_<token>`` to the bot and
``bind_supplier`` makes that chat the supplier's (``flows/telegram.py`` routes it here). The
forms never set the chat. A link binds once, within ``DRIVER_INVITE_DAYS``, and only while it
is the supplier's current one (a new link replaces it). Binding and unlinking are audit
events (docs/security.md).
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from arenda.core import audit
from arenda.core.services import locked, set_author
from arenda.directory.models import Supplier
from arenda.integrations.messaging import webhook

INVITE_PREFIX = "sup_"


def expires_at(supplier: Supplier):
    issued = supplier.telegram_invite_issued_at
    return issued + timedelta(days=settings.DRIVER_INVITE_DAYS) if issued else None


def invite_valid(supplier: Supplier) -> bool:
    expiry = expires_at(supplier)
    return bool(supplier.telegram_invite_token) and expiry is not None and expiry > timezone.now()


def invite_link(supplier: Supplier) -> str:
    return (
        webhook.invite_link(INVITE_PREFIX + supplier.telegram_invite_token) if invite_valid(supplier) else ""
    )


@transaction.atomic
def supplier_invite(*, supplier: Supplier, by, regenerate: bool = False) -> Supplier:
    """The supplier's invite token, made when there is no valid one; ``regenerate`` replaces
    it, so the old link binds nobody any more."""
    supplier = locked(Supplier, supplier.pk)
    if not regenerate and invite_valid(supplier):
        return supplier
    supplier.telegram_invite_token = secrets.token_urlsafe(18)  # 24 characters
    supplier.telegram_invite_issued_at = timezone.now()
    set_author(supplier, by)
    supplier.save(update_fields=["telegram_invite_token", "telegram_invite_issued_at", "updated_at"])
    audit.record(audit.Kind.MESSENGER_INVITE_ISSUED, by=by, target=supplier, supplier=supplier.pk)
    return supplier


@transaction.atomic
def supplier_unlink(*, supplier: Supplier, by) -> Supplier:
    """Requests stop going to the supplier's chat."""
    supplier = locked(Supplier, supplier.pk)
    old_chat = supplier.telegram_chat_id
    supplier.telegram_chat_id = ""
    supplier.messenger_bound_at = None
    set_author(supplier, by)
    supplier.save(update_fields=["telegram_chat_id", "messenger_bound_at", "updated_at"])
    if old_chat:
        audit.record(
            audit.Kind.MESSENGER_UNLINKED, by=by, target=supplier, supplier=supplier.pk, chat=old_chat
        )
    return supplier


def _said(message) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(message)


def bind_supplier(*, payload: str, chat_id: str, user: dict) -> str | None:
    """``/start sup_<token>``: this chat is now the supplier's. Runs in the webhook's
    transaction; None when the token is unknown (a used or replaced link is unknown: the
    token is cleared on use), a refusal when it has expired."""
    if not payload:
        return None
    supplier = Supplier.objects.select_for_update().filter(telegram_invite_token=payload).first()
    if supplier is None:
        return None
    if not invite_valid(supplier):
        return _said(_("This invite link has expired. Ask your manager for a new one."))
    now = timezone.now()
    supplier.telegram_chat_id = str(chat_id)
    supplier.telegram_invite_token = ""  # consumed: the link binds nobody again
    supplier.messenger_bound_at = now
    supplier.save(
        update_fields=["telegram_chat_id", "telegram_invite_token", "messenger_bound_at", "updated_at"]
    )
    audit.record(audit.Kind.MESSENGER_BOUND, target=supplier, supplier=supplier.pk, chat=str(chat_id))
    with translation.override(settings.LANGUAGE_CODE):
        return _("Hello, %(supplier)s! From now on, our requests for machinery will come here.") % {
            "supplier": supplier.name
        }
