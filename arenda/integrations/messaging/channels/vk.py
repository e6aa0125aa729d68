"""VK community messages: ``messages.send`` with a community token (API 5.199), callback
buttons in an inline keyboard, ``messages.sendMessageEventAnswer`` for a pressed one. VK
answers HTTP 200 with ``{"response": …}`` or ``{"error": {"error_code", "error_msg"}}``
(``fake_vk.py`` plays it, from VK's own schema).

``random_id`` is derived from the outbox key: VK does not send a message twice with the
same one, so a resend after an answer lost on the way is no second message. Retried: too
many requests (6, 9), internal errors (10), HTTP 5xx; final: the customer has not written
or forbade messages (900–902), a bad token (5), a bad keyboard or text (911, 914, 100).
"""

import json
import zlib

from django.utils.translation import gettext as _

from arenda.integrations.messaging import config
from arenda.integrations.messaging.channels.base import Channel, Outcome, SendResult, call, json_of

PLATFORM = "VK"
VERSION = "5.199"
RETRY_CODES = {6: 1, 9: 60, 10: None}
TEXT_LIMIT = 4096


def random_id(key: str) -> int:
    """A stable int32 from the outbox key (VK's idempotency key)."""
    return zlib.crc32(key.encode()) & 0x7FFFFFFF


def keyboard(message) -> str:
    if not message.buttons:
        return ""
    row = [
        {
            "action": {
                "type": "callback",
                "label": b["text"][:40],
                "payload": json.dumps({"action": b["action"], "id": message.pk}),
            },
            "color": "positive",
        }
        for b in message.buttons
    ]
    return json.dumps({"inline": True, "buttons": [row]}, ensure_ascii=False)


def method(name: str, params: dict, *, cfg=None, timeout=None):
    """Call a VK method: the response, or the ``SendResult`` of not getting one."""
    cfg = cfg or config.get("vk")
    return call(
        "POST",
        f"{str(cfg.api_url).rstrip('/')}/method/{name}",
        platform=PLATFORM,
        timeout=timeout,
        data={**params, "v": VERSION},
        headers={"Authorization": f"Bearer {cfg.token}"},
    )


def _refusal(code, said: str) -> str:
    if code in (900, 901, 902):
        reason = _("The customer has not allowed the community's messages or blocked it.")
    elif code == 5:
        reason = _("VK refused the community token.")
    else:
        reason = _("VK refused the message.")
    return f"{reason} (VK {code}: {said})"


class VkChannel(Channel):
    name = "vk"

    def send(self, message) -> SendResult:
        cfg = config.get("vk")
        if not cfg.ready:
            return SendResult(
                Outcome.FAILED, error=_("The VK community is not set up or is off (channels page).")
            )
        params = {
            "peer_id": message.recipient,
            "random_id": random_id(message.idempotency_key),
            "message": message.text[:TEXT_LIMIT],
        }
        if markup := keyboard(message):
            params["keyboard"] = markup
        response = method("messages.send", params, cfg=cfg)
        if isinstance(response, SendResult):
            return response
        if response.status_code >= 500:
            return SendResult(Outcome.RETRY, error=f"VK {response.status_code}")
        body = json_of(response)
        if isinstance(body.get("response"), int):
            return SendResult(Outcome.DELIVERED, external_id=str(body["response"]))
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        code, said = error.get("error_code"), str(error.get("error_msg") or response.reason_phrase)
        if code in RETRY_CODES:
            return SendResult(Outcome.RETRY, error=f"VK {code}: {said}", retry_after=RETRY_CODES[code])
        return SendResult(Outcome.FAILED, error=_refusal(code, said))


def answer_event(*, event_id: str, user_id: str, peer_id: str, text: str) -> bool:
    cfg = config.get("vk")
    if not cfg.ready:
        return False
    response = method(
        "messages.sendMessageEventAnswer",
        {
            "event_id": event_id,
            "user_id": user_id,
            "peer_id": peer_id,
            "event_data": json.dumps({"type": "show_snackbar", "text": text}, ensure_ascii=False),
        },
        cfg=cfg,
        timeout=5,
    )
    return not isinstance(response, SendResult) and "response" in json_of(response)


def confirmation_code() -> str:
    """The string VK's ``confirmation`` call must get back: the saved one, else asked of VK."""
    cfg = config.get("vk")
    if cfg.confirmation_code:
        return str(cfg.confirmation_code)
    if not cfg.ready:
        return ""
    response = method("groups.getCallbackConfirmationCode", {"group_id": cfg.group_id}, cfg=cfg, timeout=5)
    if isinstance(response, SendResult):
        return ""
    return str((json_of(response).get("response") or {}).get("code") or "")


# The Callback API events we take (docs/channels.md).
EVENTS = ("message_new", "message_event", "message_read", "message_deny")


def register(url: str) -> str:
    """Add ``url`` as the community's Callback API server with our secret key and the
    events we take. Returns "" or what went wrong."""
    cfg = config.get("vk")
    if not cfg.ready:
        return _("The VK community is not set up.")
    secret = config.ensure_generated("vk")
    response = method(
        "groups.addCallbackServer",
        {"group_id": cfg.group_id, "url": url, "title": "Arenda", "secret_key": secret},
        cfg=cfg,
    )
    if isinstance(response, SendResult):
        return response.error
    body = json_of(response)
    server = (body.get("response") or {}).get("server_id") if isinstance(body.get("response"), dict) else None
    if server is None:
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        return _refusal(error.get("error_code"), str(error.get("error_msg") or response.reason_phrase))
    response = method(
        "groups.setCallbackSettings",
        {"group_id": cfg.group_id, "server_id": server, "api_version": VERSION, **dict.fromkeys(EVENTS, 1)},
        cfg=cfg,
    )
    if isinstance(response, SendResult):
        return response.error
    return "" if "response" in json_of(response) else _("VK refused the event settings.")
