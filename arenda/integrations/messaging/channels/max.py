"""MAX (VK's national messenger), the Bot API: ``POST /messages?user_id=`` with an inline
keyboard of ``callback`` buttons, ``POST /answers`` for a pressed button, ``/subscriptions``
for the webhook. The token goes in the ``Authorization`` header, bare (as MAX's own clients
send it). The shapes are MAX's OpenAPI schema (``fake_max.py`` plays it for the tests).

MAX answers with the message once it is in the dialog, hence DELIVERED. It asks for no
more than a few messages a second to one chat: we keep to ``PER_CHAT_PER_SECOND`` and wait
as long as a 429 says (or back off). A user who stopped the bot cannot be written to: 403,
failed with that reason.
"""

from django.utils.translation import gettext as _

from arenda.integrations.messaging import config
from arenda.integrations.messaging.channels.base import (
    Channel,
    Outcome,
    SendResult,
    call,
    json_of,
    per_chat_wait,
    retry_after,
)

PLATFORM = "MAX"
PER_CHAT_PER_SECOND = 2
TEXT_LIMIT = 4000


def _url(cfg, path: str) -> str:
    return f"{str(cfg.api_url).rstrip('/')}{path}"


def _headers(cfg) -> dict:
    return {"Authorization": cfg.token}


def keyboard(message) -> list[dict]:
    if not message.buttons:
        return []
    row = [
        {"type": "callback", "text": b["text"][:128], "payload": f"{b['action']}:{message.pk}"}
        for b in message.buttons
    ]
    return [{"type": "inline_keyboard", "payload": {"buttons": [row]}}]


def _refusal(status: int, body: dict) -> str:
    code, said = str(body.get("code") or ""), str(body.get("message") or "")
    if status == 403 or "denied" in code or "blocked" in said.lower():
        reason = _("The recipient blocked the bot or has not started it.")
    elif status == 401 or code == "verify.token":
        reason = _("MAX refused the bot token.")
    elif status == 404:
        reason = _("MAX does not know this chat.")
    else:
        reason = _("MAX refused the message.")
    return f"{reason} (MAX {status}: {code} {said})".strip()


class MaxChannel(Channel):
    name = "max"

    def send(self, message) -> SendResult:
        cfg = config.get("max")
        if not cfg.ready:
            return SendResult(Outcome.FAILED, error=_("The MAX bot is not set up or is off (channels page)."))
        if per_chat_wait(self.name, message.recipient, PER_CHAT_PER_SECOND):
            return SendResult(
                Outcome.RETRY, error=_("MAX: too many messages to this chat; waiting."), retry_after=1
            )
        body = {"text": message.text[:TEXT_LIMIT], "notify": True}
        if attachments := keyboard(message):
            body["attachments"] = attachments
        response = call(
            "POST",
            _url(cfg, "/messages"),
            platform=PLATFORM,
            params={"user_id": message.recipient},
            json=body,
            headers=_headers(cfg),
        )
        if isinstance(response, SendResult):
            return response
        answer = json_of(response)
        if response.status_code == 200:
            mid = ((answer.get("message") or {}).get("body") or {}).get("mid")
            return SendResult(Outcome.DELIVERED, external_id=str(mid or ""))
        if response.status_code == 429:
            return SendResult(
                Outcome.RETRY,
                error=f"MAX 429: {answer.get('message', '')}",
                retry_after=retry_after(response),
            )
        if response.status_code >= 500:
            return SendResult(Outcome.RETRY, error=f"MAX {response.status_code}: {answer.get('message', '')}")
        return SendResult(Outcome.FAILED, error=_refusal(response.status_code, answer))


def answer_callback(callback_id: str, text: str) -> bool:
    """Answer a pressed button with a notification (best effort: the press is already
    recorded; a lost answer only leaves the button spinning a while)."""
    cfg = config.get("max")
    if not cfg.ready or not callback_id:
        return False
    response = call(
        "POST",
        _url(cfg, "/answers"),
        platform=PLATFORM,
        timeout=5,
        params={"callback_id": callback_id},
        json={"notification": text},
        headers=_headers(cfg),
    )
    return not isinstance(response, SendResult) and response.status_code == 200


def subscribe(url: str) -> str:
    """Point MAX's webhook at ``url`` with our secret. Returns "" or what went wrong."""
    cfg = config.get("max")
    secret = config.ensure_generated("max")
    response = call(
        "POST",
        _url(cfg, "/subscriptions"),
        platform=PLATFORM,
        json={
            "url": url,
            "secret": secret,
            "update_types": ["message_created", "message_callback", "bot_started", "bot_stopped"],
        },
        headers=_headers(cfg),
    )
    if isinstance(response, SendResult):
        return response.error
    if response.status_code == 200 and json_of(response).get("success"):
        return ""
    return _refusal(response.status_code, json_of(response))


def invite_link(payload: str) -> str:
    username = config.get("max").bot_username
    return f"https://max.ru/{username}?start={payload}" if username else ""
