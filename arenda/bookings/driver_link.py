"""A driver's Telegram chat, bound to the driver by a personal invite link.

The manager gives the driver ``t.me/<bot>?start=drv_<token>`` (a link and a QR code on the
driver's page); opening it sends ``/start drv_<token>`` to the bot, and ``bind_driver``
makes that chat the driver's (``flows/telegram.py`` routes it here). From then on orders go
to that chat; regenerating the token makes the old link bind nobody.
"""

import secrets

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from arenda.core.services import locked, set_author
from arenda.directory.models import Driver
from arenda.integrations.messaging import webhook

INVITE_PREFIX = "drv_"


def invite_link(driver: Driver) -> str:
    return (
        webhook.invite_link(INVITE_PREFIX + driver.telegram_invite_token)
        if driver.telegram_invite_token
        else ""
    )


@transaction.atomic
def driver_invite(*, driver: Driver, by, regenerate: bool = False) -> Driver:
    """The driver's personal invite token, made on first use; ``regenerate`` replaces it, so
    the old link binds nobody any more."""
    driver = locked(Driver, driver.pk)
    if driver.telegram_invite_token and not regenerate:
        return driver
    driver.telegram_invite_token = secrets.token_urlsafe(18)  # 24 characters
    set_author(driver, by)
    driver.save(update_fields=["telegram_invite_token", "updated_at"])
    return driver


@transaction.atomic
def driver_unlink(*, driver: Driver, by) -> Driver:
    """Orders stop going to the driver's chat (a new phone, a driver who left)."""
    driver = locked(Driver, driver.pk)
    driver.telegram_chat_id = ""
    set_author(driver, by)
    driver.save(update_fields=["telegram_chat_id", "updated_at"])
    return driver


def bind_driver(*, payload: str, chat_id: str, user: dict) -> str | None:
    """``/start drv_<token>``: this chat is now the driver's (a chat belongs to one driver).
    Runs in the webhook's transaction; answers None when the token is unknown."""
    if not payload:
        return None
    driver = Driver.objects.select_for_update().filter(telegram_invite_token=payload).first()
    if driver is None:
        return None
    for other in (
        Driver.objects.select_for_update().filter(telegram_chat_id=str(chat_id)).exclude(pk=driver.pk)
    ):
        other.telegram_chat_id = ""
        other.save(update_fields=["telegram_chat_id", "updated_at"])
    driver.telegram_chat_id = str(chat_id)
    driver.save(update_fields=["telegram_chat_id", "updated_at"])
    with translation.override(settings.LANGUAGE_CODE):
        return _("Hello, %(name)s! From now on, your orders will come here.") % {"name": driver.full_name}
