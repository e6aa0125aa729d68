"""Telegram's webhook calls, read: who may call (the secret), each update once, what an
update says (a private message, ``/start <payload>``, a button pressed), and the answer to
a «Принял» press. What an update sets off — a driver's chat, a new lead — is decided above
the adapters (``flows/telegram.py``); the view is ``api/telegram.py``.

Telegram is told about the webhook's URL with ``manage.py telegram_webhook <url>``, which
also gives it ``TELEGRAM_WEBHOOK_SECRET``; every call must carry that secret in
``X-Telegram-Bot-Api-Secret-Token`` — without it anyone could forge a customer or an
acknowledgement. Each ``update_id`` is handled once: a redelivered update is a no-op.
An update we cannot use is still answered 200, or Telegram would redeliver it forever;
an unexpected error answers 500 and rolls back, so Telegram's redelivery retries it.
"""

import hmac
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from arenda.integrations.messaging import outbox
from arenda.integrations.messaging.models import TelegramUpdate


class BadUpdate(ValueError):
    """Not an update Telegram would send (the webhook answers 400)."""


def secret_ok(request) -> bool:
    secret = settings.TELEGRAM_WEBHOOK_SECRET
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    return bool(secret) and hmac.compare_digest(given.encode(), secret.encode())


def read_update(body: bytes) -> dict:
    """The update in a webhook call's body; ``BadUpdate`` when it is not one."""
    try:
        update = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadUpdate("Not JSON")
    update_id = update.get("update_id") if isinstance(update, dict) else None
    if type(update_id) is not int:
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
    message = update.get("message")
    if not isinstance(message, dict) or (message.get("chat") or {}).get("type") != "private":
        return None
    return PrivateMessage(
        chat_id=str(message["chat"].get("id", "")),
        text=str(message.get("text") or message.get("caption") or "").strip(),
        user=message.get("from") or {},
        update_id=update["update_id"],
    )


def answer_callback(update: dict) -> dict | None:
    """A button pressed: «Принял» (``ack:<outbox id>``) acknowledges its message when the
    chat it went to pressed it. The answer is a Bot API method for the webhook's reply
    (Telegram runs it: no extra call from here); None when the update is not a press."""
    query = update.get("callback_query")
    if not isinstance(query, dict) or "id" not in query:
        return None
    data = str(query.get("data") or "")
    chat_id = ((query.get("message") or {}).get("chat") or {}).get("id") or (query.get("from") or {}).get(
        "id"
    )
    action, _sep, target = data.partition(":")
    if action == "ack" and target.isdigit() and outbox.acknowledge(int(target), chat_id=chat_id):
        text = _("Thank you, noted.")
    else:
        text = _("This button no longer works.")
    return {"method": "answerCallbackQuery", "callback_query_id": query["id"], "text": text}


def reply(chat_id: str, text: str) -> None:
    outbox.enqueue(channel="telegram", recipient=chat_id, text=text)


def greeting() -> str:
    return _("Hello! Write your request here and a manager will answer you in this chat.")


def invite_link(payload: str) -> str:
    return f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start={payload}"
