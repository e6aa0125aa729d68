import pytest
from django.test import Client

from arenda.core.roles import Role
from arenda.integrations.messaging import outbox
from arenda.integrations.messaging.models import OutboxMessage
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LIST = "/admin/messaging/outboxmessage/"


def _client(role):
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


def test_the_outbox_is_read_only_and_a_failed_message_can_be_sent_again(settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    message = outbox.enqueue(channel="telegram", recipient="1", text="Заказ")
    outbox.deliver(message.pk)
    admin = _client(Role.ADMIN)
    assert admin.get(LIST).status_code == 200
    assert admin.get(f"{LIST}{message.pk}/change/").status_code == 200
    assert admin.get(f"{LIST}add/").status_code == 403
    response = admin.post(LIST, {"action": "send_again", "_selected_action": [message.pk]})
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.QUEUED, 0)


def test_an_accountant_sees_the_outbox_but_cannot_resend():
    page = _client(Role.ACCOUNTANT).get(LIST)
    assert page.status_code == 200 and b"send_again" not in page.content
