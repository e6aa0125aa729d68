"""Telegram Bot API: ``sendMessage`` with an optional inline keyboard.

Plain text (no ``parse_mode``), so nothing a manager types needs escaping. Telegram
answers ``ok`` once the message is in the chat, hence DELIVERED rather than SENT.
"""

import logging

from django.conf import settings
from django.utils.translation import gettext as _

from arenda.integrations.messaging import config
from arenda.integrations.messaging.channels.base import Channel, Outcome, SendResult, call

log = logging.getLogger(__name__)


def api_url(method: str, cfg=None) -> str:
    cfg = cfg or config.get("telegram")
    return f"{str(cfg.api_url).rstrip('/')}/bot{cfg.token}/{method}"


def keyboard(message) -> dict | None:
    if not message.buttons:
        return None
    row = [{"text": b["text"], "callback_data": f"{b['action']}:{message.pk}"} for b in message.buttons]
    return {"inline_keyboard": [row]}


def _refusal(status: int, description: str) -> str:
    said = description.lower()
    if "blocked" in said:
        reason = _("The recipient blocked the bot.")
    elif "deactivated" in said:
        reason = _("The recipient's Telegram account is deleted.")
    elif "chat not found" in said or "initiate conversation" in said:
        reason = _("The recipient has not started a chat with the bot.")
    elif status == 401:
        reason = _("Telegram refused the bot token (TELEGRAM_BOT_TOKEN).")
    else:
        reason = _("Telegram refused the message.")
    return f"{reason} (Telegram {status}: {description})"


class TelegramChannel(Channel):
    name = "telegram"

    def send(self, message) -> SendResult:
        cfg = config.get("telegram")
        if not cfg.ready:
            return SendResult(
                Outcome.FAILED, error=_("The Telegram bot is not set up (TELEGRAM_BOT_TOKEN) or is off.")
            )
        payload = {"chat_id": message.recipient, "text": message.text}
        if markup := keyboard(message):
            payload["reply_markup"] = markup
        # Through OutboundTransport: the API address may be the admin's (the channels page).
        response = call(
            "POST",
            api_url("sendMessage", cfg),
            platform="Telegram",
            timeout=settings.TELEGRAM_TIMEOUT,
            json=payload,
        )
        if isinstance(response, SendResult):
            return response
        try:
            body = response.json()
        except ValueError:
            body = {}
        description = str(body.get("description") or response.reason_phrase)
        if response.status_code == 200 and body.get("ok"):
            return SendResult(Outcome.DELIVERED, external_id=str(body["result"]["message_id"]))
        if response.status_code == 429:
            retry_after = (body.get("parameters") or {}).get("retry_after")
            return SendResult(
                Outcome.RETRY,
                error=f"Telegram 429: {description}",
                retry_after=int(retry_after) if isinstance(retry_after, int | float) else None,
            )
        if response.status_code >= 500:
            return SendResult(Outcome.RETRY, error=f"Telegram {response.status_code}: {description}")
        return SendResult(Outcome.FAILED, error=_refusal(response.status_code, description))
