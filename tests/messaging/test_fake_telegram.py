"""The whole loop through HTTP, as in the demo: the fake Telegram plays the customer and
the driver against the running site."""

import httpx
import pytest
from django.core.management import call_command

from arenda.crm.models import Lead
from arenda.crm.services import lead_reply
from arenda.integrations.messaging import outbox
from arenda.integrations.messaging.models import OutboxMessage
from tests.messaging.conftest import SECRET, calls, sent


@pytest.mark.django_db(transaction=True)
def test_customer_writes_manager_replies_recipient_acknowledges(fake, live_server, make_user):
    call_command("telegram_webhook", f"{live_server.url}/integrations/telegram/webhook/")
    assert httpx.get(f"{fake.url}/_sent").json()["webhook"]["secret_token"] == SECRET

    said = httpx.post(
        f"{fake.url}/_update", json={"say": {"chat_id": 31337, "text": "Нужен манипулятор"}}
    ).json()
    assert said["status"] == 200
    lead = Lead.objects.get(telegram_chat_id="31337")

    lead_reply(lead=lead, text="Есть, 5 т. Отправить КП?", by=make_user())
    # A message with «Принял», as a dispatch to a driver has.
    message = outbox.enqueue(
        channel="telegram", recipient="31337", text="Заказ", buttons=[outbox.ack_button()]
    )
    assert outbox.deliver_due()["attempted"] == 2
    reply, got = sent(fake)
    assert reply["text"] == "Есть, 5 т. Отправить КП?"

    pressed = httpx.post(f"{fake.url}/_update", json={"press": got["message_id"]}).json()
    assert pressed["answer"]["method"] == "answerCallbackQuery"
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.ACKNOWLEDGED
    assert len(calls(fake, "answerCallbackQuery")) == 1


def test_the_fake_speaks_the_bot_api(fake):
    bot = f"{fake.url}/bot{'123456:TEST'}"
    assert httpx.get(f"{bot}/getMe").json()["result"]["is_bot"] is True
    assert httpx.post(f"{bot}/sendMessage", data={"chat_id": "1", "text": "hi"}).json()["ok"] is True
    assert httpx.post(f"{bot}/sendMessage", json={"chat_id": "1"}).status_code == 400
    assert httpx.post(f"{bot}/noSuchMethod").status_code == 404
    httpx.post(f"{fake.url}/_reset")
    assert sent(fake) == []
