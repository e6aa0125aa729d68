"""Dispatch: the order goes to the driver's Telegram with «Принял», in the transaction that
moves the booking to «dispatched»; an update after a change is marked as such; without a
linked chat the manager gets the text and WhatsApp/SMS links and marks it sent by hand."""

from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from arenda.bookings import dispatch, services
from arenda.bookings.models import Booking, SupplyOrder
from arenda.core.models import CompanySettings, Notification
from arenda.core.roles import Role
from arenda.crm.models import Lead
from arenda.integrations.messaging import outbox
from arenda.integrations.messaging.fake_telegram import FakeTelegram
from arenda.integrations.messaging.models import OutboxMessage
from tests.factories import BookingFactory, DriverFactory, SupplierFactory, UnitFactory, UserFactory
from tests.messaging.conftest import SECRET, control, sent

pytestmark = pytest.mark.django_db
S = OutboxMessage.Status


@pytest.fixture
def fake(settings):
    """The fake Telegram Bot API (as in tests/messaging)."""
    server = FakeTelegram("127.0.0.1", 0)
    server.start()
    settings.TELEGRAM_API_URL = server.url
    settings.TELEGRAM_BOT_TOKEN = "123456:TEST"
    settings.TELEGRAM_TIMEOUT = 0.5
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    yield server
    server.stop()


def url(booking):
    return f"/api/v1/bookings/{booking.pk}/dispatch/"


def make_booking(status="confirmed", chat="5551", manager=None, plate="А123ВС77", **kwargs):
    """A booking of our unit and driver, as booking_reserve/confirm leave it."""
    manager = manager or UserFactory(full_name="Анна Смирнова", phone="+79031112233")
    unit = UnitFactory(name="КС-55713", capacity_t=25, **({"plate": plate} if plate else {}))
    driver = DriverFactory(full_name="Иванов Иван", phone="+79150001122", telegram_chat_id=chat)
    start = (timezone.localtime() + timedelta(days=2)).replace(hour=8, minute=0, second=0, microsecond=0)
    booking = BookingFactory(
        deal__manager=manager,
        deal__counterparty__name="ООО «СтройМонтаж»",
        equipment_type=unit.equipment_type,
        start=start,
        end=start + timedelta(hours=9),
        busy_until=start + timedelta(hours=9) if status != "draft" else None,
        unit=unit,
        driver=driver,
        status=status,
        site_address="Москва, ул. Строителей, 5",
        site_contact_name="Прораб Петров",
        site_contact_phone="+79161234567",
        notes="Въезд с ул. Лесной",
        **kwargs,
    )
    return booking


# --- the API -----------------------------------------------------------------------------------
def test_a_manager_dispatches_the_order_with_the_button(api, django_capture_on_commit_callbacks):
    booking = make_booking()
    client = api(Role.MANAGER)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url(booking), {}, format="json")
    assert response.status_code == 202, response.data
    message = OutboxMessage.objects.get()
    assert response.data == {"message": message.pk, "status": "queued"}
    assert len(callbacks) == 1  # the send task is queued after commit, not before
    assert message.recipient == "5551" and message.subject == booking
    assert message.buttons == [{"text": outbox.ack_button()["text"], "action": "ack"}]
    assert message.idempotency_key == f"dispatch:booking:{booking.pk}:v1"
    start = timezone.localtime(booking.start)
    for part in (
        "А 123 ВС 77",
        "Москва, ул. Строителей, 5",
        start.strftime("%d.%m.%Y"),
        "08:00",
        "17:00",
        "Прораб Петров",
        "+7 916 123-45-67",
        "ООО «СтройМонтаж»",
        "КС-55713",
        "25",
        "Анна Смирнова",
        "+7 903 111-22-33",
        "Въезд с ул. Лесной",
    ):
        assert part in message.text, part
    assert dispatch.update_header() not in message.text
    booking.refresh_from_db()
    assert (booking.status, booking.dispatch_count, booking.delivery_status) == ("dispatched", 1, "queued")
    assert booking.dispatched_at is not None
    data = client.get(f"/api/v1/bookings/{booking.pk}/").data
    assert (data["dispatch_count"], data["delivery_status"]) == (1, "queued")


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.DIRECTOR])
def test_accountant_and_director_cannot_dispatch(api, role):
    booking = make_booking()
    assert api(role).post(url(booking), {}, format="json").status_code == 403
    assert OutboxMessage.objects.count() == 0
    booking.refresh_from_db()
    assert booking.status == "confirmed"


@pytest.mark.parametrize("status", ["draft", "reserved", "completed", "cancelled"])
def test_only_confirmed_or_dispatched_bookings_are_dispatched(api, status):
    booking = make_booking(status=status)
    for body in ({}, {"manual": True}):
        response = api().post(url(booking), body, format="json")
        assert response.status_code == 409 and response.data["code"] == "wrong_status"
    booking.refresh_from_db()
    assert booking.status == status and booking.dispatch_count == 0
    assert OutboxMessage.objects.count() == 0


def test_manual_must_be_a_boolean(api):
    booking = make_booking()
    response = api().post(url(booking), {"manual": "perhaps"}, format="json")
    assert response.status_code == 400 and "manual" in response.data


def test_a_changed_booking_is_sent_again_as_an_update_and_a_retry_sends_nothing_new(api):
    booking = make_booking()
    client = api()
    first = client.post(url(booking), {}, format="json").data["message"]
    # Asked again with nothing changed (a double click, a retried request): the same message.
    again = client.post(url(booking), {}, format="json")
    assert again.status_code == 202 and again.data["message"] == first
    booking.refresh_from_db()
    assert booking.dispatch_count == 1 and OutboxMessage.objects.count() == 1

    services.booking_update(booking=booking, by=None, site_address="Москва, ул. Лесная, 7")
    second = client.post(url(booking), {}, format="json").data["message"]
    assert second != first
    update = OutboxMessage.objects.get(pk=second)
    assert update.text.startswith("⚠ " + dispatch.update_header())
    assert "Москва, ул. Лесная, 7" in update.text
    assert update.idempotency_key == f"dispatch:booking:{booking.pk}:v2"
    assert client.post(url(booking), {}, format="json").data["message"] == second
    booking.refresh_from_db()
    assert (booking.status, booking.dispatch_count) == ("dispatched", 2)
    assert OutboxMessage.objects.count() == 2


def test_the_same_version_is_queued_once():
    booking = make_booking()
    result = dispatch.dispatch(booking=booking, by=None)
    key = result.message.idempotency_key
    # A second enqueue of the same version (a retried transaction) finds the first message.
    assert (
        outbox.enqueue(channel="telegram", recipient="5551", text="x", idempotency_key=key) == result.message
    )
    assert OutboxMessage.objects.count() == 1


def _decoded(link: str, param: str) -> str:
    return parse_qs(urlsplit(link).query)[param][0]


def test_a_driver_without_telegram_gets_the_order_by_hand(api):
    booking = make_booking(chat="")
    client = api()
    response = client.post(url(booking), {}, format="json")
    assert response.status_code == 409
    assert response.data["code"] == "driver_not_linked"
    assert "Иванов Иван" in response.data["detail"]
    fallback = response.data["fallback"]
    text = dispatch.render_order(Booking.objects.get(pk=booking.pk))
    assert fallback["text"] == text
    assert fallback["whatsapp"].startswith("https://wa.me/79150001122?text=")
    assert _decoded(fallback["whatsapp"], "text") == text
    assert fallback["sms"].startswith("sms:+79150001122?body=")
    assert unquote(fallback["sms"].split("?body=", 1)[1]) == text
    # Fully encoded: no raw newline, space, «&» or «#» could cut the text short.
    for raw in ("\n", " ", "&", "#"):
        assert raw not in fallback["whatsapp"] and raw not in fallback["sms"]
    booking.refresh_from_db()
    assert booking.status == "confirmed" and OutboxMessage.objects.count() == 0

    manual = client.post(url(booking), {"manual": True}, format="json")
    assert manual.status_code == 202 and manual.data == {"message": None, "status": "manual"}
    booking.refresh_from_db()
    assert (booking.status, booking.delivery_status, booking.dispatch_count) == ("dispatched", "manual", 1)
    assert OutboxMessage.objects.count() == 0


def test_a_suppliers_machine_goes_to_the_suppliers_driver_by_hand(api):
    booking = make_booking(chat="")
    Booking.objects.filter(pk=booking.pk).update(unit=None, driver=None)
    SupplyOrder.objects.create(
        booking=booking,
        supplier=SupplierFactory(),
        unit_plate="В456ОР50",
        driver_name="Сидоров Пётр",
        driver_phone="+79267778899",
        cost_per_hour=2500,
        status="confirmed",
    )
    response = api().post(url(booking), {}, format="json")
    assert response.status_code == 409 and response.data["code"] == "driver_not_linked"
    fallback = response.data["fallback"]
    assert fallback["whatsapp"].startswith("https://wa.me/79267778899?text=")
    assert fallback["sms"].startswith("sms:+79267778899?body=")
    assert "В 456 ОР 50" in fallback["text"] and "Сидоров Пётр" in fallback["text"]


# --- the template ------------------------------------------------------------------------------
def test_the_admins_template_is_used_and_an_update_is_still_marked():
    CompanySettings.objects.update_or_create(
        pk=1,
        defaults={"dispatch_template": "Заказ {{ date }} {{ start_time }}\n{{ plate }} — {{ customer }}"},
    )
    booking = make_booking()
    message = dispatch.dispatch(booking=booking, by=None).message
    start = timezone.localtime(booking.start)
    # A template without {{ trip_link }} gets the driver's trip link on a line of its own.
    link = dispatch.trip_link_line(dispatch.trip_link_url(booking))
    assert message.text == f"Заказ {start:%d.%m.%Y} 08:00\nА 123 ВС 77 — ООО «СтройМонтаж»\n\n{link}"
    Booking.objects.filter(pk=booking.pk).update(notes="other")
    CompanySettings.objects.filter(pk=1).update(dispatch_template="{{ plate }} {{ notes }}")
    update = dispatch.dispatch(booking=booking, by=None).message
    assert update.text == f"⚠ {dispatch.update_header()}\n\nА 123 ВС 77 other\n\n{link}"


def test_the_template_page_is_the_admins(make_user):
    client = Client()
    for role in (Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR):
        client.force_login(make_user(role))
        assert client.get("/bookings/dispatch-template/").status_code == 403
    client.force_login(make_user(Role.ADMIN))
    page = client.get("/bookings/dispatch-template/")
    assert page.status_code == 200
    assert "manager_phone" in page.content.decode() and "site_address" in page.content.decode()


def test_a_broken_template_is_a_form_error_naming_the_line(make_user):
    client = Client()
    client.force_login(make_user(Role.ADMIN))
    response = client.post(
        "/bookings/dispatch-template/",
        {"source": "Заказ {{ date }}\n{% if notes %}\n{{ notes }}", "action": "save"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Line 2" in body and "endif" in body
    assert CompanySettings.current().dispatch_template == ""
    response = client.post(
        "/bookings/dispatch-template/", {"source": "{{ plate|nosuchfilter }}", "action": "preview"}
    )
    assert response.status_code == 400 and "nosuchfilter" in response.content.decode()


def test_preview_save_and_reset(make_user):
    booking = make_booking()
    client = Client()
    client.force_login(make_user(Role.ADMIN))
    preview = client.post(
        "/bookings/dispatch-template/",
        {"source": "Госномер {{ plate }}", "action": "preview", "booking": booking.pk},
    )
    assert preview.status_code == 200 and "Госномер А 123 ВС 77" in preview.content.decode()
    assert CompanySettings.current().dispatch_template == ""
    saved = client.post("/bookings/dispatch-template/", {"source": "Госномер {{ plate }}", "action": "save"})
    assert saved.status_code == 302
    assert CompanySettings.current().dispatch_template == "Госномер {{ plate }}"
    assert CompanySettings.current().history.first().history_user is not None
    client.post("/bookings/dispatch-template/", {"action": "reset"})
    assert CompanySettings.current().dispatch_template == ""
    page = client.get("/bookings/dispatch-template/").content.decode()
    assert "blocktranslate" in page  # the built-in one is shown to start from


# --- the booking page --------------------------------------------------------------------------
def test_the_booking_page_sends_shows_status_and_retries(make_user):
    booking = make_booking()
    client = Client()
    client.force_login(make_user(Role.MANAGER))
    page = client.get(booking.get_absolute_url()).content.decode()
    assert f"/bookings/{booking.pk}/dispatch/" in page and "wa.me/79150001122" in page
    assert 'data-copy="#order-text-' in page

    response = client.post(f"/bookings/{booking.pk}/dispatch/")
    assert response.status_code == 302
    message = OutboxMessage.objects.get()
    # Sent and unchanged: no «send the update» button; a second click sends nothing new.
    page = client.get(booking.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Nothing has changed since the last order." in page
    assert "Send the update to the driver" not in page
    client.post(f"/bookings/{booking.pk}/dispatch/")
    assert OutboxMessage.objects.count() == 1
    Booking.objects.filter(pk=booking.pk).update(notes="Въезд с ул. Садовой")
    page = client.get(booking.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Send the update to the driver" in page
    Booking.objects.filter(pk=booking.pk).update(notes="Въезд с ул. Лесной")
    status = client.get(f"/bookings/{booking.pk}/dispatch/status/").content.decode()
    assert "dl-queued" in status and 'hx-trigger="every' in status

    OutboxMessage.objects.filter(pk=message.pk).update(
        status=S.FAILED, last_error="The recipient blocked the bot."
    )
    Booking.objects.filter(pk=booking.pk).update(delivery_status=S.FAILED)
    status = client.get(f"/bookings/{booking.pk}/dispatch/status/").content.decode()
    assert "dl-failed" in status and "blocked the bot" in status and "hx-trigger" not in status
    assert f"/bookings/{booking.pk}/dispatch/retry/" in status

    retried = client.post(f"/bookings/{booking.pk}/dispatch/retry/", HTTP_HX_REQUEST="true")
    assert retried.status_code == 200 and "dl-queued" in retried.content.decode()
    message.refresh_from_db()
    booking.refresh_from_db()
    assert message.status == S.QUEUED and booking.delivery_status == S.QUEUED


def test_the_booking_page_without_telegram_offers_the_manual_way(make_user):
    booking = make_booking(chat="")
    client = Client()
    client.force_login(make_user(Role.MANAGER))
    page = client.get(booking.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "cannot be reached: no messenger is connected" in page
    assert 'name="manual" value="1"' in page and "sms:+79150001122?body=" in page
    client.post(f"/bookings/{booking.pk}/dispatch/")
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    client.post(f"/bookings/{booking.pk}/dispatch/", {"manual": "1"})
    booking.refresh_from_db()
    assert (booking.status, booking.delivery_status) == ("dispatched", "manual")


def test_read_only_roles_see_the_status_but_no_buttons(make_user):
    booking = make_booking()
    dispatch.dispatch(booking=booking, by=None)
    client = Client()
    client.force_login(make_user(Role.ACCOUNTANT))
    page = client.get(booking.get_absolute_url()).content.decode()
    assert "dl-queued" in page and f'action="/bookings/{booking.pk}/dispatch/"' not in page
    assert client.post(f"/bookings/{booking.pk}/dispatch/").status_code == 403


def test_the_day_view_shows_a_badge_per_booking_in_constant_queries(make_user, django_assert_num_queries):
    client = Client()
    client.force_login(make_user(Role.MANAGER))
    manager = UserFactory()
    first = make_booking(manager=manager)
    dispatch.dispatch(booking=first, by=None)
    day = timezone.localtime(first.start).date().isoformat()

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            page = client.get(f"/bookings/day/?date={day}")
        assert page.status_code == 200
        return len(ctx.captured_queries), page.content.decode()

    one, page = count()
    assert "dl-queued" in page
    for status in (S.DELIVERED, S.ACKNOWLEDGED, S.FAILED):
        b = make_booking(manager=manager, status="dispatched", plate=None)
        Booking.objects.filter(pk=b.pk).update(delivery_status=status)
    four, page = count()
    assert one == four
    assert all(f"dl-{s}" in page for s in ("queued", "delivered", "acknowledged", "failed"))


# --- the whole loop against the fake Telegram --------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_dispatch_delivers_and_the_driver_accepts(fake, live_server, api):
    call_command("telegram_webhook", f"{live_server.url}/integrations/telegram/webhook/")
    booking = make_booking(chat="31337")
    assert api().post(url(booking), {}, format="json").status_code == 202
    assert outbox.deliver_due()["attempted"] == 1
    [got] = sent(fake)
    assert got["chat"]["id"] == 31337 and "А 123 ВС 77" in got["text"]
    booking.refresh_from_db()
    assert booking.delivery_status == S.DELIVERED

    # Somebody else's chat presses a forged button: nothing happens.
    stranger = {
        "callback_query": {
            "id": "cb-stranger",
            "from": {"id": 999, "is_bot": False, "first_name": ""},
            "message": {**got, "chat": {"id": 999, "type": "private"}},
            "data": got["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        }
    }
    assert httpx.post(f"{fake.url}/_update", json=stranger).json()["status"] == 200
    booking.refresh_from_db()
    assert booking.delivery_status == S.DELIVERED

    pressed = httpx.post(f"{fake.url}/_update", json={"press": got["message_id"]}).json()
    assert pressed["answer"]["method"] == "answerCallbackQuery"
    booking.refresh_from_db()
    assert booking.delivery_status == S.ACKNOWLEDGED
    assert OutboxMessage.objects.get().status == S.ACKNOWLEDGED


@pytest.mark.django_db(transaction=True)
def test_a_refused_order_shows_the_reason_and_can_be_sent_again(fake, api):
    booking = make_booking(chat="31337")
    api().post(url(booking), {}, format="json")
    control(fake, fail="403", times=1)
    outbox.deliver_due()
    booking.refresh_from_db()
    message = OutboxMessage.objects.get()
    assert booking.delivery_status == S.FAILED and message.last_error
    dispatch.retry(booking=booking, by=None)
    outbox.deliver_due()
    booking.refresh_from_db()
    assert booking.delivery_status == S.DELIVERED and len(sent(fake)) == 1


# --- the driver's chat -----------------------------------------------------------------------
def test_a_driver_writing_to_the_bot_reaches_the_manager_not_the_leads(settings):
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    manager = UserFactory(full_name="Анна Смирнова")
    booking = make_booking(manager=manager, chat="5551", status="dispatched")
    update = {
        "update_id": 77,
        "message": {
            "message_id": 1,
            "from": {"id": 5551, "first_name": "Иван"},
            "chat": {"id": 5551, "type": "private"},
            "text": "Буду через 20 минут, пробка",
        },
    }
    response = Client().post(
        "/integrations/telegram/webhook/",
        update,
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET,
    )
    assert response.status_code == 200
    assert Lead.objects.count() == 0
    note = Notification.objects.get(user=manager)
    assert "Буду через 20 минут, пробка" in note.text and note.url == booking.get_absolute_url()
    reply = OutboxMessage.objects.get(recipient="5551")
    assert reply.text and reply.subject is None


def test_the_built_in_order_reads_in_russian_whatever_the_managers_language():
    from arenda.bookings.dispatch import BUILTIN_TEMPLATE, render_text

    text = render_text(
        BUILTIN_TEMPLATE,
        {
            "date": "27.11.2026",
            "start_time": "08:00",
            "end_time": "18:00",
            "site_address": "ул. Строителей, 5",
        },
    )
    assert text.startswith("Наряд на 27.11.2026, 08:00–18:00")
    assert "Объект: ул. Строителей, 5" in text and "Нажмите «Принял»" in text
    assert not any(word in text for word in ("Order", "Press", "Site", "Customer"))
