"""«Заявка поставщику» (docs/supplier-request.md): the PDF read back, the e-mail with the
PDF queued once, the supplier's link confirming or declining through the order's status
flow and telling the manager, repeats, versions, 404s and permissions."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from arenda.bookings import services, supply_requests
from arenda.bookings.models import SupplyOrder, SupplyRequest
from arenda.core.models import Notification
from arenda.core.roles import Role
from arenda.integrations.messaging.models import OutboxMessage
from tests.factories import (
    BookingFactory,
    DealFactory,
    EquipmentTypeFactory,
    OrganizationFactory,
    SupplierFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER)


@pytest.fixture
def order(manager):
    organization = OrganizationFactory(name="ООО «Наша Аренда»", inn="7707083893")
    deal = DealFactory(organization=organization, manager=manager)
    booking = BookingFactory(
        deal=deal,
        equipment_type=EquipmentTypeFactory(name="Автокран"),
        start=datetime(2026, 3, 10, 5, 0, tzinfo=UTC),  # 08:00 in Moscow
        end=datetime(2026, 3, 10, 15, 0, tzinfo=UTC),  # 18:00 in Moscow
        site_address="г. Москва, ул. Лесная, д. 7",
        site_contact_name="Петров Иван",
        rate_per_hour=Decimal("4000"),
    )
    return services.booking_request_supply(
        booking=booking,
        supplier=SupplierFactory(name="ООО «КранСервис»", email="orders@kran.example"),
        cost_per_hour=Decimal("3200"),
        by=manager,
    )


@pytest.fixture
def staff(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def supplier_client():
    return Client(headers={"Accept-Language": "en"}, REMOTE_ADDR="10.0.0.5")


def _text(pdf: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.replace("\u202f", " ").split())


def _page(token, name="page"):
    return reverse(f"supply_public:{name}", args=[token])


def test_the_pdf_says_what_when_where_the_rate_and_our_requisites(order):
    text = _text(supply_requests.render_request_pdf(order))
    for expected in (
        "Автокран",
        "10.03.2026 08:00",
        "10.03.2026 18:00",
        "ул. Лесная",
        "Петров Иван",
        "3 200",
        "Наша Аренда",
        "7707083893",
        "КранСервис",
    ):
        assert expected in text, expected


def test_the_manager_downloads_the_pdf(staff, order):
    response = staff.get(reverse("bookings:supply_order_request_pdf", args=[order.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "Автокран" in _text(response.content)


def test_sending_queues_one_e_mail_with_the_pdf_and_the_link(staff, order):
    url = reverse("bookings:supply_order_send_request", args=[order.pk])
    for _ in range(2):  # a double click: the form's key makes it one e-mail
        response = staff.post(url, {"to": "orders@kran.example", "key": "form-1"})
        assert response.status_code == 302
    message = OutboxMessage.objects.get()
    assert message.channel == "email" and message.recipient == "orders@kran.example"
    request = SupplyRequest.objects.get()
    assert supply_requests.link(request) in message.text
    [attachment] = message.attachments
    assert attachment["content_type"] == "application/pdf"
    with default_storage.open(attachment["name"]) as stored:
        assert "ул. Лесная" in _text(stored.read())
    page = staff.get(order.get_absolute_url()).content.decode()
    assert supply_requests.link(request) in page


def test_a_bad_address_is_a_form_error(staff, order):
    response = staff.post(reverse("bookings:supply_order_send_request", args=[order.pk]), {"to": "no-at"})
    assert response.status_code == 400
    assert 'id="send-to-error"' in response.content.decode()
    assert not OutboxMessage.objects.exists() and not SupplyRequest.objects.exists()


def test_sending_again_unchanged_keeps_the_link_a_change_makes_a_new_version(order, manager, supplier_client):
    first = supply_requests.issue(order=order, by=manager)
    assert supply_requests.issue(order=order, by=manager).pk == first.pk
    SupplyOrder.objects.filter(pk=order.pk).update(cost_per_hour=Decimal("3500"))
    second = supply_requests.issue(order=order, by=manager)
    assert second.pk != first.pk
    old = supplier_client.get(_page(first.token))
    assert old.status_code == 200
    body = old.content.decode()
    assert "request has changed" in body and "ул. Лесная" not in body
    answer = supplier_client.post(_page(first.token, "confirm"))
    assert answer.status_code == 409
    assert SupplyOrder.objects.get(pk=order.pk).status == SupplyOrder.Status.REQUESTED


def test_the_supplier_confirms_once_and_the_manager_is_told(
    order, manager, supplier_client, django_capture_on_commit_callbacks
):
    request = supply_requests.issue(order=order, by=manager)
    page = supplier_client.get(_page(request.token))
    assert page.status_code == 200 and "ул. Лесная" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = supplier_client.post(_page(request.token, "confirm"), {"name": "Сидоров"})
    assert response.status_code == 302
    assert SupplyOrder.objects.get(pk=order.pk).status == SupplyOrder.Status.CONFIRMED
    request.refresh_from_db()
    assert request.answer == "confirmed" and request.answered_by == "Сидоров" and request.answered_at
    assert Notification.objects.filter(user=manager, text__contains="подтвердил").count() == 1
    again = supplier_client.post(_page(request.token, "confirm"))
    assert again.status_code == 409 and "answered already" in again.content.decode()
    assert Notification.objects.count() == 1


def test_the_supplier_declines_with_a_reason(
    order, manager, supplier_client, django_capture_on_commit_callbacks
):
    request = supply_requests.issue(order=order, by=manager)
    no_reason = supplier_client.post(_page(request.token, "decline"), {"reason": "  "})
    assert no_reason.status_code == 400
    assert SupplyOrder.objects.get(pk=order.pk).status == SupplyOrder.Status.REQUESTED
    with django_capture_on_commit_callbacks(execute=True):
        response = supplier_client.post(_page(request.token, "decline"), {"reason": "Кран в ремонте"})
    assert response.status_code == 302
    assert SupplyOrder.objects.get(pk=order.pk).status == SupplyOrder.Status.DECLINED
    assert Notification.objects.get(user=manager).text.endswith("Кран в ремонте")
    client = Client()
    client.force_login(manager)
    assert "Кран в ремонте" in client.get(order.get_absolute_url()).content.decode()
    assert supplier_client.post(_page(request.token, "confirm")).status_code == 409
    # sent again after a change, the order is requested again with a new link
    SupplyOrder.objects.filter(pk=order.pk).update(cost_per_hour=Decimal("3600"))
    assert supply_requests.issue(order=order, by=manager).pk != request.pk
    assert SupplyOrder.objects.get(pk=order.pk).status == SupplyOrder.Status.REQUESTED


def test_a_wrong_token_or_a_cancelled_order_is_a_404(order, manager, supplier_client):
    request = supply_requests.issue(order=order, by=manager)
    token = request.token
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    for name in ("page", "pdf"):
        assert supplier_client.get(_page(wrong, name)).status_code == 404
    assert supplier_client.post(_page(wrong, "confirm")).status_code == 404
    assert supplier_client.get(_page(token, "pdf")).status_code == 200
    services.supply_order_set_status(supply_order=order, status=SupplyOrder.Status.CANCELLED, by=manager)
    for name in ("page", "pdf"):
        response = supplier_client.get(_page(token, name))
        assert response.status_code == 404 and "Лесная" not in response.content.decode(errors="ignore")
    assert supplier_client.post(_page(token, "confirm")).status_code == 404


def test_the_answers_need_post_and_csrf(order, manager):
    request = supply_requests.issue(order=order, by=manager)
    strict = Client(enforce_csrf_checks=True)
    assert strict.get(_page(request.token, "confirm")).status_code == 405
    assert strict.post(_page(request.token, "confirm")).status_code == 403
    assert SupplyOrder.objects.get(pk=order.pk).status == SupplyOrder.Status.REQUESTED


@override_settings(INTAKE_RATE_LIMIT=2)
def test_the_answers_are_rate_limited(order, manager, time_machine):
    # The counts are per clock minute and address (crm/intake.py): an address of its own.
    time_machine.move_to(timezone.now().replace(second=5), tick=False)
    supplier = Client(headers={"Accept-Language": "en"}, REMOTE_ADDR="10.0.0.77")
    request = supply_requests.issue(order=order, by=manager)
    answers = [supplier.post(_page(request.token, "decline"), {"reason": ""}) for _ in range(2)]
    answers.append(supplier.post(_page(request.token, "confirm")))
    assert [a.status_code for a in answers] == [400, 400, 429]
    assert int(answers[2]["Retry-After"]) >= 1
    assert SupplyOrder.objects.get(pk=order.pk).status == SupplyOrder.Status.REQUESTED


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.DIRECTOR])
def test_read_only_roles_cannot_send(client, make_user, order, role):
    client.force_login(make_user(role))
    response = client.post(
        reverse("bookings:supply_order_send_request", args=[order.pk]), {"to": "a@b.example"}
    )
    assert response.status_code == 403
    assert not OutboxMessage.objects.exists()


def test_a_cancelled_order_takes_no_request(staff, order, manager):
    services.supply_order_set_status(supply_order=order, status=SupplyOrder.Status.CANCELLED, by=manager)
    response = staff.post(
        reverse("bookings:supply_order_send_request", args=[order.pk]), {"to": "a@b.example"}
    )
    assert response.status_code == 409
    assert not OutboxMessage.objects.exists()


def test_the_api_sends_once_per_key_and_gives_the_pdf(api, order):
    client = api(Role.MANAGER)
    url = f"/api/v1/supply-orders/{order.pk}/send-request/"
    first = client.post(url, {"key": "k1"}, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["url"].endswith(f"/s/{SupplyRequest.objects.get().token}/")
    assert client.post(url, {"key": "k1"}, format="json").status_code == 201
    assert OutboxMessage.objects.get().recipient == "orders@kran.example"
    bad = client.post(url, {"to": "not-an-address"}, format="json")
    assert bad.status_code == 400 and "to" in bad.json()
    pdf = client.get(f"/api/v1/supply-orders/{order.pk}/request.pdf")
    assert pdf.status_code == 200 and "Автокран" in _text(pdf.content)
    assert api(Role.ACCOUNTANT).post(url, {}, format="json").status_code == 403


def test_the_api_still_makes_no_supply_order_by_post(api, order):
    response = api(Role.MANAGER).post("/api/v1/supply-orders/", {"booking": order.booking_id}, format="json")
    assert response.status_code == 405
    assert SupplyOrder.objects.count() == 1
