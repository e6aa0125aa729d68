"""The channels page (Administration → Channels): the admin's only; secrets are write-only
and stored encrypted; the webhook addresses to paste; a test message; the last delivery
error; a switched-off channel sends nothing."""

import json

import pytest
from django.db import connection
from django.utils import translation

from arenda.core.models import AuditEvent
from arenda.core.roles import Role
from arenda.integrations.messaging import config, outbox
from arenda.integrations.messaging.models import ChannelConfig, OutboxMessage

pytestmark = pytest.mark.django_db
URL = "/ops/channels/"


@pytest.fixture
def admin(client, make_user):
    client.force_login(make_user(Role.ADMIN))
    return client


@pytest.mark.parametrize("role", [Role.MANAGER, Role.DIRECTOR, Role.ACCOUNTANT])
def test_only_the_admin_sees_the_channels_page(client, make_user, role):
    client.force_login(make_user(role))
    assert client.get(URL).status_code == 403
    assert client.post(f"{URL}max/", {"max-enabled": "on", "max-token": "x"}).status_code == 403
    assert not ChannelConfig.objects.exists()


def test_the_page_lists_every_channel_with_its_webhook(admin, settings):
    settings.AVITO_WEBHOOK_KEY = "key_of_avito_123"
    page = admin.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for kind in ("telegram", "max", "vk", "avito", "sms"):
        assert f'id="channel-{kind}"' in page
    assert "/integrations/max/webhook/" in page and "/integrations/vk/webhook/" in page
    assert "/integrations/avito/webhook/key_of_avito_123/" in page
    assert "not set up" in page


def test_secrets_are_write_only_and_stored_encrypted(admin):
    response = admin.post(
        f"{URL}max/",
        {
            "max-enabled": "on",
            "max-api_url": "https://max.example.ru",
            "max-bot_username": "our_bot",
            "max-token": "TOKEN-PLAIN-123",
        },
    )
    assert response.status_code == 302
    current = config.get("max")
    assert (current.token, current.api_url, current.bot_username) == (
        "TOKEN-PLAIN-123",
        "https://max.example.ru",
        "our_bot",
    )
    assert current.webhook_secret  # made for the webhook on save
    page = admin.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "TOKEN-PLAIN-123" not in page and current.webhook_secret not in page
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM messaging_channelconfig WHERE kind = 'max'")
        (stored,) = cursor.fetchone()
    assert stored.startswith("fernet:") and "TOKEN-PLAIN-123" not in stored
    # an empty secret field keeps the stored one; «remove» drops it
    admin.post(f"{URL}max/", {"max-enabled": "on", "max-token": ""})
    assert config.get("max").token == "TOKEN-PLAIN-123"
    admin.post(f"{URL}max/", {"max-enabled": "on", "max-token__clear": "on"})
    assert config.get("max").token == ""
    event = AuditEvent.objects.filter(kind="channel_changed").first()
    assert event is not None and "TOKEN-PLAIN-123" not in json.dumps(event.details, ensure_ascii=False)


def test_a_bad_value_is_a_form_error_naming_the_field(admin):
    response = admin.post(
        f"{URL}sms/", {"sms-enabled": "on", "sms-daily_cap": "-5", "sms-smsru_url": "not a url"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="channel-sms"' in page and "field-errors" in page
    assert not ChannelConfig.objects.exists()
    assert admin.post(f"{URL}nonsense/", {}).status_code == 404


def test_the_test_message_is_queued_and_the_last_error_shows(admin, settings):
    settings.SMS_GATEWAY, settings.SMS_API_ID = "smsru", "x"
    assert admin.post(f"{URL}sms/test/", {"recipient": "+79150001122"}).status_code == 302
    message = OutboxMessage.objects.get()
    assert (message.channel, message.recipient) == ("sms", "+79150001122")
    assert ChannelConfig.objects.get(kind="sms").last_test_at is not None
    OutboxMessage.objects.filter(pk=message.pk).update(status="failed", last_error="SMS.ru 201: no money")
    page = admin.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "SMS.ru 201: no money" in page


def test_a_switched_off_channel_sends_nothing(admin, settings):
    settings.MAX_BOT_TOKEN = "t"
    admin.post(f"{URL}max/", {})  # «On» unticked
    assert config.get("max").enabled is False
    message = outbox.enqueue(channel="max", recipient="1", text="x")
    with translation.override("en"):
        assert outbox.deliver(message.pk) == "failed"
    message.refresh_from_db()
    assert "is off" in message.last_error


def test_an_api_address_the_app_may_not_call_is_refused(admin):
    response = admin.post(
        f"{URL}max/", {"max-enabled": "on", "max-api_url": "http://169.254.169.254/latest/"}
    )
    assert response.status_code == 400
    assert not ChannelConfig.objects.exists()
