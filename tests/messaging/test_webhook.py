"""The Telegram webhook: only Telegram (with the secret) gets in; a customer's chat is one
lead; «Принял» acknowledges the right message; each update counts once."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arenda.crm.models import Lead, LeadMessage
from arenda.flows import telegram
from arenda.integrations.messaging import outbox, webhook
from arenda.integrations.messaging.models import OutboxMessage, TelegramUpdate
from tests.messaging.conftest import SECRET

pytestmark = pytest.mark.django_db
URL = "/integrations/telegram/webhook/"


@pytest.fixture(autouse=True)
def secret(settings):
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET


def post(update, secret=SECRET):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret is not None else {}
    body = update if isinstance(update, str) else json.dumps(update)
    return Client().post(URL, body, content_type="application/json", **headers)


def said(update_id, text, chat_id=4242, chat_type="private", **user):
    user = {"id": chat_id, "first_name": "Пётр", "last_name": "Сидоров"} | user
    chat = {"id": chat_id, "type": chat_type}
    return {
        "update_id": update_id,
        "message": {"message_id": update_id, "from": user, "chat": chat, "text": text},
    }


def pressed(update_id, data, chat_id=4242):
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb{update_id}",
            "from": {"id": chat_id},
            "message": {"message_id": 1, "chat": {"id": chat_id, "type": "private"}},
            "data": data,
        },
    }


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_forged_calls_are_refused(secret):
    assert post(said(1, "Нужен кран"), secret=secret).status_code == 403
    assert Lead.objects.count() == 0 and TelegramUpdate.objects.count() == 0


def test_without_a_configured_secret_nothing_gets_in(settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    assert post(said(1, "Нужен кран"), secret="").status_code == 403


@pytest.mark.parametrize(
    "body", ["not json", "[1, 2]", '{"message": {}}', '{"update_id": "7"}', '{"update_id": -1}', "null"]
)
def test_a_body_that_is_not_an_update_is_answered_200_ignored_and_logged(body, caplog):
    """Telegram retries anything but 2xx: a malformed call with the valid secret must not
    come back forever, and must not reach a lead or the update log either."""
    with caplog.at_level("WARNING", logger="arenda.api.telegram"):
        response = post(body)
    assert response.status_code == 200 and response.json()["ok"] is True
    assert "not an update" in caplog.text
    assert Lead.objects.count() == 0 and TelegramUpdate.objects.count() == 0


def test_a_chat_is_one_lead_and_redelivery_changes_nothing():
    assert post(said(100, "Нужен автокран 25 т на завтра")).status_code == 200
    lead = Lead.objects.get()
    assert (lead.source, lead.telegram_chat_id, lead.name) == ("telegram", "4242", "Пётр Сидоров")
    assert lead.message == "Нужен автокран 25 т на завтра"

    assert post(said(101, "Адрес: Москва, ул. Ленина, 1")).status_code == 200
    assert post(said(101, "Адрес: Москва, ул. Ленина, 1")).status_code == 200
    assert Lead.objects.count() == 1
    assert list(lead.messages.values_list("text", flat=True)) == [
        "Нужен автокран 25 т на завтра",
        "Адрес: Москва, ул. Ленина, 1",
    ]
    assert TelegramUpdate.objects.count() == 2


def test_another_chat_is_another_lead_named_by_username():
    post(said(1, "Кран"))
    post(said(2, "Экскаватор", chat_id=5151, first_name="", last_name="", username="builder"))
    assert sorted(Lead.objects.values_list("name", flat=True)) == ["@builder", "Пётр Сидоров"]


def test_a_photo_without_text_still_reaches_the_manager():
    update = said(3, "")
    del update["message"]["text"]
    update["message"]["photo"] = [{"file_id": "x"}]
    assert post(update).status_code == 200
    assert LeadMessage.objects.get().text


def test_groups_and_edits_are_ignored():
    assert post(said(1, "Всем привет", chat_id=-100500, chat_type="group")).status_code == 200
    assert post({"update_id": 2, "edited_message": said(2, "x")["message"]}).status_code == 200
    assert Lead.objects.count() == 0


def test_the_button_acknowledges_the_right_message():
    first, second = (
        outbox.enqueue(channel="telegram", recipient="4242", text=t, buttons=[outbox.ack_button()])
        for t in ("Заказ 1", "Заказ 2")
    )
    response = post(pressed(10, f"ack:{second.pk}"))
    assert response.status_code == 200
    answer = response.json()
    assert (answer["method"], answer["callback_query_id"]) == ("answerCallbackQuery", "cb10")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (OutboxMessage.Status.QUEUED, OutboxMessage.Status.ACKNOWLEDGED)
    assert Lead.objects.count() == 0


def test_a_button_from_another_chat_acknowledges_nothing():
    message = outbox.enqueue(
        channel="telegram", recipient="4242", text="Заказ", buttons=[outbox.ack_button()]
    )
    for update_id, data in ((1, f"ack:{message.pk}"), (2, "ack:999999"), (3, "nonsense")):
        response = post(pressed(update_id, data, chat_id=777))
        assert response.json()["method"] == "answerCallbackQuery"
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.QUEUED


def test_start_without_a_known_token_is_answered_politely():
    assert post(said(1, "/start")).status_code == 200
    assert post(said(2, "/start unknown-token")).status_code == 200
    greetings = OutboxMessage.objects.filter(recipient="4242")
    assert greetings.count() == 2 and len(set(greetings.values_list("text", flat=True))) == 1
    assert Lead.objects.count() == 0


def test_start_with_a_registered_prefix_calls_its_handler(monkeypatch):
    seen = []

    def bind(*, payload, chat_id, user):
        seen.append((payload, chat_id, user["first_name"]))
        return "Вы подключены как водитель Иванов." if payload == "good" else None

    monkeypatch.setitem(telegram.START_HANDLERS, "drv_", bind)
    post(said(1, "/start drv_good"))
    post(said(2, "/start drv_bad"))
    post(said(2, "/start drv_good"))  # redelivered: not handled twice
    assert seen == [("good", "4242", "Пётр"), ("bad", "4242", "Пётр")]
    texts = list(OutboxMessage.objects.order_by("pk").values_list("text", flat=True))
    assert texts[0] == "Вы подключены как водитель Иванов." and texts[1] != texts[0]
    assert webhook.invite_link("drv_good").endswith("?start=drv_good")


# --- any shape of update ------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
update_keys = st.sampled_from(["message", "callback_query", "edited_message", "chat", "from", "id", "data"])
chats = st.fixed_dictionaries(
    {"type": st.sampled_from(["private", "group", 5, None]), "id": st.integers() | st.text(max_size=30)}
)
messages = st.fixed_dictionaries(
    {},
    optional={
        "chat": chats | json_values,
        "from": json_values,
        "text": st.sampled_from(["/start", "/start drv_x", "8,5", "Нужен кран"]) | json_values,
        "caption": json_values,
    },
)
callbacks = st.fixed_dictionaries(
    {},
    optional={
        "id": st.integers() | st.text(max_size=10) | json_values,
        "data": st.sampled_from(["ack:1", "ack:99999999999999999999", "ack:²", "ack:"]) | json_values,
        "message": st.fixed_dictionaries({"chat": chats | json_values}) | json_values,
        "from": json_values,
    },
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    update_id=st.integers(min_value=-(2**70), max_value=2**70),
    message=messages | json_values,
    callback=callbacks | json_values,
    extra=st.dictionaries(update_keys, json_values, max_size=2),
)
def test_any_update_with_the_secret_is_answered_not_a_500(update_id, message, callback, extra):
    """Telegram redelivers anything that does not answer 200; a malformed update must be
    ignored with a 200, never a 400 or a 500."""
    for update in (
        {"update_id": update_id, "message": message},
        {"update_id": update_id, "callback_query": callback},
        {"update_id": update_id, **extra},
    ):
        response = post(update)
        assert response.status_code == 200, (update, response.content)
