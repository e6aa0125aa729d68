"""Avito Messenger: OAuth client credentials (``POST /token``, a token for 24 hours, kept
in the cache and asked for again when it expires or Avito answers 401), replies into the
customer's chat (``POST /messenger/v1/accounts/{account}/chats/{chat}/messages``), and the
chat's ad (``GET /messenger/v2/…/chats/{chat}``: title and link of the listing the
customer wrote about). Shapes: Avito's published API (``fake_avito.py`` plays it).

Avito answers with the message once it is in the chat: DELIVERED. Its webhook carries no
signature we can check: the key in the webhook's URL is the proof of origin.
"""

from urllib.parse import quote

from django.core.cache import cache
from django.utils.translation import gettext as _

from arenda.integrations.messaging import config
from arenda.integrations.messaging.channels.base import (
    Channel,
    Outcome,
    SendResult,
    call,
    json_of,
    retry_after,
)

PLATFORM = "Avito"
TEXT_LIMIT = 1000


def _base(cfg) -> str:
    return str(cfg.api_url).rstrip("/")


def _chats(cfg, version: str = "v1") -> str:
    """The account's chats; ids are quoted, so a chat id from a webhook stays one path segment."""
    return f"/messenger/{version}/accounts/{quote(str(cfg.account_id), safe='')}/chats"


def _token_key(cfg) -> str:
    return f"avito-token:{cfg.client_id}"


def token(cfg, *, fresh: bool = False) -> str | SendResult:
    """A valid access token: the cached one, or a new one from ``/token``."""
    key = _token_key(cfg)
    if not fresh and (cached := cache.get(key)):
        return cached
    response = call(
        "POST",
        f"{_base(cfg)}/token",
        platform=PLATFORM,
        data={
            "grant_type": "client_credentials",
            "client_id": cfg.client_id,
            "client_secret": cfg.client_secret,
        },
    )
    if isinstance(response, SendResult):
        return response
    body = json_of(response)
    if response.status_code != 200 or not body.get("access_token"):
        if response.status_code >= 500:
            return SendResult(Outcome.RETRY, error=f"Avito {response.status_code}")
        return SendResult(
            Outcome.FAILED,
            error=_("Avito refused the client id or secret (%(status)s).") % {"status": response.status_code},
        )
    expires = body.get("expires_in") if isinstance(body.get("expires_in"), int) else 3600
    cache.set(key, body["access_token"], timeout=max(expires - 60, 30))
    return body["access_token"]


def authorised(cfg, method: str, path: str, **kwargs):
    """A call with the bearer token; on 401 the token is renewed once and the call repeated."""
    for fresh in (False, True):
        access = token(cfg, fresh=fresh)
        if isinstance(access, SendResult):
            return access
        response = call(
            method,
            f"{_base(cfg)}{path}",
            platform=PLATFORM,
            headers={"Authorization": f"Bearer {access}"},
            **kwargs,
        )
        if isinstance(response, SendResult) or response.status_code != 401:
            return response
        cache.delete(_token_key(cfg))
    return response


def _said(body: dict) -> str:
    error = body.get("error")
    return str(error.get("message") or "") if isinstance(error, dict) else ""


class AvitoChannel(Channel):
    name = "avito"

    def send(self, message) -> SendResult:
        cfg = config.get("avito")
        if not cfg.ready:
            return SendResult(Outcome.FAILED, error=_("Avito is not set up or is off (channels page)."))
        response = authorised(
            cfg,
            "POST",
            f"{_chats(cfg)}/{quote(message.recipient, safe='')}/messages",
            json={"message": {"text": message.text[:TEXT_LIMIT]}, "type": "text"},
        )
        if isinstance(response, SendResult):
            return response
        body = json_of(response)
        if response.status_code == 200 and body.get("id"):
            return SendResult(Outcome.DELIVERED, external_id=str(body["id"]))
        error = f"Avito {response.status_code}: {_said(body) or response.reason_phrase}"
        if response.status_code == 429:
            return SendResult(Outcome.RETRY, error=error, retry_after=retry_after(response))
        if response.status_code >= 500:
            return SendResult(Outcome.RETRY, error=error)
        if response.status_code == 404:
            error = _("Avito does not know this chat.") + f" ({error})"
        return SendResult(Outcome.FAILED, error=error)


def chat_ad(chat_id: str) -> dict:
    """The listing the chat is about: ``{"title", "url"}``; empty when Avito does not say."""
    cfg = config.get("avito")
    if not cfg.ready or not chat_id:
        return {}
    response = authorised(
        cfg,
        "GET",
        f"{_chats(cfg, 'v2')}/{quote(chat_id, safe='')}",
        timeout=5,
    )
    if isinstance(response, SendResult) or response.status_code != 200:
        return {}
    context = json_of(response).get("context")
    value = context.get("value") if isinstance(context, dict) else None
    if not isinstance(value, dict):
        return {}
    url = value.get("url") if isinstance(value.get("url"), str) else ""
    return {
        "title": str(value.get("title") or "")[:300],
        "url": url if url.startswith(("http://", "https://")) else "",
    }


def subscribe(url: str) -> str:
    """Point Avito's webhook at ``url`` (it carries our key). Returns "" or what went wrong."""
    cfg = config.get("avito")
    response = authorised(cfg, "POST", "/messenger/v3/webhook", json={"url": url})
    if isinstance(response, SendResult):
        return response.error
    if response.status_code == 200 and json_of(response).get("ok"):
        return ""
    return f"Avito {response.status_code}: {_said(json_of(response)) or response.reason_phrase}"
