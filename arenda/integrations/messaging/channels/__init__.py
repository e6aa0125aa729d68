"""The channels the outbox sends through, by ``OutboxMessage.channel``."""

from arenda.integrations.messaging.channels.avito import AvitoChannel
from arenda.integrations.messaging.channels.base import Channel, Outcome, SendResult
from arenda.integrations.messaging.channels.email import EmailChannel
from arenda.integrations.messaging.channels.max import MaxChannel
from arenda.integrations.messaging.channels.sms import SmsChannel
from arenda.integrations.messaging.channels.telegram import TelegramChannel
from arenda.integrations.messaging.channels.vk import VkChannel

CHANNELS: dict[str, type[Channel]] = {
    "telegram": TelegramChannel,
    "email": EmailChannel,
    "sms": SmsChannel,
    "max": MaxChannel,
    "vk": VkChannel,
    "avito": AvitoChannel,
}


def channel_for(name: str) -> Channel:
    return CHANNELS[name]()


__all__ = ["CHANNELS", "Channel", "Outcome", "SendResult", "channel_for"]
