"""What MAX, VK and Avito send to our webhooks, read into one shape (``Incoming``): who may
call (each platform's proof of origin), each event once, and what it says. What an event
sets off — a lead, a driver's binding, «Принял» — is decided above the adapters
(``flows/channels.py``); the views are ``api/channels.py``. Telegram's reader is
``webhook.py``.

Proof of origin (docs/channels.md):

- MAX: the secret given at subscription comes back in ``X-Max-Bot-Api-Secret``;
- VK: the community's secret key comes in the body's ``secret`` field;
- Avito: no signature is documented, so the webhook's URL carries a key of ours.

A body we cannot read is answered as handled (and logged): the platforms redeliver what is
not answered 200, forever or until they unsubscribe us.
"""

import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from arenda.integrations.messaging import config
from arenda.integrations.messaging.models import InboundEvent, TelegramUpdate


class BadEvent(ValueError):
    """Not a call the platform would make."""


@dataclass(frozen=True)
class Incoming:
    """One thing a person did in a messenger, as our flows need it."""

    channel: str
    event_id: str
    # "message" (wrote to us), "start" (opened a deep link), "press" (a button),
    # "read" (read our messages), "stop" (blocked the bot), "other"
    kind: str
    chat_id: str = ""  # where the answer goes: MAX user id, VK peer id, Avito chat id
    user_id: str = ""
    name: str = ""
    text: str = ""
    payload: str = ""  # a deep link's or a button's
    callback_id: str = ""  # to answer a press
    phone: str = ""  # a contact the user shared
    item_id: str = ""  # the Avito ad the chat is about
    read_upto: int = 0
    extra: dict = field(default_factory=dict)


def _object(value) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _id(value) -> str:
    """A platform id (a number or a short string) as text; "" for anything else."""
    if type(value) is int and abs(value) < 2**63:
        return str(value)
    if isinstance(value, str) and 0 < len(value) <= 100 and value.isprintable():
        return value
    return ""


def _json(body: bytes) -> dict:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadEvent("Not JSON")
    if not isinstance(value, dict):
        raise BadEvent("Not an object")
    return value


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), str(expected).encode())


def first_time(event: Incoming) -> bool:
    """Remember the event; False when it was handled before (a redelivery)."""
    try:
        with transaction.atomic():
            InboundEvent.objects.create(channel=event.channel, event_id=event.event_id[:200], kind=event.kind)
    except IntegrityError:
        return False
    return True


# --- MAX --------------------------------------------------------------------------------------
def max_secret_ok(request) -> bool:
    return _same(request.headers.get("X-Max-Bot-Api-Secret", ""), config.get("max").webhook_secret)


VCARD_TEL = re.compile(r"^TEL[^:]*:(.+)$", re.MULTILINE | re.IGNORECASE)


def _vcard_phone(attachments) -> str:
    for attachment in attachments if isinstance(attachments, list) else ():
        attachment = _object(attachment)
        if attachment.get("type") == "contact":
            found = VCARD_TEL.search(_text(_object(attachment.get("payload")).get("vcf_info")))
            if found:
                return found.group(1).strip()
    return ""


def _max_name(user: dict) -> str:
    name = _text(user.get("name")) or " ".join(
        filter(None, [_text(user.get("first_name")), _text(user.get("last_name"))])
    )
    return name.strip()[:200]


def max_update(body: bytes) -> Incoming:
    update = _json(body)
    kind = _text(update.get("update_type"))
    stamp = update.get("timestamp")
    if not kind or type(stamp) is not int:
        raise BadEvent("No update_type or timestamp")
    if kind == "message_created":
        message = _object(update.get("message"))
        sender, recipient, content = (
            _object(message.get("sender")),
            _object(message.get("recipient")),
            _object(message.get("body")),
        )
        if recipient.get("chat_type") not in (None, "dialog") or sender.get("is_bot"):
            return Incoming("max", f"other:{stamp}", "other")
        user_id, mid = _id(sender.get("user_id")), _id(content.get("mid"))
        if not user_id or not mid:
            raise BadEvent("No sender or message id")
        return Incoming(
            "max",
            mid,
            "message",
            chat_id=user_id,
            user_id=user_id,
            name=_max_name(sender),
            text=_text(content.get("text")).strip(),
            phone=_vcard_phone(content.get("attachments")),
        )
    if kind == "message_callback":
        callback = _object(update.get("callback"))
        user_id, callback_id = (
            _id(_object(callback.get("user")).get("user_id")),
            _id(callback.get("callback_id")),
        )
        if not user_id or not callback_id:
            raise BadEvent("No user or callback id")
        return Incoming(
            "max",
            f"cb:{callback_id}",
            "press",
            chat_id=user_id,
            user_id=user_id,
            name=_max_name(_object(callback.get("user"))),
            payload=_text(callback.get("payload")),
            callback_id=callback_id,
        )
    if kind in ("bot_started", "bot_stopped"):
        user = _object(update.get("user"))
        user_id = _id(user.get("user_id")) or _id(update.get("user_id"))
        if not user_id:
            raise BadEvent("No user")
        return Incoming(
            "max",
            f"{kind}:{user_id}:{stamp}",
            "start" if kind == "bot_started" else "stop",
            chat_id=user_id,
            user_id=user_id,
            name=_max_name(user),
            payload=_text(update.get("payload")).strip(),
        )
    return Incoming("max", f"{kind}:{stamp}", "other")


# --- VK ---------------------------------------------------------------------------------------
def vk_event(body: bytes) -> dict:
    """The Callback API call, checked: its secret and its group. ``BadEvent`` otherwise
    (the view answers a forged one with 403)."""
    event = _json(body)
    cfg = config.get("vk")
    if not _same(_text(event.get("secret")), cfg.secret_key):
        raise PermissionError("bad secret")
    if cfg.group_id and str(event.get("group_id")) != str(cfg.group_id):
        raise PermissionError("another community")
    return event


def vk_incoming(event: dict) -> Incoming:
    kind, event_id = _text(event.get("type")), _id(event.get("event_id"))
    obj = _object(event.get("object"))
    if kind == "message_new":
        message = _object(obj.get("message")) or obj
        peer, sender = _id(message.get("peer_id")), _id(message.get("from_id"))
        if not peer or not event_id:
            raise BadEvent("No peer or event id")
        if peer != sender:
            return Incoming("vk", event_id, "other")  # a group chat, not a customer's dialog
        return Incoming(
            "vk", event_id, "message", chat_id=peer, user_id=sender, text=_text(message.get("text")).strip()
        )
    if kind == "message_event":
        peer, user = _id(obj.get("peer_id")), _id(obj.get("user_id"))
        payload = obj.get("payload")
        if isinstance(payload, str):
            try:
                payload = json.loads(payload)
            except ValueError:
                payload = {}
        payload = _object(payload)
        action, target = _text(payload.get("action")), payload.get("id")
        return Incoming(
            "vk",
            event_id or f"press:{_id(obj.get('event_id'))}",
            "press",
            chat_id=peer,
            user_id=user,
            payload=f"{action}:{target}" if action and type(target) is int else "",
            callback_id=_id(obj.get("event_id")),
        )
    if kind == "message_read":
        peer = _id(obj.get("peer_id")) or _id(obj.get("from_id"))
        upto = obj.get("read_message_id")
        return Incoming("vk", event_id, "read", chat_id=peer, read_upto=upto if type(upto) is int else 0)
    if kind == "message_deny":
        return Incoming(
            "vk", event_id, "stop", chat_id=_id(obj.get("user_id")), user_id=_id(obj.get("user_id"))
        )
    return Incoming("vk", event_id or f"{kind}:other", "other")


# --- Avito ------------------------------------------------------------------------------------
def avito_key_ok(key: str) -> bool:
    return _same(key or "", config.get("avito").webhook_key)


def avito_delivery(body: bytes) -> Incoming | None:
    """A delivery of the v3 webhook; None for Avito's empty ``{}`` probe of the address."""
    delivery = _json(body)
    if not delivery:
        return None
    payload = _object(delivery.get("payload"))
    value = _object(payload.get("value"))
    message_id, chat_id = _id(value.get("id")), _id(value.get("chat_id"))
    if payload.get("type") != "message" or not message_id or not chat_id:
        raise BadEvent("Not a message delivery")
    author, account = _id(value.get("author_id")), _id(value.get("user_id"))
    if value.get("type") == "system" or not author or author == "0" or author == account:
        # Avito's own bots and our replies come back too: nothing for us to take.
        return Incoming("avito", message_id, "other")
    content = _object(value.get("content"))
    text = _text(content.get("text")).strip()
    if not text and value.get("type") != "text":
        text = f"({_text(value.get('type'))})"
    return Incoming(
        "avito",
        message_id,
        "message",
        chat_id=chat_id,
        user_id=author,
        text=text,
        item_id=_id(value.get("item_id")),
    )


# Platforms redeliver for hours (MAX up to 8, VK and Telegram less): a month of memory is
# ample, and the table stays small.
KEEP_EVENTS = timedelta(days=30)


def purge_old_events() -> int:
    """Forget the events (and Telegram's updates) handled more than ``KEEP_EVENTS`` ago."""
    before = timezone.now() - KEEP_EVENTS
    deleted, _by_model = InboundEvent.objects.filter(received_at__lt=before).delete()
    updates, _by_model = TelegramUpdate.objects.filter(received_at__lt=before).delete()
    return deleted + updates


@task()
def purge_old_events_task() -> int:
    """Daily (``PERIODIC_JOBS``): ``purge_old_events``."""
    return purge_old_events()
