"""MAX, VK, Avito and SMS against their fakes (``integrations/messaging/fake_*.py``), the
fakes calling the app's webhooks on a live server as the platforms do: each platform's
message makes exactly one lead and a second joins it, a forged call is refused, the
manager's reply reaches the same chat; a driver bound in MAX gets the order and presses
«Принял»; a driver with only a phone gets it by SMS with the trip link; MAX's 429 and 5xx
are retried and a blocked bot fails with the reason, and the next channel takes over."""

from datetime import timedelta

import httpx
import pytest
import time_machine
from django.utils import timezone, translation

from arenda.bookings import dispatch, driver_link
from arenda.bookings.models import Booking
from arenda.crm import services
from arenda.crm.models import Lead, LeadMessage
from arenda.flows import channels as channel_flows
from arenda.integrations.messaging import inbound, outbox
from arenda.integrations.messaging.channels import avito
from arenda.integrations.messaging.channels import max as max_channel
from arenda.integrations.messaging.fake_avito import FakeAvito
from arenda.integrations.messaging.fake_max import FakeMax
from arenda.integrations.messaging.fake_sms import FakeSms
from arenda.integrations.messaging.fake_vk import FakeVk
from arenda.integrations.messaging.inbound import Incoming
from arenda.integrations.messaging.models import OutboxMessage
from tests.factories import BookingFactory, DriverFactory, UnitFactory, UserFactory

S = OutboxMessage.Status
MAX_SECRET = "max_webhook_secret_1"
VK_SECRET = "vk-secret-key-1"
VK_GROUP = 200000001
AVITO_KEY = "avito_key_0123456789"
AVITO_ACCOUNT = 100200300


@pytest.fixture
def max_fake(settings):
    server = FakeMax("127.0.0.1", 0)
    server.start()
    settings.MAX_API_URL, settings.MAX_BOT_TOKEN = server.url, "max-token"
    settings.MAX_WEBHOOK_SECRET, settings.MAX_BOT_USERNAME = MAX_SECRET, "arenda_bot"
    settings.CHANNEL_TIMEOUT = 1
    yield server
    server.stop()


@pytest.fixture
def vk_fake(settings):
    server = FakeVk("127.0.0.1", 0, group_id=VK_GROUP)
    server.start()
    settings.VK_API_URL, settings.VK_TOKEN, settings.VK_GROUP_ID = server.url, "vk-token", str(VK_GROUP)
    settings.VK_SECRET_KEY, settings.VK_CONFIRMATION_CODE = VK_SECRET, ""
    settings.CHANNEL_TIMEOUT = 1
    yield server
    server.stop()


@pytest.fixture
def avito_fake(settings):
    server = FakeAvito("127.0.0.1", 0, client_id="cid", client_secret="csecret", account_id=AVITO_ACCOUNT)
    server.start()
    settings.AVITO_API_URL, settings.AVITO_CLIENT_ID, settings.AVITO_CLIENT_SECRET = (
        server.url,
        "cid",
        "csecret",
    )
    settings.AVITO_ACCOUNT_ID, settings.AVITO_WEBHOOK_KEY = str(AVITO_ACCOUNT), AVITO_KEY
    settings.CHANNEL_TIMEOUT = 1
    yield server
    server.stop()


@pytest.fixture
def sms_fake(settings):
    server = FakeSms("127.0.0.1", 0)
    server.start()
    settings.SMS_GATEWAY, settings.SMS_SMSRU_URL, settings.SMS_API_ID = "smsru", server.url, "test-api-id"
    settings.SMS_TIMEOUT = 1
    yield server
    server.stop()


def post(fake, path, body=None):
    response = httpx.post(f"{fake.url}{path}", json=body or {}, timeout=10)
    response.raise_for_status()
    return response.json()


def sent(fake) -> list[dict]:
    return httpx.get(f"{fake.url}/_sent", timeout=10).json()["messages"]


def deliver_all() -> list[str | None]:
    """Run the outbox as the worker would: every queued message, due or not."""
    OutboxMessage.objects.filter(status=S.QUEUED).update(next_attempt_at=timezone.now())
    return [
        outbox.deliver(pk)
        for pk in OutboxMessage.objects.filter(status=S.QUEUED).values_list("pk", flat=True)
    ]


def subscribe_max(fake, live_server):
    assert max_channel.subscribe(f"{live_server.url}/integrations/max/webhook/") == ""


# --- MAX -------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_max_messages_make_one_lead_and_the_reply_reaches_the_chat(max_fake, live_server):
    subscribe_max(max_fake, live_server)
    manager = UserFactory(role="manager")
    first = post(
        max_fake, "/_update", {"say": {"user_id": 7001, "text": "Нужен кран 25 т на завтра", "name": "Олег"}}
    )
    assert first["status"] == 200
    again = post(max_fake, "/_update", {"say": {"user_id": 7001, "text": "Адрес: Москва, Лесная 5"}})
    assert again["status"] == 200
    assert post(max_fake, "/_update", {"update": first["update"]})["status"] == 200  # MAX redelivers
    lead = Lead.objects.get()
    assert (lead.source, lead.max_chat_id, lead.name) == ("max", "7001", "Олег")
    assert list(lead.messages.values_list("channel", "text")) == [
        ("max", "Нужен кран 25 т на завтра"),
        ("max", "Адрес: Москва, Лесная 5"),
    ]
    services.lead_reply(lead=lead, text="Есть КС-55713, 25 т", by=manager)
    assert deliver_all() == ["delivered"]
    (message,) = sent(max_fake)
    assert message["recipient"]["user_id"] == 7001 and message["body"]["text"] == "Есть КС-55713, 25 т"
    assert LeadMessage.objects.get(direction="out").delivery_status == "delivered"


@pytest.mark.django_db(transaction=True)
def test_a_forged_max_webhook_is_refused(max_fake, live_server):
    subscribe_max(max_fake, live_server)
    assert (
        post(max_fake, "/_update", {"say": {"user_id": 7002, "text": "x"}, "no_secret": True})["status"]
        == 403
    )
    assert (
        post(max_fake, "/_update", {"say": {"user_id": 7002, "text": "x"}, "secret": "wrong_secret"})[
            "status"
        ]
        == 403
    )
    assert Lead.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_driver_bound_in_max_accepts_the_order(max_fake, live_server):
    subscribe_max(max_fake, live_server)
    driver = driver_link.driver_invite(
        driver=DriverFactory(full_name="Иванов Иван", phone="+79150001122"), by=None
    )
    assert (
        driver_link.max_invite_link(driver)
        == f"https://max.ru/arenda_bot?start=drv_{driver.telegram_invite_token}"
    )
    post(max_fake, "/_update", {"start": {"user_id": 8001, "payload": f"drv_{driver.telegram_invite_token}"}})
    driver.refresh_from_db()
    assert (driver.max_user_id, driver.preferred_channel) == ("8001", "max")
    deliver_all()  # the greeting
    booking = _booking(driver)
    dispatch.dispatch(booking=booking, by=None)
    assert deliver_all() == ["delivered"]
    order = sent(max_fake)[-1]
    assert order["recipient"]["user_id"] == 8001 and "Лесная" in order["body"]["text"]
    keyboard = order["body"]["attachments"][0]
    assert keyboard["type"] == "inline_keyboard"
    assert keyboard["payload"]["buttons"][0][0]["text"] == "Принял"
    pressed = post(max_fake, "/_update", {"press": order["body"]["mid"]})
    assert pressed["status"] == 200
    booking.refresh_from_db()
    assert booking.delivery_status == S.ACKNOWLEDGED
    answers = httpx.get(f"{max_fake.url}/_sent").json()["answers"]
    assert answers and answers[-1]["notification"] == "Спасибо, отмечено."


@pytest.mark.django_db
def test_max_429_and_5xx_are_retried(max_fake, monkeypatch):
    monkeypatch.setattr(max_channel, "PER_CHAT_PER_SECOND", 100)  # three tries within a second here
    post(max_fake, "/_control", {"fail": "429", "times": 1})
    message = outbox.enqueue(channel="max", recipient="9001", text="Заказ")
    assert outbox.deliver(message.pk) == S.QUEUED
    message.refresh_from_db()
    assert "429" in message.last_error
    post(max_fake, "/_control", {"fail": "503", "times": 1})
    assert deliver_all() == [S.QUEUED]
    assert deliver_all() == [S.DELIVERED]
    assert len(sent(max_fake)) == 1


@pytest.mark.django_db
def test_a_blocked_max_bot_fails_with_the_reason(max_fake):
    post(max_fake, "/_control", {"fail": "blocked", "times": 1})
    message = outbox.enqueue(channel="max", recipient="9002", text="Заказ")
    assert outbox.deliver(message.pk) == S.FAILED
    message.refresh_from_db()
    assert "blocked the bot" in message.last_error and "chat.denied" in message.last_error


@pytest.mark.django_db
def test_max_keeps_to_two_messages_a_second_per_chat(max_fake):
    messages = [outbox.enqueue(channel="max", recipient="9003", text=f"#{n}") for n in range(3)]
    # Within one second of the clock that counts them (a real second might end between two).
    with time_machine.travel(timezone.now(), tick=False), translation.override("en"):
        results = [outbox.deliver(m.pk) for m in messages]
    assert results.count(S.DELIVERED) == 2 and results.count(S.QUEUED) == 1
    waiting = OutboxMessage.objects.get(status=S.QUEUED)
    assert "too many messages" in waiting.last_error and waiting.next_attempt_at > timezone.now()


# --- falling back, SMS -----------------------------------------------------------------------
def _booking(driver) -> Booking:
    unit = UnitFactory(name="КС-55713", capacity_t=25)
    start = (timezone.localtime() + timedelta(days=2)).replace(hour=8, minute=0, second=0, microsecond=0)
    return BookingFactory(
        deal__manager=UserFactory(role="manager"),
        equipment_type=unit.equipment_type,
        start=start,
        end=start + timedelta(hours=9),
        busy_until=start + timedelta(hours=9),
        unit=unit,
        driver=driver,
        site_address="Москва, ул. Лесная, 5",
        status="confirmed",
    )


@pytest.mark.django_db
def test_a_driver_with_only_a_phone_gets_the_order_by_sms_with_the_trip_link(sms_fake):
    driver = DriverFactory(full_name="Сидоров Пётр", phone="+79150003344", telegram_chat_id="")
    booking = _booking(driver)
    result = dispatch.dispatch(booking=booking, by=None)
    assert result.message.channel == "sms" and result.message.buttons == []
    assert deliver_all() == [S.SENT]
    (sms,) = sms_fake.sent
    link = dispatch.trip_link_url(booking)
    assert sms["phone"] == "79150003344" and link in sms["text"] and "Лесная" in sms["text"]


@pytest.mark.django_db
def test_a_blocked_max_falls_back_to_sms_and_the_booking_shows_it(max_fake, sms_fake, client):
    driver = DriverFactory(
        phone="+79150005566", telegram_chat_id="", max_user_id="8101", preferred_channel="max"
    )
    booking = _booking(driver)
    post(max_fake, "/_control", {"fail": "blocked", "times": 1})
    dispatch.dispatch(booking=booking, by=None)
    assert deliver_all() == [S.FAILED]
    assert deliver_all() == [S.SENT]
    fallback = OutboxMessage.objects.get(channel="sms")
    assert fallback.fallback_of.channel == "max" and fallback.fallback_of.status == S.FAILED
    booking.refresh_from_db()
    assert booking.delivery_status == S.SENT
    shown = dispatch.delivery(booking)
    assert shown["channel"] == "SMS" and shown["instead_of"][0]["channel"] == "MAX"
    assert "blocked the bot" in shown["instead_of"][0]["error"]


@pytest.mark.django_db
def test_sms_delivery_states_are_polled(sms_fake):
    delivered = outbox.enqueue(channel="sms", recipient="+79150007788", text="Код 1234")
    failed = outbox.enqueue(channel="sms", recipient="+79150007789", text="Код 5678")
    assert deliver_all() == [S.SENT, S.SENT]
    delivered.refresh_from_db()
    failed.refresh_from_db()
    post(sms_fake, "/_status", {"id": delivered.external_id, "state": "delivered"})
    post(sms_fake, "/_status", {"id": failed.external_id, "state": "failed"})
    assert outbox.poll_statuses() == {"polled": 2, "changed": 2}
    delivered.refresh_from_db()
    failed.refresh_from_db()
    assert delivered.status == S.DELIVERED and delivered.delivered_at is not None
    assert failed.status == S.FAILED and "SMS.ru 10" in failed.last_error


@pytest.mark.django_db
def test_the_daily_sms_cap_stops_sending(sms_fake, settings):
    settings.SMS_DAILY_CAP = 1
    outbox.enqueue(channel="sms", recipient="+79150007790", text="Первая")
    outbox.enqueue(channel="sms", recipient="+79150007791", text="Вторая")
    assert deliver_all() == [S.SENT, S.FAILED]
    assert "cap" in OutboxMessage.objects.get(status=S.FAILED).last_error
    assert len(sms_fake.sent) == 1


# --- VK --------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_vk_messages_make_one_lead_and_the_reply_reaches_the_peer(vk_fake, live_server):
    post(vk_fake, "/_callback", {"url": f"{live_server.url}/integrations/vk/webhook/", "secret": VK_SECRET})
    confirmed = post(vk_fake, "/_update", {"confirm": True})
    assert confirmed["confirmed"] is True
    first = post(vk_fake, "/_update", {"say": {"from_id": 5101, "text": "Сколько стоит автовышка 22 м?"}})
    assert (first["status"], first["body"]) == (200, "ok")
    post(vk_fake, "/_update", {"say": {"from_id": 5101, "text": "На субботу"}})
    post(vk_fake, "/_update", {"repeat": first["event"]["event_id"]})  # VK's redelivery
    lead = Lead.objects.get()
    assert (lead.source, lead.vk_peer_id, lead.messages.count()) == ("vk", "5101", 2)
    forged = post(vk_fake, "/_update", {"say": {"from_id": 5102, "text": "x"}, "secret": "wrong"})
    assert forged["status"] == 403 and Lead.objects.count() == 1
    services.lead_reply(lead=lead, text="3 500 ₽/ч, минимум 4 часа", by=UserFactory(role="manager"))
    assert deliver_all() == [S.DELIVERED]
    (message,) = sent(vk_fake)
    assert str(message["peer_id"]) == "5101" and message["message"] == "3 500 ₽/ч, минимум 4 часа"


@pytest.mark.django_db
def test_a_vk_resend_in_doubt_is_not_a_second_message(vk_fake):
    post(vk_fake, "/_control", {"fail": "timeout", "times": 1, "delay": 2})
    message = outbox.enqueue(channel="vk", recipient="5103", text="Ответ")
    assert outbox.deliver(message.pk) == S.QUEUED
    message.refresh_from_db()
    assert message.in_doubt
    assert deliver_all() == [S.DELIVERED]
    assert len(sent(vk_fake)) == 1  # the same random_id: VK sent it once


# --- Avito -----------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_avito_messages_make_one_lead_with_the_ad(avito_fake, live_server):
    url = f"{live_server.url}/integrations/avito/webhook/{AVITO_KEY}/"
    assert avito.subscribe(url) == ""  # Avito probes the address with {} first
    item = {"id": 4242, "title": "Аренда автокрана 25 т", "url": "https://www.avito.ru/moskva/4242"}
    first = post(
        avito_fake, "/_update", {"say": {"author_id": 555, "text": "Свободен в пятницу?", "item": item}}
    )
    assert first["status"] == 200
    post(avito_fake, "/_update", {"say": {"chat_id": first["chat_id"], "author_id": 555, "text": "С 8 утра"}})
    lead = Lead.objects.get()
    assert (lead.source, lead.avito_chat_id, lead.messages.count()) == ("avito", first["chat_id"], 2)
    assert channel_flows.fetch_avito_ad.call(lead.pk) is True
    lead.refresh_from_db()
    assert (lead.ad_title, lead.ad_url) == (item["title"], item["url"])
    services.lead_reply(lead=lead, text="Свободен, 3 200 ₽/ч", by=UserFactory(role="manager"))
    assert deliver_all() == [S.DELIVERED]
    (message,) = sent(avito_fake)
    assert message["chat_id"] == first["chat_id"] and message["content"]["text"] == "Свободен, 3 200 ₽/ч"


@pytest.mark.django_db
def test_an_avito_call_without_the_key_is_refused(client, settings):
    settings.AVITO_WEBHOOK_KEY = AVITO_KEY
    body = (
        '{"id": "d1", "payload": {"type": "message", "value": {"id": "m1", "chat_id": "c1", "author_id": 5}}}'
    )
    assert (
        client.post("/integrations/avito/webhook/wrong/", body, content_type="application/json").status_code
        == 403
    )
    assert Lead.objects.count() == 0


@pytest.mark.django_db
def test_an_expired_avito_token_is_renewed(avito_fake):
    lead = services.intake_receive(source="avito", chat_id="u2u-1", message="Привет").lead
    httpx.post(f"{avito_fake.url}/_update", json={"say": {"chat_id": "u2u-1", "author_id": 1, "text": "x"}})
    services.lead_reply(lead=lead, text="Первый", by=None)
    assert deliver_all() == [S.DELIVERED]
    post(avito_fake, "/_control", {"expire_tokens": True})
    services.lead_reply(lead=lead, text="Второй", by=None)
    assert deliver_all() == [S.DELIVERED]
    assert len(httpx.get(f"{avito_fake.url}/_sent").json()["tokens_issued"]) == 2


# --- one lead, three channels ----------------------------------------------------------------
@pytest.mark.django_db
def test_one_customer_in_three_channels_is_one_lead():
    """A customer writes in MAX leaving a phone, then in VK with the same phone, then rings:
    one lead, three channels, and the manager can answer in either messenger."""
    channel_flows.handle(
        Incoming(
            "max", "mid.1", "message", chat_id="7301", user_id="7301", text="Кран на завтра, 8 916 123-45-67"
        )
    )
    channel_flows.handle(
        Incoming("vk", "ev1", "message", chat_id="5301", user_id="5301", text="Это я же, +7 916 123 45 67")
    )
    services.intake_receive(source="phone", phone="+79161234567", message="Входящий звонок")
    lead = Lead.objects.get()
    assert (lead.phone, lead.max_chat_id, lead.vk_peer_id) == ("+79161234567", "7301", "5301")
    assert list(lead.messages.values_list("channel", flat=True)) == ["max", "vk", "phone"]
    assert services.reply_channels(lead) == ["vk", "max"]


# --- reading what the platforms say ----------------------------------------------------------
@pytest.mark.django_db
def test_vk_read_marks_our_messages_read(vk_fake):
    first = outbox.enqueue(channel="vk", recipient="5401", text="Первое")
    second = outbox.enqueue(channel="vk", recipient="5401", text="Второе")
    assert [outbox.deliver(first.pk), outbox.deliver(second.pk)] == [S.DELIVERED, S.DELIVERED]
    first.refresh_from_db()
    channel_flows.handle(Incoming("vk", "ev-read", "read", chat_id="5401", read_upto=int(first.external_id)))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (S.READ, S.DELIVERED)
    assert first.read_at is not None


@pytest.mark.django_db
def test_a_chat_whose_lead_became_a_deal_writes_into_the_deals_timeline(client, make_user):
    manager = make_user("manager")
    channel_flows.handle(
        Incoming("max", "mid.a", "message", chat_id="7401", user_id="7401", name="Олег", text="Нужен кран")
    )
    lead = Lead.objects.get()
    deal = services.lead_qualify(lead=lead, by=manager, title="Кран для Олега").deal
    channel_flows.handle(
        Incoming("max", "mid.b", "message", chat_id="7401", user_id="7401", text="А можно к 7 утра?")
    )
    assert Lead.objects.count() == 1
    assert lead.messages.count() == 2
    client.force_login(manager)
    page = client.get(deal.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "А можно к 7 утра?" in page and "Нужен кран" in page


@pytest.mark.django_db
def test_an_avito_echo_of_our_own_message_is_not_a_lead():
    body = (
        '{"id": "d2", "version": "v3", "timestamp": 1, "payload": {"type": "message", "value": '
        '{"id": "m2", "chat_id": "u2i-x", "user_id": 100200300, "author_id": 100200300, "type": "text", '
        '"content": {"text": "our reply"}}}}'
    )
    event = inbound.avito_delivery(body.encode())
    assert event.kind == "other"
    channel_flows.handle(event)
    assert Lead.objects.count() == 0


@pytest.mark.django_db
def test_unlinking_a_driver_stops_max_too():
    driver = DriverFactory(telegram_chat_id="111", max_user_id="222", preferred_channel="max")
    driver_link.driver_unlink(driver=driver, by=None)
    driver.refresh_from_db()
    assert (driver.telegram_chat_id, driver.max_user_id) == ("", "")
    assert dispatch.driver_routes(driver) == []


@pytest.mark.django_db
def test_the_api_reply_names_the_channel_or_says_why_not(api):
    lead = services.intake_receive(source="max", chat_id="7501", name="Олег", message="Кран?").lead
    client = api("manager")
    refused = client.post(f"/api/v1/leads/{lead.pk}/reply/", {"text": "Да", "channel": "vk"}, format="json")
    assert refused.status_code == 400 and "channel" in refused.data
    unknown = client.post(
        f"/api/v1/leads/{lead.pk}/reply/", {"text": "Да", "channel": "pigeon"}, format="json"
    )
    assert unknown.status_code == 400 and "channel" in unknown.data
    sent_ok = client.post(f"/api/v1/leads/{lead.pk}/reply/", {"text": "Да", "channel": "max"}, format="json")
    assert sent_ok.status_code == 201
    assert OutboxMessage.objects.get().channel == "max"
    assert client.get(f"/api/v1/leads/{lead.pk}/").data["max_chat_id"] == "7501"


@pytest.mark.django_db
def test_handled_events_are_forgotten_after_a_month():
    old = Incoming("vk", "ev-old", "other")
    recent = Incoming("vk", "ev-new", "other")
    with time_machine.travel(timezone.now() - timedelta(days=31)):
        assert inbound.first_time(old)
    assert inbound.first_time(recent)
    assert inbound.purge_old_events() == 1
    assert inbound.first_time(old) and not inbound.first_time(recent)


@pytest.mark.django_db
def test_a_driver_with_the_order_by_sms_accepts_it_on_the_trip_page(sms_fake, client):
    driver = DriverFactory(phone="+79150009900", telegram_chat_id="")
    booking = _booking(driver)
    dispatch.dispatch(booking=booking, by=None)
    page_url = dispatch.trip_link_url(booking)
    path = "/" + page_url.split("/", 3)[3]
    assert 'id="trip-accept"' not in client.get(path).content.decode()  # not sent yet
    assert deliver_all() == [S.SENT]
    assert 'id="trip-accept"' in client.get(path).content.decode()
    assert client.post(f"{path}accept/").status_code == 403  # only from the page itself
    assert client.post(f"{path}accept/", HTTP_SEC_FETCH_SITE="same-origin").status_code == 302
    booking.refresh_from_db()
    assert booking.delivery_status == S.ACKNOWLEDGED
    assert 'id="trip-accept"' not in client.get(path).content.decode()
    assert (
        client.post(f"{path}accept/", HTTP_SEC_FETCH_SITE="same-origin").status_code == 302
    )  # again: nothing


@pytest.mark.django_db
def test_an_avito_chat_id_stays_one_path_segment(avito_fake):
    message = outbox.enqueue(channel="avito", recipient="../../../token", text="x")
    assert outbox.deliver(message.pk) == S.FAILED
    paths = [call["path"] for call in httpx.get(f"{avito_fake.url}/_sent").json()["calls"]]
    assert any("..%2F..%2F..%2Ftoken/messages" in path for path in paths), paths
