"""The second channel: e-mail through Django's mail backend."""

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from arenda.integrations.messaging import outbox
from arenda.integrations.messaging.models import OutboxMessage

pytestmark = pytest.mark.django_db
S = OutboxMessage.Status


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({"nobody@example.ru": (550, b"No such user")})


class DownBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("connection refused")


@pytest.fixture(autouse=True)
def locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "Аренда <orders@arenda.example>"


def test_an_email_is_sent_with_a_stable_message_id():
    message = outbox.enqueue(
        channel="email", recipient="client@example.ru", title="КП №12", text="Добрый день!\nКП во вложении."
    )
    assert outbox.deliver(message.pk) == S.SENT
    [sent] = mail.outbox
    assert (sent.subject, sent.to, sent.body) == (
        "КП №12",
        ["client@example.ru"],
        "Добрый день!\nКП во вложении.",
    )
    message.refresh_from_db()
    assert sent.extra_headers["Message-ID"] == message.external_id
    assert message.external_id == f"<outbox-{message.idempotency_key}@arenda.example>"


def test_without_a_title_the_first_line_is_the_subject():
    message = outbox.enqueue(channel="email", recipient="client@example.ru", text="Счёт оплачен\nСпасибо")
    outbox.deliver(message.pk)
    assert mail.outbox[0].subject == "Счёт оплачен"


def test_a_refused_address_fails_and_a_down_server_is_retried(settings):
    settings.EMAIL_BACKEND = "tests.messaging.test_email.RefusingBackend"
    refused = outbox.enqueue(channel="email", recipient="nobody@example.ru", text="Привет")
    assert outbox.deliver(refused.pk) == S.FAILED
    refused.refresh_from_db()
    assert "nobody@example.ru" in refused.last_error

    settings.EMAIL_BACKEND = "tests.messaging.test_email.DownBackend"
    later = outbox.enqueue(channel="email", recipient="client@example.ru", text="Привет")
    assert outbox.deliver(later.pk) == S.QUEUED
    later.refresh_from_db()
    assert "connection refused" in later.last_error and not later.in_doubt
