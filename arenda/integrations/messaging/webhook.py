"""Telegram's webhook calls, read: who may call (the secret), each update once, what an
update says (a private message, ``/start <payload>``, a button pressed), and the answer to
a «Принял» press. What an update sets off — a driver's chat, a new lead — is decided above
the adapters (``flows/telegram.py``); the view is ``api/telegram.py``.

Telegram is told about the webhook's URL with ``manage.py telegram_webhook <url>``, which
also gives it ``TELEGRAM_WEBHOOK_SECRET``; every call must carry that secret in
``X-Telegram-Bot-Api-Secret-Token`` — without it anyone could forge a customer or an
acknowledgement. Each ``update_id`` is handled once: a redelivered update is a no-op.
An update we cannot use — even a body that is not an update at all — is still answered
200 (and logged), or Telegram would redeliver it forever;
an unexpected error answers 500 and rolls back, so Telegram's redelivery retries it.
"""

import hmac
import json
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from arenda.integrations.messaging import config, outbox
from arenda.integrations.messaging.models import TelegramUpdate


class BadUpdate(ValueError):
    """Not an update Telegram would send (the webhook logs it and answers 200 all the same)."""


def _object(value) -> dict:
    """A JSON object of the update, or an empty one: any other shape (a string where an
    object belongs, a list, null) is read as nothing, so no update can break the webhook."""
    return value if isinstance(value, dict) else {}


def _text(value) -> str:
    return value if isinstance(value, str) else ""


BIGINT = 2**63


def _chat_id(value) -> str | None:
    """Telegram's chat ids are integers (negative for groups); anything else is no chat."""
    if type(value) is int and -BIGINT < value < BIGINT:
        return str(value)
    return None


def secret_ok(request) -> bool:
    secret = config.get("telegram").webhook_secret
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    return bool(secret) and hmac.compare_digest(given.encode(), secret.encode())


def read_update(body: bytes) -> dict:
    """The update in a webhook call's body; ``BadUpdate`` when it is not one."""
    try:
        update = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadUpdate("Not JSON")
    update_id = update.get("update_id") if isinstance(update, dict) else None
    if type(update_id) is not int or not 0 <= update_id < BIGINT:
        raise BadUpdate("No update_id")
    return update


def first_time(update: dict) -> bool:
    """Remember the update; False when it was handled before (a redelivery)."""
    kind = next((key for key in update if key != "update_id"), "")
    try:
        with transaction.atomic():
            TelegramUpdate.objects.create(update_id=update["update_id"], kind=kind[:30])
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True)
class PrivateMessage:
    """Someone wrote to the bot in a private chat (groups, channels and edits are not us)."""

    chat_id: str
    text: str
    user: dict
    update_id: int

    @property
    def start_payload(self) -> str | None:
        """``/start <payload>`` (from a ``t.me/<bot>?start=<payload>`` link): the payload,
        "" for a bare ``/start``; None for any other text."""
        if self.text == "/start" or self.text.startswith("/start "):
            return self.text.removeprefix("/start").strip()
        return None

    @property
    def display_name(self) -> str:
        name = " ".join(filter(None, [self.user.get("first_name"), self.user.get("last_name")]))
        return name or (f"@{self.user['username']}" if self.user.get("username") else "")


def private_message(update: dict) -> PrivateMessage | None:
    message = _object(update.get("message"))
    chat = _object(message.get("chat"))
    chat_id = _chat_id(chat.get("id"))
    if chat.get("type") != "private" or chat_id is None:
        return None
    return PrivateMessage(
        chat_id=chat_id,
        text=(_text(message.get("text")) or _text(message.get("caption"))).strip(),
        user={key: value for key, value in _object(message.get("from")).items() if isinstance(value, str)},
        update_id=update["update_id"],
    )


def answer_callback(update: dict) -> dict | None:
    """A button pressed: «Принял» (``ack:<outbox id>``) acknowledges its message when the
    chat it went to pressed it. The answer is a Bot API method for the webhook's reply
    (Telegram runs it: no extra call from here); None when the update is not a press."""
    query = update.get("callback_query")
    if not isinstance(query, dict) or type(query.get("id")) not in (int, str):
        return None
    data = _text(query.get("data"))
    chat_id = _chat_id(_object(_object(query.get("message")).get("chat")).get("id")) or _chat_id(
        _object(query.get("from")).get("id")
    )
    action, _sep, target = data.partition(":")
    if (
        action == "ack"
        and chat_id is not None
        and target.isascii()
        and target.isdigit()
        and int(target) < BIGINT
        and outbox.acknowledge(int(target), chat_id=chat_id)
    ):
        text = _("Thank you, noted.")
    else:
        text = _("This button no longer works.")
    return {"method": "answerCallbackQuery", "callback_query_id": query["id"], "text": text}


def reply(chat_id: str, text: str) -> None:
    outbox.enqueue(channel="telegram", recipient=chat_id, text=text)


def greeting() -> str:
    return _("Hello! Write your request here and a manager will answer you in this chat.")


def invite_link(payload: str) -> str:
    return f"https://t.me/{config.get('telegram').bot_username}?start={payload}"
