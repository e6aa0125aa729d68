"""The channels the outbox sends through, by ``OutboxMessage.channel``."""

from arenda.integrations.messaging.channels.base import Channel, Outcome, SendResult
from arenda.integrations.messaging.channels.email import EmailChannel
from arenda.integrations.messaging.channels.sms import SmsChannel
from arenda.integrations.messaging.channels.telegram import TelegramChannel

CHANNELS: dict[str, type[Channel]] = {"telegram": TelegramChannel, "email": EmailChannel, "sms": SmsChannel}


def channel_for(name: str) -> Channel:
    return CHANNELS[name]()


__all__ = ["CHANNELS", "Channel", "Outcome", "SendResult", "channel_for"]
