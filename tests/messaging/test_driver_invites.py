"""A driver's chat is bound only through the invite link (docs/permissions.md, «Drivers'
messenger»): the API and the forms never set ``telegram_chat_id``; a link binds once, within
DRIVER_INVITE_DAYS, and only while it is the driver's current one — otherwise the chat is told
why; binding and unlinking are audit events; the driver's page says who bound it and when."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from arenda.bookings import driver_link
from arenda.core.models import AuditEvent
from arenda.core.roles import Role
from arenda.directory.models import Driver, DriverInvite
from arenda.integrations.messaging.models import OutboxMessage
from tests.factories import BookingFactory, DriverFactory
from tests.messaging.conftest import SECRET
from tests.messaging.test_driver_binding import say

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def secret(settings):
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.TELEGRAM_BOT_USERNAME = "arenda_test_bot"


def replies(chat="4242") -> list[str]:
    return list(OutboxMessage.objects.filter(recipient=chat).order_by("pk").values_list("text", flat=True))


def test_a_manager_patching_the_chat_id_cannot_receive_the_drivers_orders(api):
    driver = DriverFactory()
    client = api(Role.MANAGER)
    response = client.patch(f"/api/v1/drivers/{driver.pk}/", {"telegram_chat_id": "666"}, format="json")
    assert response.status_code == 200 and response.json()["telegram_chat_id"] == ""
    driver.refresh_from_db()
    assert driver.telegram_chat_id == ""
    start = timezone.now() + timedelta(days=1)
    booking = BookingFactory(
        driver=driver,
        status="confirmed",
        start=start,
        end=start + timedelta(hours=8),
        busy_until=start + timedelta(hours=8),
    )
    assert not OutboxMessage.objects.filter(recipient="666").exists()
    # Dispatching cannot go to the manager's chat: the driver has none (409 driver_not_linked).
    response = client.post(f"/api/v1/bookings/{booking.pk}/dispatch/", {}, format="json")
    assert response.status_code == 409, response.content
    assert not OutboxMessage.objects.filter(recipient="666").exists()


def test_the_chat_id_cannot_be_set_on_create_either(api):
    response = api(Role.ADMIN).post(
        "/api/v1/drivers/",
        {"full_name": "Пётр", "phone": "+79157654321", "telegram_chat_id": "666"},
        format="json",
    )
    assert response.status_code == 201
    assert Driver.objects.get().telegram_chat_id == ""


def test_the_invite_binds_once_and_is_refused_when_reused(make_user):
    manager = make_user(Role.MANAGER)
    driver = driver_link.driver_invite(driver=DriverFactory(full_name="Иванов Иван"), by=manager)
    token = driver.telegram_invite_token
    say(1, f"/start drv_{token}")
    driver.refresh_from_db()
    assert driver.telegram_chat_id == "4242" and driver.telegram_invite_token == ""
    assert driver.messenger_bound_by == manager and driver.messenger_bound_at is not None
    invite = DriverInvite.objects.get(token=token)
    assert invite.used_at is not None and invite.chat_id == "4242"

    say(2, f"/start drv_{token}", chat_id=5555)  # the link forwarded to someone else
    driver.refresh_from_db()
    assert driver.telegram_chat_id == "4242"
    assert "уже использована" in replies("5555")[0]


def test_an_expired_invite_is_refused(settings):
    settings.DRIVER_INVITE_DAYS = 7
    driver = driver_link.driver_invite(driver=DriverFactory(), by=None)
    DriverInvite.objects.filter(driver=driver).update(issued_at=timezone.now() - timedelta(days=7, minutes=1))
    say(1, f"/start drv_{driver.telegram_invite_token}")
    driver.refresh_from_db()
    assert driver.telegram_chat_id == ""
    assert "истёк" in replies()[0]
    assert driver_link.invite_link(driver) == ""  # the page offers a new link instead


def test_a_replaced_invite_is_refused_with_a_reason():
    driver = driver_link.driver_invite(driver=DriverFactory(), by=None)
    old = driver.telegram_invite_token
    driver_link.driver_invite(driver=driver, by=None, regenerate=True)
    say(1, f"/start drv_{old}")
    assert "заменена новой" in replies()[0]
    driver.refresh_from_db()
    assert driver.telegram_chat_id == ""


def test_binding_and_unlinking_are_audit_events(api, make_user):
    manager = make_user(Role.MANAGER)
    driver = driver_link.driver_invite(driver=DriverFactory(), by=manager)
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.MESSENGER_INVITE_ISSUED, user=manager).exists()
    say(1, f"/start drv_{driver.telegram_invite_token}")
    bound = AuditEvent.objects.get(kind=AuditEvent.Kind.MESSENGER_BOUND)
    assert bound.details["driver"] == driver.pk and bound.details["invite_issued_by"] == manager.pk

    client = api(Role.MANAGER)
    response = client.post(f"/api/v1/drivers/{driver.pk}/unlink-messenger/", REMOTE_ADDR="10.9.8.7")
    assert response.status_code == 200 and response.json()["telegram_chat_id"] == ""
    unlinked = AuditEvent.objects.get(kind=AuditEvent.Kind.MESSENGER_UNLINKED)
    assert unlinked.user == client.user and unlinked.address == "10.9.8.7"
    assert unlinked.details == {"driver": driver.pk, "chat": "4242"}


def test_the_api_gives_the_invite_link(api):
    driver = DriverFactory()
    client = api(Role.MANAGER)
    first = client.post(f"/api/v1/drivers/{driver.pk}/invite/", {}, format="json")
    assert first.status_code == 200
    body = first.json()
    assert body["link"].startswith("https://t.me/arenda_test_bot?start=drv_")
    assert body["issued_by"] == str(client.user) and body["expires_at"]
    assert (
        client.post(f"/api/v1/drivers/{driver.pk}/invite/", {}, format="json").json()["link"] == body["link"]
    )
    again = client.post(f"/api/v1/drivers/{driver.pk}/invite/", {"regenerate": True}, format="json").json()
    assert again["link"] != body["link"]


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.ACCOUNTANT])
def test_who_may_not_change_drivers_gets_no_invite_and_cannot_unlink(api, role):
    driver = DriverFactory(telegram_chat_id="4242")
    client = api(role)
    if role == Role.ACCOUNTANT:  # the accountant changes drivers (their pay): allowed
        assert client.post(f"/api/v1/drivers/{driver.pk}/invite/", {}, format="json").status_code == 200
        return
    assert client.post(f"/api/v1/drivers/{driver.pk}/invite/", {}, format="json").status_code == 403
    assert client.post(f"/api/v1/drivers/{driver.pk}/unlink-messenger/").status_code == 403
    driver.refresh_from_db()
    assert driver.telegram_chat_id == "4242"


def test_the_driver_page_says_who_bound_the_chat_and_when(make_user):
    manager = make_user(Role.MANAGER, full_name="Менеджер Мария")
    driver = driver_link.driver_invite(driver=DriverFactory(), by=manager)
    say(1, f"/start drv_{driver.telegram_invite_token}")
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(make_user(Role.DIRECTOR))
    html = client.get(driver.get_absolute_url()).content.decode()
    assert "Менеджер Мария" in html and "Bound" in html
    assert 'name="telegram_chat_id"' not in html


def test_the_page_unlink_button_is_an_audit_event(make_user):
    driver = DriverFactory(telegram_chat_id="4242")
    client = Client()
    admin = make_user(Role.ADMIN)
    client.force_login(admin)
    client.post(f"/bookings/drivers/{driver.pk}/telegram/unlink/")
    driver.refresh_from_db()
    assert driver.telegram_chat_id == ""
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.MESSENGER_UNLINKED).user == admin
