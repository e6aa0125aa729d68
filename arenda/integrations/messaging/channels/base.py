"""The one small interface every channel implements."""

import enum
import time
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from arenda.integrations.outbound import OutboundRefused, OutboundTransport


class Outcome(enum.Enum):
    DELIVERED = "delivered"  # the message is in the recipient's chat (Telegram answers ok)
    READ = "read"  # the platform says the recipient has read it (a status, never a send's answer)
    SENT = "sent"  # handed on with no word of delivery (an SMTP server accepted it)
    RETRY = "retry"  # not sent this time; worth another attempt later
    FAILED = "failed"  # will never go through as it is (blocked bot, bad address)


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    external_id: str = ""
    error: str = ""
    # Seconds the channel asked us to wait (Telegram 429 ``retry_after``).
    retry_after: int | None = None
    # The attempt may have reached the recipient though we got no answer (read timeout);
    # the next attempt is then marked as a repeat.
    in_doubt: bool = False


class Channel:
    name: str

    def send(self, message) -> SendResult:
        """Send one ``OutboxMessage``. Never raises for a channel error: says what happened."""
        raise NotImplementedError


def call(method: str, url: str, *, platform: str, timeout: float | None = None, **kwargs):
    """One HTTP call to a platform through ``OutboundTransport`` (the addresses are the
    admin's). Returns the response, or the ``SendResult`` a failure to get one means: not
    connected → retry; sent and no answer → retry, in doubt; a refused address → failed."""
    try:
        with httpx.Client(
            transport=OutboundTransport(), timeout=timeout or settings.CHANNEL_TIMEOUT
        ) as client:
            return client.request(method, url, **kwargs)
    except OutboundRefused as exc:
        return SendResult(Outcome.FAILED, error=exc.message)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        return SendResult(
            Outcome.RETRY,
            error=_("%(platform)s is unreachable: %(error)s")
            % {"platform": platform, "error": str(exc) or type(exc).__name__},
        )
    except httpx.HTTPError as exc:
        return SendResult(
            Outcome.RETRY,
            error=_("No answer from %(platform)s: %(error)s")
            % {"platform": platform, "error": str(exc) or type(exc).__name__},
            in_doubt=True,
        )


def json_of(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def retry_after(response) -> int | None:
    """The seconds a ``Retry-After`` header asks for, if it gives a number."""
    value = response.headers.get("Retry-After", "").strip()
    return int(value) if value.isdigit() else None


def per_chat_wait(channel: str, chat: str, per_second: int) -> int:
    """Seconds to wait before the next message to this chat may go: 0 while fewer than
    ``per_second`` went to it this second. Counted in the cache, shared by the workers with
    a shared cache (``CACHE_URL``); a cache outage lets the message through."""
    now = time.time()
    key = f"chat-rate:{channel}:{chat}:{int(now)}"
    try:
        cache.add(key, 0, timeout=5)
        count = cache.incr(key)
    except Exception:
        return 0
    return 0 if count <= per_second else 1
