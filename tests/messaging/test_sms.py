"""The SMS channel: SMS.ru and SMSC against the fake gateway built from their samples;
and the e-mail channel's attachments."""

import httpx
import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from arenda.integrations.messaging import fake_sms, outbox
from arenda.integrations.messaging.fake_sms import FakeSms
from arenda.integrations.messaging.models import OutboxMessage

pytestmark = pytest.mark.django_db
S = OutboxMessage.Status


@pytest.fixture
def gateway(settings):
    server = FakeSms()
    server.start()
    settings.SMS_SMSRU_URL = server.url
    settings.SMS_SMSC_URL = server.url + "/sys"
    settings.SMS_API_ID = fake_sms.API_ID
    settings.SMS_LOGIN, settings.SMS_PASSWORD = fake_sms.LOGIN, fake_sms.PASSWORD
    settings.SMS_TIMEOUT = 2
    yield server
    server.stop()


def sent(server) -> list[dict]:
    return httpx.get(f"{server.url}/_sent").json()["messages"]


def fail(server, code, times=1):
    httpx.post(f"{server.url}/_control", json={"fail": code, "times": times}).raise_for_status()


@pytest.mark.parametrize("provider", ["smsru", "smsc"])
def test_an_sms_goes_through_the_chosen_gateway(settings, gateway, provider):
    settings.SMS_GATEWAY = provider
    message = outbox.enqueue(channel="sms", recipient="+79991234567", text="Код: 482113")
    assert outbox.deliver(message.pk) == S.SENT
    [taken] = sent(gateway)
    assert (taken["provider"], taken["phone"], taken["text"]) == (provider, "79991234567", "Код: 482113")
    message.refresh_from_db()
    assert taken["id"] in message.external_id


@pytest.mark.parametrize(
    ("provider", "code", "status"),
    [
        ("smsru", "220", S.QUEUED),  # service unavailable: later
        ("smsru", "500", S.QUEUED),
        ("smsru", "http500", S.QUEUED),
        ("smsru", "201", S.FAILED),  # no money: final
        ("smsru", "207", S.FAILED),  # no route to the number
        ("smsc", "9", S.QUEUED),  # duplicate within a minute
        ("smsc", "3", S.FAILED),
        ("smsc", "7", S.FAILED),
    ],
)
def test_gateway_refusals_are_retried_or_final(settings, gateway, provider, code, status):
    settings.SMS_GATEWAY = provider
    fail(gateway, code)
    message = outbox.enqueue(channel="sms", recipient="+79991234567", text="Код: 1")
    assert outbox.deliver(message.pk) == status
    message.refresh_from_db()
    assert code.removeprefix("http") in message.last_error


def test_a_bad_key_is_final(settings, gateway):
    settings.SMS_GATEWAY, settings.SMS_API_ID = "smsru", "wrong"
    message = outbox.enqueue(channel="sms", recipient="+79991234567", text="Код: 1")
    assert outbox.deliver(message.pk) == S.FAILED
    assert sent(gateway) == []


def test_no_gateway_fails_without_a_call(settings):
    settings.SMS_GATEWAY = ""
    message = outbox.enqueue(channel="sms", recipient="+79991234567", text="Код: 1")
    assert outbox.deliver(message.pk) == S.FAILED
    message.refresh_from_db()
    assert "SMS_GATEWAY" in message.last_error


def test_an_unreachable_gateway_is_retried(settings):
    settings.SMS_GATEWAY, settings.SMS_API_ID = "smsru", "x"
    settings.SMS_SMSRU_URL, settings.SMS_TIMEOUT = "http://127.0.0.1:9", 1
    message = outbox.enqueue(channel="sms", recipient="+79991234567", text="Код: 1")
    assert outbox.deliver(message.pk) == S.QUEUED


def test_the_email_channel_attaches_stored_files(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    name = default_storage.save("shift-reports/test/report.pdf", ContentFile(b"%PDF-1.7 test"))
    message = outbox.enqueue(
        channel="email",
        recipient="client@example.ru",
        title="Справка",
        text="Во вложении.",
        attachments=[{"name": name, "filename": "Spravka-1.pdf", "content_type": "application/pdf"}],
    )
    assert outbox.deliver(message.pk) == S.SENT
    [email] = mail.outbox
    assert email.attachments[0][0] == "Spravka-1.pdf"
    assert email.attachments[0][1] == b"%PDF-1.7 test"
    assert email.attachments[0][2] == "application/pdf"


def test_a_missing_attachment_fails_the_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    message = outbox.enqueue(
        channel="email",
        recipient="client@example.ru",
        text="Во вложении.",
        attachments=[
            {"name": "shift-reports/none.pdf", "filename": "x.pdf", "content_type": "application/pdf"}
        ],
    )
    assert outbox.deliver(message.pk) == S.FAILED
    assert mail.outbox == []
