"""Each channel's settings: what the admin saved on the channels page (``ChannelConfig``),
else the environment's (``settings.py``). Secrets — tokens, passwords, webhook keys — are
kept encrypted (``core/crypto.py``) and never shown back: the page says whether one is set.

A channel is *on* when its row is enabled (no row: on) and *ready* when what it needs to
send is there (``REQUIRED``); the outbox fails a message for a channel that is not.
"""

import json
import secrets as random
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from arenda.integrations.messaging.models import ChannelConfig

# kind → {name: the setting it falls back to}; which of them are secrets.
OPTIONS = {
    "telegram": {"api_url": "TELEGRAM_API_URL", "bot_username": "TELEGRAM_BOT_USERNAME"},
    "max": {"api_url": "MAX_API_URL", "bot_username": "MAX_BOT_USERNAME"},
    "vk": {"api_url": "VK_API_URL", "group_id": "VK_GROUP_ID", "confirmation_code": "VK_CONFIRMATION_CODE"},
    "avito": {"api_url": "AVITO_API_URL", "client_id": "AVITO_CLIENT_ID", "account_id": "AVITO_ACCOUNT_ID"},
    "sms": {
        "gateway": "SMS_GATEWAY",
        "smsru_url": "SMS_SMSRU_URL",
        "smsc_url": "SMS_SMSC_URL",
        "login": "SMS_LOGIN",
        "sender": "SMS_SENDER",
        "daily_cap": "SMS_DAILY_CAP",
    },
}
SECRETS = {
    "telegram": {"token": "TELEGRAM_BOT_TOKEN", "webhook_secret": "TELEGRAM_WEBHOOK_SECRET"},
    "max": {"token": "MAX_BOT_TOKEN", "webhook_secret": "MAX_WEBHOOK_SECRET"},
    "vk": {"token": "VK_TOKEN", "secret_key": "VK_SECRET_KEY"},
    "avito": {"client_secret": "AVITO_CLIENT_SECRET", "webhook_key": "AVITO_WEBHOOK_KEY"},
    "sms": {"api_id": "SMS_API_ID", "password": "SMS_PASSWORD"},
}
# What a channel cannot send without.
REQUIRED = {
    "telegram": ("token",),
    "max": ("token",),
    "vk": ("token", "group_id"),
    "avito": ("client_id", "client_secret", "account_id"),
    "sms": ("gateway",),
}
# Secrets we make ourselves and give the platform (the webhook's proof of origin).
GENERATED = {
    "telegram": "webhook_secret",
    "max": "webhook_secret",
    "vk": "secret_key",
    "avito": "webhook_key",
}


@dataclass
class Config:
    kind: str
    enabled: bool = True
    values: dict = field(default_factory=dict)
    row: ChannelConfig | None = None

    def __getattr__(self, name):
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)

    @property
    def ready(self) -> bool:
        if self.kind == "sms":
            gateway = self.values.get("gateway")
            needed = {"smsru": ("api_id",), "smsc": ("login", "password")}.get(gateway)
            return self.enabled and needed is not None and all(self.values.get(n) for n in needed)
        return self.enabled and all(self.values.get(name) for name in REQUIRED[self.kind])

    def is_set(self, name: str) -> bool:
        return bool(self.values.get(name))


def stored_secrets(row: ChannelConfig | None) -> dict:
    if row is None or not row.secrets:
        return {}
    try:
        value = json.loads(row.secrets)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def get(kind: str) -> Config:
    """The channel's settings now (one query)."""
    row = ChannelConfig.objects.filter(kind=kind).first()
    return _resolve(kind, row)


def _resolve(kind: str, row: ChannelConfig | None) -> Config:
    saved_options = row.options if row is not None and isinstance(row.options, dict) else {}
    saved_secrets = stored_secrets(row)
    values = {}
    for name, setting in OPTIONS[kind].items():
        saved = saved_options.get(name)
        values[name] = saved if saved not in (None, "") else getattr(settings, setting, "")
    for name, setting in SECRETS[kind].items():
        values[name] = saved_secrets.get(name) or getattr(settings, setting, "")
    return Config(kind=kind, enabled=row.enabled if row is not None else True, values=values, row=row)


def all_configs() -> dict[str, Config]:
    rows = {row.kind: row for row in ChannelConfig.objects.all()}
    return {kind: _resolve(kind, rows.get(kind)) for kind in OPTIONS}


@transaction.atomic
def save(kind: str, *, enabled: bool, options: dict, secrets: dict, by=None) -> ChannelConfig:
    """Store the admin's settings. ``options`` replace the saved ones (blank: the
    environment's); a secret given replaces the stored one, a secret left out stays, and
    one given as ``None`` is removed."""
    row, _created = ChannelConfig.objects.select_for_update().get_or_create(kind=kind)
    row.enabled = enabled
    row.options = {name: str(options.get(name) or "").strip() for name in OPTIONS[kind]}
    kept = stored_secrets(row)
    for name in SECRETS[kind]:
        if name not in secrets:
            continue
        if secrets[name] is None:
            kept.pop(name, None)
        elif str(secrets[name]).strip():
            kept[name] = str(secrets[name]).strip()
    row.secrets = json.dumps(kept) if kept else ""
    row.updated_by = by if getattr(by, "is_authenticated", False) else None
    row.save()
    return row


def ensure_generated(kind: str) -> str:
    """The secret we give the platform for this channel's webhook, made when there is none."""
    name = GENERATED[kind]
    current = get(kind)
    if current.values.get(name):
        return current.values[name]
    value = random.token_urlsafe(24).replace("-", "_")
    save(
        kind,
        enabled=current.enabled,
        options=current.row.options if current.row else {},
        secrets={name: value},
    )
    return value


def tested(kind: str) -> None:
    ChannelConfig.objects.update_or_create(kind=kind, defaults={"last_test_at": timezone.now()})
