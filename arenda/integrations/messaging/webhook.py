"""The Telegram bot webhook: customers' messages become leads, «Принял» presses
acknowledge outbox messages, and ``/start <token>`` goes to whoever registered the token's
prefix (issue 6 binds drivers that way). Before a private message becomes a lead, the
registered chat handlers may claim it (a driver's chat is not a customer's).

Telegram is told about this URL with ``manage.py telegram_webhook <url>``, which also gives
it ``TELEGRAM_WEBHOOK_SECRET``; every call must carry that secret in
``X-Telegram-Bot-Api-Secret-Token`` — without it anyone could forge a customer or an
acknowledgement. Each ``update_id`` is handled once: a redelivered update is a no-op.
An update we cannot use is still answered 200, or Telegram would redeliver it forever;
an unexpected error answers 500 and rolls back, so Telegram's redelivery retries it.
"""

import hmac
import json
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from arenda.integrations.messaging import outbox
from arenda.integrations.messaging.models import TelegramUpdate

log = logging.getLogger(__name__)

# prefix → handler(payload=<the token after the prefix>, chat_id=str, user=dict) → the
# reply to send, or None when the token means nothing to it.
StartHandler = Callable[..., str | None]
START_HANDLERS: dict[str, StartHandler] = {}


def register_start_handler(prefix: str, func: StartHandler) -> None:
    """``/start <prefix><rest>`` (from a ``t.me/<bot>?start=<prefix><rest>`` link) calls
    ``func(payload=<rest>, chat_id=…, user=…)`` in the webhook's transaction."""
    START_HANDLERS[prefix] = func


# handler(chat_id=str, text=str, user=dict, update=dict) → None when the chat is not its
# business; otherwise the message is handled (not a lead) and the result is the reply:
# a str (sent to the chat through the outbox), a dict (the webhook's answer, a Bot API
# method) or True (nothing to say). Drivers' chats are handled this way (issue 6).
ChatHandler = Callable[..., str | dict | bool | None]
CHAT_HANDLERS: list[ChatHandler] = []


def register_chat_handler(func: ChatHandler) -> None:
    """A private message (not ``/start``) goes to ``func`` before it may become a lead; the
    first handler that claims it wins. Runs in the webhook's transaction."""
    if func not in CHAT_HANDLERS:
        CHAT_HANDLERS.append(func)


def invite_link(payload: str) -> str:
    return f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start={payload}"


@csrf_exempt
@require_POST
def telegram_webhook(request):
    secret = settings.TELEGRAM_WEBHOOK_SECRET
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        return JsonResponse({"detail": "Forbidden"}, status=403)
    try:
        update = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"detail": "Not JSON"}, status=400)
    update_id = update.get("update_id") if isinstance(update, dict) else None
    if type(update_id) is not int:
        return JsonResponse({"detail": "No update_id"}, status=400)
    kind = next((key for key in update if key != "update_id"), "")
    with transaction.atomic():
        try:
            with transaction.atomic():
                TelegramUpdate.objects.create(update_id=update_id, kind=kind[:30])
        except IntegrityError:
            return JsonResponse({"ok": True})
        # Telegram runs a method given in the webhook's answer: no extra call from here.
        return JsonResponse(_handle(update) or {"ok": True})


def _handle(update: dict) -> dict | None:
    if isinstance(update.get("callback_query"), dict):
        return _callback(update["callback_query"])
    message = update.get("message")
    if not isinstance(message, dict) or (message.get("chat") or {}).get("type") != "private":
        return None  # edits, channel posts, groups: not a customer writing to us
    chat_id = str(message["chat"].get("id", ""))
    user = message.get("from") or {}
    text = str(message.get("text") or message.get("caption") or "").strip()
    if text == "/start" or text.startswith("/start "):
        _start(text.removeprefix("/start").strip(), chat_id=chat_id, user=user)
        return None
    for handler in CHAT_HANDLERS:
        reply = handler(chat_id=chat_id, text=text, user=user, update=update)
        if reply is None or reply is False:
            continue
        if isinstance(reply, str) and reply:
            outbox.enqueue(channel="telegram", recipient=chat_id, text=reply)
        return reply if isinstance(reply, dict) else None
    from arenda.crm.services import intake_receive

    name = " ".join(filter(None, [user.get("first_name"), user.get("last_name")]))
    try:
        intake_receive(
            source="telegram",
            telegram_chat_id=chat_id,
            name=name or (f"@{user['username']}" if user.get("username") else ""),
            message=text or _("(a message without text: a photo, a file or a sticker)"),
            external_id=str(update["update_id"]),
        )
    except ValidationError as exc:
        log.warning("telegram update %s not taken as a lead: %s", update["update_id"], exc)
    return None


def _callback(query: dict) -> dict | None:
    if "id" not in query:
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


def _start(payload: str, *, chat_id: str, user: dict) -> None:
    reply = None
    for prefix, handler in START_HANDLERS.items():
        if payload.startswith(prefix) and (
            reply := handler(payload=payload[len(prefix) :], chat_id=chat_id, user=user)
        ):
            break
    outbox.enqueue(
        channel="telegram",
        recipient=chat_id,
        text=reply or _("Hello! Write your request here and a manager will answer you in this chat."),
    )
