"""A driver reports hours (and km) through the bot after the job: «8,5 120» becomes a report
waiting on the booking page; the manager confirms it in one click into a waybill
(source «driver») or rejects it. Anything else the driver writes still reaches the manager."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from arenda.bookings import driver_reports
from arenda.bookings.models import Booking, DriverReport, Waybill
from arenda.core.models import Notification
from arenda.core.roles import Role
from arenda.crm.models import Lead
from arenda.integrations.messaging.models import OutboxMessage
from tests.factories import BookingFactory, DriverFactory, OrganizationFactory, UnitFactory, UserFactory
from tests.messaging.conftest import SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def secret(settings):
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET


def say(update_id, text, chat_id=4242):
    update = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": {"id": chat_id, "first_name": "Иван"},
            "chat": {"id": chat_id, "type": "private"},
            "text": text,
        },
    }
    return Client().post(
        "/integrations/telegram/webhook/",
        json.dumps(update),
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET,
    )


@pytest.fixture
def job():
    """A dispatched booking that began this morning, its driver bound to chat 4242."""
    OrganizationFactory()  # ours: overtime is invoiced on its behalf
    manager = UserFactory()
    driver = DriverFactory(telegram_chat_id="4242")
    unit = UnitFactory()
    start = timezone.now() - timedelta(hours=9)
    return BookingFactory(
        deal__manager=manager,
        deal__counterparty__prepayment_required=False,
        equipment_type=unit.equipment_type,
        unit=unit,
        driver=driver,
        start=start,
        end=start + timedelta(hours=8),
        busy_until=start + timedelta(hours=8),
        status="dispatched",
        rate_per_km=Decimal("120"),
    )


@pytest.mark.parametrize(
    "text, hours, km",
    [
        ("8", "8", None),
        ("8.5", "8.5", None),
        ("8,5", "8.5", None),
        ("8,5 120", "8.5", "120"),
        ("8,5ч 120км", "8.5", "120"),
        ("9.25 h / 64.5 km", "9.25", "64.5"),
    ],
)
def test_hours_and_km_are_read(text, hours, km):
    parsed = driver_reports.parse_hours_report(text)
    assert parsed == (Decimal(hours), Decimal(km) if km else None)


@pytest.mark.parametrize("text", ["", "0", "привет", "8 часов работал", "12.05 в 8:00", "8,5 120 3", "-8"])
def test_other_texts_are_not_reports(text):
    assert driver_reports.parse_hours_report(text) is None


def test_the_driver_reports_and_the_manager_confirms_it_into_a_waybill(job):
    assert say(1, "8,5 120").status_code == 200
    report = DriverReport.objects.get()
    assert (report.booking, report.driver, report.status) == (job, job.driver, "pending")
    assert (report.hours, report.km) == (Decimal("8.5"), Decimal("120"))
    assert Lead.objects.count() == 0
    note = Notification.objects.get(user=job.deal.manager)
    # In the company's language, whatever it is: the booking's number and the amounts are there.
    assert str(job.pk) in note.text and "120" in note.text and note.url.startswith(job.get_absolute_url())
    reply = OutboxMessage.objects.get(recipient="4242").text
    assert str(job.pk) in reply and "120" in reply

    say(2, "9 130")  # corrected: the waiting report is replaced, not doubled
    report = DriverReport.objects.get()
    assert (report.hours, report.km) == (Decimal("9"), Decimal("130"))

    client = Client()
    client.force_login(job.deal.manager)
    page = client.get(job.get_absolute_url()).content.decode()
    assert f"/bookings/driver-reports/{report.pk}/confirm/" in page
    response = client.post(f"/bookings/driver-reports/{report.pk}/confirm/", follow=True)
    assert response.status_code == 200, response.content
    assert not [m for m in response.context["messages"] if m.level_tag == "error"], list(
        response.context["messages"]
    )
    waybill = Waybill.objects.get()
    assert (waybill.booking, waybill.source, waybill.hours, waybill.km) == (
        job,
        "driver",
        Decimal("9"),
        Decimal("130"),
    )
    assert waybill.driver == job.driver
    report.refresh_from_db()
    assert (report.status, report.waybill, report.decided_by) == ("confirmed", waybill, job.deal.manager)
    job.refresh_from_db()
    assert job.status in ("completed", "closed")

    # Confirming twice records nothing more.
    client.post(f"/bookings/driver-reports/{report.pk}/confirm/")
    assert Waybill.objects.count() == 1


def test_a_rejected_report_records_nothing(job):
    say(1, "8")
    report = DriverReport.objects.get()
    client = Client()
    client.force_login(UserFactory(role=Role.MANAGER))
    client.post(f"/bookings/driver-reports/{report.pk}/reject/")
    report.refresh_from_db()
    assert report.status == "rejected" and Waybill.objects.count() == 0
    job.refresh_from_db()
    assert job.status == "dispatched"
    assert client.post(f"/bookings/driver-reports/{report.pk}/nonsense/").status_code == 404


def test_only_who_may_record_waybills_decides(job):
    say(1, "8")
    report = DriverReport.objects.get()
    client = Client()
    client.force_login(UserFactory(role=Role.DIRECTOR))
    assert client.post(f"/bookings/driver-reports/{report.pk}/confirm/").status_code == 403
    report.refresh_from_db()
    assert report.status == "pending" and Waybill.objects.count() == 0


def test_hours_beyond_the_booking_are_refused_in_words(job):
    say(1, "30")
    report = DriverReport.objects.get()
    client = Client()
    client.force_login(job.deal.manager)
    response = client.post(f"/bookings/driver-reports/{report.pk}/confirm/", follow=True)
    assert response.status_code == 200 and Waybill.objects.count() == 0
    report.refresh_from_db()
    assert report.status == "pending"


def test_hours_before_the_job_began_are_passed_on_as_text():
    manager = UserFactory()
    driver = DriverFactory(telegram_chat_id="4242")
    start = timezone.now() + timedelta(hours=3)
    booking = BookingFactory(
        deal__manager=manager,
        driver=driver,
        start=start,
        busy_until=start + timedelta(hours=8),
        status="dispatched",
    )
    say(1, "8")
    assert DriverReport.objects.count() == 0
    note = Notification.objects.get(user=manager)
    assert note.url == booking.get_absolute_url()
    assert Booking.objects.get(pk=booking.pk).status == "dispatched"
