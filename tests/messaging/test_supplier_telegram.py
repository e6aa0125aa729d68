"""A supplier connects the bot by an invite link (``/start sup_<token>``,
``bookings/supplier_link.py``) and then a «Заявка поставщику» can go to that chat through the
outbox (``bookings/supply_requests.py``, docs/supplier-request.md): the right supplier is
bound, a wrong, used, replaced or expired link binds nobody, the request reaches the fake
Telegram with the supplier's link, and sending by Telegram to a supplier not connected is an
error naming the channel — in the form and in the API."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from arenda.bookings import services, supplier_link, supply_requests
from arenda.bookings.models import SupplyRequest
from arenda.core.roles import Role
from arenda.crm.models import Lead
from arenda.directory.models import Supplier
from arenda.integrations.messaging import outbox
from arenda.integrations.messaging.models import OutboxMessage
from tests.factories import BookingFactory, SupplierFactory
from tests.messaging.conftest import SECRET, sent

pytestmark = pytest.mark.django_db
URL = "/integrations/telegram/webhook/"


@pytest.fixture(autouse=True)
def bot(settings):
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.TELEGRAM_BOT_USERNAME = "arenda_test_bot"


def say(update_id, text, chat_id=5151):
    update = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": {"id": chat_id, "first_name": "Сергей"},
            "chat": {"id": chat_id, "type": "private"},
            "text": text,
        },
    }
    return Client().post(
        URL, json.dumps(update), content_type="application/json", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET
    )


def invited(**kwargs) -> Supplier:
    return supplier_link.supplier_invite(supplier=SupplierFactory(**kwargs), by=None)


def order_from(supplier: Supplier, manager=None):
    return services.booking_request_supply(
        booking=BookingFactory(site_address="г. Москва, ул. Лесная, д. 7"),
        supplier=supplier,
        cost_per_hour=Decimal("3200"),
        by=manager,
    )


def test_the_invite_link_binds_the_right_supplier_and_is_not_a_lead():
    kran, other = invited(name="ООО «КранСервис»"), invited(name="ООО «Другой»")
    assert supplier_link.invite_link(kran) == (
        f"https://t.me/arenda_test_bot?start=sup_{kran.telegram_invite_token}"
    )
    assert say(1, f"/start sup_{kran.telegram_invite_token}").status_code == 200
    kran.refresh_from_db()
    other.refresh_from_db()
    assert (kran.telegram_chat_id, other.telegram_chat_id) == ("5151", "")
    assert kran.telegram_invite_token == "" and kran.messenger_bound_at is not None
    assert "КранСервис" in OutboxMessage.objects.get(recipient="5151").text
    assert not Lead.objects.exists()


def test_a_used_replaced_or_wrong_link_binds_nobody():
    supplier = invited()
    old_token = supplier.telegram_invite_token
    supplier = supplier_link.supplier_invite(supplier=supplier, by=None, regenerate=True)
    for n, payload in enumerate([f"sup_{old_token}", "sup_", "sup_wrong"], start=1):
        say(n, f"/start {payload}")
    assert not Supplier.objects.exclude(telegram_chat_id="").exists()
    say(10, f"/start sup_{supplier.telegram_invite_token}")
    say(11, f"/start sup_{supplier.telegram_invite_token}", chat_id=6262)  # used: binds no other chat
    supplier.refresh_from_db()
    assert supplier.telegram_chat_id == "5151"


def test_an_expired_link_is_refused(settings):
    supplier = invited()
    with time_machine.travel(timezone.now() + timedelta(days=settings.DRIVER_INVITE_DAYS, minutes=1)):
        say(1, f"/start sup_{supplier.telegram_invite_token}")
    supplier.refresh_from_db()
    assert supplier.telegram_chat_id == ""
    with translation.override(settings.LANGUAGE_CODE):
        expired = _("This invite link has expired. Ask your manager for a new one.")
    assert OutboxMessage.objects.get(recipient="5151").text == expired


def test_the_request_goes_to_the_suppliers_telegram_with_its_link(client, make_user, fake):
    manager = make_user(Role.MANAGER)
    supplier = invited(name="ООО «КранСервис»", email="")
    say(1, f"/start sup_{supplier.telegram_invite_token}")
    OutboxMessage.objects.all().delete()  # the greeting
    order = order_from(supplier, manager)
    client.force_login(manager)

    page = client.get(order.get_absolute_url()).content.decode()
    assert 'value="telegram" checked' in page, "Telegram is offered first to a connected supplier"
    url = reverse("bookings:supply_order_send_request", args=[order.pk])
    for _click in range(2):  # a double click sends once
        assert client.post(url, {"channel": "telegram", "key": "tg-1"}).status_code == 302

    message = OutboxMessage.objects.get()
    assert (message.channel, message.recipient, message.attachments) == ("telegram", "5151", [])
    request = SupplyRequest.objects.get()
    assert request.recipient == "Telegram"
    outbox.deliver(message.pk)
    [delivered] = [m for m in sent(fake) if str(m["chat"]["id"]) == "5151"]
    assert supply_requests.link(request) in delivered["text"] and "ул. Лесная" in delivered["text"]


def test_telegram_to_a_supplier_not_connected_names_the_channel(client, make_user):
    manager = make_user(Role.MANAGER)
    order = order_from(SupplierFactory(email="orders@kran.example"), manager)
    client.force_login(manager)
    page = client.get(order.get_absolute_url()).content.decode()
    assert 'value="telegram" disabled' in page and 'value="email" checked' in page

    response = client.post(
        reverse("bookings:supply_order_send_request", args=[order.pk]), {"channel": "telegram"}
    )
    assert response.status_code == 400
    assert 'id="send-channel-error"' in response.content.decode()
    assert not OutboxMessage.objects.exists() and not SupplyRequest.objects.exists()


def test_the_api_sends_by_telegram_or_names_the_channel(api):
    connected = invited()
    say(1, f"/start sup_{connected.telegram_invite_token}")
    client = api(Role.MANAGER)

    refused = client.post(
        f"/api/v1/supply-orders/{order_from(SupplierFactory()).pk}/send-request/",
        {"channel": "telegram"},
        format="json",
    )
    assert refused.status_code == 400 and "channel" in refused.json()
    unknown = client.post(
        f"/api/v1/supply-orders/{order_from(connected).pk}/send-request/", {"channel": "fax"}, format="json"
    )
    assert unknown.status_code == 400 and "channel" in unknown.json()

    ok = client.post(
        f"/api/v1/supply-orders/{order_from(connected).pk}/send-request/",
        {"channel": "telegram", "key": "api-1"},
        format="json",
    )
    assert ok.status_code == 201, ok.content
    assert OutboxMessage.objects.filter(
        channel="telegram", recipient="5151", pk=ok.json()["message"]
    ).exists()


def test_the_suppliers_page_gives_the_invite_link_and_disconnects(client, make_user):
    supplier = SupplierFactory(name="ООО «КранСервис»")
    client.force_login(make_user(Role.MANAGER))
    page = client.get(supplier.get_absolute_url()).content.decode()
    assert 'id="telegram"' in page and "sup_" not in page

    client.post(reverse("bookings:supplier_telegram_invite", args=[supplier.pk]))
    supplier.refresh_from_db()
    page = client.get(supplier.get_absolute_url()).content.decode()
    assert f"start=sup_{supplier.telegram_invite_token}" in page and "<svg" in page

    say(1, f"/start sup_{supplier.telegram_invite_token}")
    client.post(reverse("bookings:supplier_telegram_unlink", args=[supplier.pk]))
    supplier.refresh_from_db()
    assert supplier.telegram_chat_id == ""


def test_who_may_not_change_suppliers_sees_no_link_and_cannot_make_one(client, make_user):
    supplier = invited()
    client.force_login(make_user(Role.DIRECTOR))  # reads suppliers, changes none
    page = client.get(supplier.get_absolute_url())
    assert supplier.telegram_invite_token not in page.content.decode()
    assert client.post(reverse("bookings:supplier_telegram_invite", args=[supplier.pk])).status_code == 403
