"""A driver connects the bot by opening a personal invite link (``/start drv_<token>``):
the right driver is bound, a wrong or replaced token binds nobody, a chat belongs to one
driver; the driver's page shows the link and its QR code; a driver's messages are not leads."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from arenda.bookings import driver_link
from arenda.core.models import Notification
from arenda.core.roles import Role
from arenda.crm.models import Lead
from arenda.directory.models import Driver
from arenda.flows import telegram
from arenda.integrations.messaging.models import OutboxMessage
from tests.factories import BookingFactory, DriverFactory, UserFactory
from tests.messaging.conftest import SECRET

pytestmark = pytest.mark.django_db
URL = "/integrations/telegram/webhook/"


@pytest.fixture(autouse=True)
def secret(settings):
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.TELEGRAM_BOT_USERNAME = "arenda_test_bot"


def say(update_id, text, chat_id=4242, secret=SECRET):
    update = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": {"id": chat_id, "first_name": "Иван"},
            "chat": {"id": chat_id, "type": "private"},
            "text": text,
        },
    }
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret is not None else {}
    return Client().post(URL, json.dumps(update), content_type="application/json", **headers)


def invited(**kwargs) -> Driver:
    return driver_link.driver_invite(driver=DriverFactory(**kwargs), by=None)


def test_the_invite_link_binds_the_right_driver():
    ivanov, petrov = invited(full_name="Иванов Иван"), invited(full_name="Петров Пётр")
    link = driver_link.invite_link(petrov)
    assert link == f"https://t.me/arenda_test_bot?start=drv_{petrov.telegram_invite_token}"
    assert say(1, f"/start drv_{petrov.telegram_invite_token}").status_code == 200
    ivanov.refresh_from_db()
    petrov.refresh_from_db()
    assert (ivanov.telegram_chat_id, petrov.telegram_chat_id) == ("", "4242")
    reply = OutboxMessage.objects.get(recipient="4242")
    assert "Петров Пётр" in reply.text
    assert Lead.objects.count() == 0 and Notification.objects.count() == 0


@pytest.mark.parametrize("payload", ["drv_", "drv_wrong-token", "drv", "wrong"])
def test_a_wrong_token_binds_nobody(payload):
    driver = invited()
    say(1, f"/start {payload}")
    driver.refresh_from_db()
    assert driver.telegram_chat_id == ""
    assert not Driver.objects.exclude(telegram_chat_id="").exists()
    assert Lead.objects.count() == 0
    # A polite generic greeting, not the driver's.
    assert driver.full_name not in OutboxMessage.objects.get(recipient="4242").text


def test_a_forged_start_without_the_secret_binds_nobody():
    driver = invited()
    for secret in (None, "", "wrong"):
        assert say(1, f"/start drv_{driver.telegram_invite_token}", secret=secret).status_code == 403
    driver.refresh_from_db()
    assert driver.telegram_chat_id == ""


def test_a_regenerated_token_kills_the_old_link():
    driver = invited()
    old = driver.telegram_invite_token
    assert driver_link.driver_invite(driver=driver, by=None).telegram_invite_token == old  # made once
    new = driver_link.driver_invite(driver=driver, by=None, regenerate=True).telegram_invite_token
    assert new and new != old
    say(1, f"/start drv_{old}")
    driver.refresh_from_db()
    assert driver.telegram_chat_id == ""
    say(2, f"/start drv_{new}")
    driver.refresh_from_db()
    assert driver.telegram_chat_id == "4242"


def test_a_chat_belongs_to_one_driver():
    first, second = invited(), invited()
    say(1, f"/start drv_{first.telegram_invite_token}")
    say(2, f"/start drv_{second.telegram_invite_token}")  # the same phone, handed over
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.telegram_chat_id, second.telegram_chat_id) == ("", "4242")


def test_a_drivers_text_goes_to_the_manager_of_the_current_order():
    manager = UserFactory()
    driver = DriverFactory(telegram_chat_id="4242")
    start = timezone.now() + timedelta(hours=1)
    booking = BookingFactory(
        deal__manager=manager,
        driver=driver,
        status="dispatched",
        start=start,
        busy_until=start + timedelta(hours=8),
    )
    later = start + timedelta(days=3)
    BookingFactory(  # confirmed, not sent yet: not the driver's order yet
        deal__manager=UserFactory(),
        driver=driver,
        status="confirmed",
        start=later,
        end=later + timedelta(hours=8),
        busy_until=later + timedelta(hours=8),
    )
    assert say(1, "Сломался, нужна замена").status_code == 200
    assert Lead.objects.count() == 0
    note = Notification.objects.get()
    assert note.user == manager and "Сломался, нужна замена" in note.text
    assert note.url == booking.get_absolute_url()
    assert OutboxMessage.objects.filter(recipient="4242").count() == 1


def test_a_driver_without_an_order_is_told_so_and_is_still_not_a_lead():
    DriverFactory(telegram_chat_id="4242")
    say(1, "Есть работа?")
    assert Lead.objects.count() == 0 and Notification.objects.count() == 0
    assert OutboxMessage.objects.get(recipient="4242").text


def test_anyone_else_still_becomes_a_lead():
    DriverFactory(telegram_chat_id="1111")
    say(1, "Нужен автокран", chat_id=4242)
    assert Lead.objects.get().telegram_chat_id == "4242"


def test_a_chat_handler_may_answer_or_pass(monkeypatch):
    seen = []

    def hours(*, chat_id, text, user):
        seen.append(text)
        return "Записал часы." if text == "8,5" else None

    monkeypatch.setattr(telegram, "CHAT_HANDLERS", [hours])
    say(1, "8,5")
    say(2, "Нужен кран")
    assert seen == ["8,5", "Нужен кран"]
    assert OutboxMessage.objects.get(recipient="4242").text == "Записал часы."
    assert Lead.objects.get().message == "Нужен кран"


# --- the driver's page ----------------------------------------------------------------------
def test_the_driver_page_makes_shows_and_replaces_the_link(make_user):
    driver = DriverFactory()
    client = Client()
    client.force_login(make_user(Role.MANAGER))
    page = client.get(driver.get_absolute_url()).content.decode()
    assert 'id="telegram"' in page and "t.me/" not in page
    client.post(f"/bookings/drivers/{driver.pk}/telegram/invite/")
    driver.refresh_from_db()
    first = driver.telegram_invite_token
    page = client.get(driver.get_absolute_url()).content.decode()
    assert f"https://t.me/arenda_test_bot?start=drv_{first}" in page and "<svg" in page
    client.post(f"/bookings/drivers/{driver.pk}/telegram/invite/", {"regenerate": "1"})
    driver.refresh_from_db()
    assert driver.telegram_invite_token not in ("", first)

    Driver.objects.filter(pk=driver.pk).update(telegram_chat_id="4242")
    client.post(f"/bookings/drivers/{driver.pk}/telegram/unlink/")
    driver.refresh_from_db()
    assert driver.telegram_chat_id == ""


def test_a_director_sees_the_link_state_but_cannot_change_it(make_user):
    driver = invited(telegram_chat_id="4242")
    client = Client()
    client.force_login(make_user(Role.DIRECTOR))
    page = client.get(driver.get_absolute_url()).content.decode()
    assert 'id="telegram"' in page and "/telegram/unlink/" not in page
    assert driver.telegram_invite_token not in page  # the link is a key to the driver's orders
    assert client.post(f"/bookings/drivers/{driver.pk}/telegram/unlink/").status_code == 403
    assert (
        client.post(f"/bookings/drivers/{driver.pk}/telegram/invite/", {"regenerate": "1"}).status_code == 403
    )
    driver.refresh_from_db()
    assert driver.telegram_chat_id == "4242"
