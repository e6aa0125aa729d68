"""What a Telegram update sets off (the adapter, ``integrations/messaging/webhook.py``,
reads it; the view is ``api/telegram.py``):

- a «Принял» press acknowledges its outbox message;
- ``/start <payload>`` goes to the handler of the payload's prefix (``drv_`` binds a
  driver's chat, ``bookings/driver_link.py``; ``sup_`` a supplier's,
  ``bookings/supplier_link.py``), else the bot greets;
- a private message goes first to the chat handlers (a driver's chat: hours reported,
  or a word for the manager), and only unclaimed becomes a lead (``crm.intake_receive``).

Runs in the webhook's transaction.
"""

import logging

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from arenda.bookings import driver_link, driver_reports, supplier_link
from arenda.crm.services import intake_receive
from arenda.integrations.messaging import webhook

log = logging.getLogger(__name__)

# prefix → handler(payload=<the token after the prefix>, chat_id=str, user=dict) → the
# reply, or None when the token means nothing to it.
START_HANDLERS = {
    driver_link.INVITE_PREFIX: driver_link.bind_driver,
    supplier_link.INVITE_PREFIX: supplier_link.bind_supplier,
}
# handler(chat_id=str, text=str, user=dict) → None when the chat is not its business;
# otherwise the message is handled (not a lead) and the result is the reply: a str (sent
# to the chat through the outbox), a dict (the webhook's answer, a Bot API method) or True.
CHAT_HANDLERS = [driver_reports.driver_message]


def handle(update: dict) -> dict | None:
    """One update, the first time it comes. Returns the webhook's answer, if any."""
    answer = webhook.answer_callback(update)
    if answer is not None or "callback_query" in update:
        return answer
    message = webhook.private_message(update)
    if message is None:
        return None  # edits, channel posts, groups: not a customer writing to us
    payload = message.start_payload
    if payload is not None:
        webhook.reply(message.chat_id, _start(payload, message) or webhook.greeting())
        return None
    for handler in CHAT_HANDLERS:
        reply = handler(chat_id=message.chat_id, text=message.text, user=message.user)
        if reply is None or reply is False:
            continue
        if isinstance(reply, str) and reply:
            webhook.reply(message.chat_id, reply)
        return reply if isinstance(reply, dict) else None
    _lead(message)
    return None


def _start(payload: str, message: webhook.PrivateMessage) -> str | None:
    for prefix, handler in START_HANDLERS.items():
        if payload.startswith(prefix) and (
            reply := handler(payload=payload[len(prefix) :], chat_id=message.chat_id, user=message.user)
        ):
            return reply
    return None


def _lead(message: webhook.PrivateMessage) -> None:
    try:
        intake_receive(
            source="telegram",
            telegram_chat_id=message.chat_id,
            name=message.display_name,
            message=message.text or _("(a message without text: a photo, a file or a sticker)"),
            external_id=str(message.update_id),
        )
    except ValidationError as exc:
        log.warning("telegram update %s not taken as a lead: %s", message.update_id, exc)
