"""A driver's Telegram chat, bound to the driver by a personal invite link.

The manager gives the driver ``t.me/<bot>?start=drv_<token>`` (a link and a QR code on the
driver's page, or ``POST /api/v1/drivers/{id}/invite/``); opening it sends ``/start
drv_<token>`` to the bot, and ``bind_driver`` makes that chat the driver's
(``flows/telegram.py`` routes it here). This is the only way a chat is bound: the forms and
the API never set ``telegram_chat_id``. A link binds once, within ``DRIVER_INVITE_DAYS``,
and only while it is the driver's current one (a new link replaces it); each invite is a
``DriverInvite`` (who issued it, when, when it was used). Binding and unlinking are audit
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
from arenda.directory.models import Driver, DriverInvite
from arenda.integrations.messaging import webhook
from arenda.integrations.messaging.channels import max as max_channel

INVITE_PREFIX = "drv_"


def expires_at(invite: DriverInvite):
    return invite.issued_at + timedelta(days=settings.DRIVER_INVITE_DAYS)


def current_invite(driver: Driver) -> DriverInvite | None:
    """The driver's unused, unexpired invite, if any."""
    if not driver.telegram_invite_token:
        return None
    invite = DriverInvite.objects.filter(token=driver.telegram_invite_token, used_at__isnull=True).first()
    if invite is None or expires_at(invite) <= timezone.now():
        return None
    return invite


def invite_link(driver: Driver) -> str:
    return webhook.invite_link(INVITE_PREFIX + driver.telegram_invite_token) if current_invite(driver) else ""


def max_invite_link(driver: Driver) -> str:
    """The same invite in MAX (``max.ru/<bot>?start=drv_<token>``); "" without a MAX bot."""
    if not current_invite(driver):
        return ""
    return max_channel.invite_link(INVITE_PREFIX + driver.telegram_invite_token)


@transaction.atomic
def driver_invite(*, driver: Driver, by, regenerate: bool = False) -> Driver:
    """The driver's personal invite token, made when there is no valid one; ``regenerate``
    replaces it, so the old link binds nobody any more."""
    driver = locked(Driver, driver.pk)
    if not regenerate and current_invite(driver) is not None:
        return driver
    token = secrets.token_urlsafe(18)  # 24 characters
    DriverInvite.objects.create(
        driver=driver, token=token, issued_by=by if getattr(by, "is_authenticated", False) else None
    )
    driver.telegram_invite_token = token
    set_author(driver, by)
    driver.save(update_fields=["telegram_invite_token", "updated_at"])
    audit.record(audit.Kind.MESSENGER_INVITE_ISSUED, by=by, target=driver, driver=driver.pk)
    return driver


@transaction.atomic
def driver_unlink(*, driver: Driver, by) -> Driver:
    """Orders stop going to the driver's chats, Telegram and MAX (a new phone, a driver who
    left); they go by SMS or by hand until a new link is opened."""
    driver = locked(Driver, driver.pk)
    old_chats = [chat for chat in (driver.telegram_chat_id, driver.max_user_id) if chat]
    driver.telegram_chat_id = driver.max_user_id = ""
    driver.messenger_bound_at = None
    driver.messenger_bound_by = None
    set_author(driver, by)
    driver.save(
        update_fields=[
            "telegram_chat_id",
            "max_user_id",
            "messenger_bound_at",
            "messenger_bound_by",
            "updated_at",
        ]
    )
    for chat in old_chats:
        audit.record(audit.Kind.MESSENGER_UNLINKED, by=by, target=driver, driver=driver.pk, chat=chat)
    return driver


def _refused(message) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(message)


# channel → the driver's field holding the chat a link binds there.
BOUND_FIELDS = {"telegram": "telegram_chat_id", "max": "max_user_id"}


def bind_driver(*, payload: str, chat_id: str, user: dict, channel: str = "telegram") -> str | None:
    """``/start drv_<token>`` (Telegram) or the same deep link's start in MAX: this chat is
    now the driver's there (a chat belongs to one driver). Runs in the webhook's
    transaction; answers None when the token is unknown, and a refusal when the link was
    used, replaced or has expired."""
    if not payload or channel not in BOUND_FIELDS:
        return None
    field = BOUND_FIELDS[channel]
    invite = DriverInvite.objects.select_for_update().filter(token=payload).select_related("driver").first()
    if invite is None:
        return None
    if invite.used_at is not None:
        return _refused(_("This invite link has already been used. Ask your manager for a new one."))
    driver = locked(Driver, invite.driver_id)
    if driver.telegram_invite_token != payload:
        return _refused(_("This invite link has been replaced by a newer one. Ask your manager for it."))
    if expires_at(invite) <= timezone.now():
        return _refused(_("This invite link has expired. Ask your manager for a new one."))
    for other in Driver.objects.select_for_update().filter(**{field: str(chat_id)}).exclude(pk=driver.pk):
        setattr(other, field, "")
        if not (other.telegram_chat_id or other.max_user_id):
            other.messenger_bound_at = other.messenger_bound_by = None
        other.save(update_fields=[field, "messenger_bound_at", "messenger_bound_by", "updated_at"])
        audit.record(audit.Kind.MESSENGER_UNLINKED, target=other, driver=other.pk, chat=str(chat_id))
    now = timezone.now()
    invite.used_at, invite.chat_id, invite.channel = now, str(chat_id), channel
    invite.save(update_fields=["used_at", "chat_id", "channel"])
    setattr(driver, field, str(chat_id))
    driver.telegram_invite_token = ""  # consumed: the link binds nobody again
    driver.messenger_bound_at = now
    driver.messenger_bound_by = invite.issued_by
    if channel == "max" and not driver.telegram_chat_id:
        driver.preferred_channel = Driver.Channel.MAX
    driver.save(
        update_fields=[
            field,
            "telegram_invite_token",
            "messenger_bound_at",
            "messenger_bound_by",
            "preferred_channel",
            "updated_at",
        ]
    )
    audit.record(
        audit.Kind.MESSENGER_BOUND,
        target=driver,
        summary=_("invite issued by %(who)s") % {"who": invite.issued_by or "—"},
        driver=driver.pk,
        chat=str(chat_id),
        channel=channel,
        invite_issued_by=invite.issued_by_id,
    )
    with translation.override(settings.LANGUAGE_CODE):
        return _("Hello, %(name)s! From now on, your orders will come here.") % {"name": driver.full_name}
