"""The one small interface every channel implements."""

import enum
from dataclasses import dataclass


class Outcome(enum.Enum):
    DELIVERED = "delivered"  # the message is in the recipient's chat (Telegram answers ok)
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
