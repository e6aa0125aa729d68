"""Documents that expire: the admins are told once, the dashboard lists them, and a booking
already reserved whose driver's required document ends before it is flagged on its page and
on the timeline (in bulk)."""

from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from arenda.bookings import services
from arenda.core.models import Notification
from arenda.core.roles import Role
from arenda.directory.models import DocumentKind, DriverDocument
from arenda.directory.services import driver_document_update, notify_expiring_documents
from tests.directory.test_qualifications import crane_requirements, qualified_driver
from tests.factories import BookingFactory, DriverDocumentFactory, EquipmentTypeFactory, UnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(make_user):
    def client_for(role):
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(make_user(role))
        return client

    return client_for


def test_admins_are_told_once_per_expiring_document_and_again_after_a_new_date(make_user):
    admin, other_admin, manager = make_user(Role.ADMIN), make_user(Role.ADMIN), make_user(Role.MANAGER)
    soon = DriverDocumentFactory(kind=DocumentKind.MEDICAL, valid_until=date.today() + timedelta(days=10))
    DriverDocumentFactory(kind=DocumentKind.MEDICAL, valid_until=date.today() + timedelta(days=90))  # not yet
    DriverDocumentFactory(kind=DocumentKind.RIGGER, valid_until=None)  # never
    assert notify_expiring_documents() == 1
    assert notify_expiring_documents() == 0
    assert Notification.objects.filter(user=admin).count() == 1
    assert Notification.objects.filter(user=other_admin).count() == 1
    assert not Notification.objects.filter(user=manager).exists()
    assert Notification.objects.get(user=admin).url == soon.get_absolute_url()
    soon = driver_document_update(instance=soon, by=admin, valid_until=date.today() + timedelta(days=20))
    assert soon.expiry_notified_at is None
    assert notify_expiring_documents() == 1
    assert Notification.objects.filter(user=admin).count() == 2


def test_a_renewed_document_is_not_told_about(make_user):
    make_user(Role.ADMIN)
    old = DriverDocumentFactory(kind=DocumentKind.MEDICAL, valid_until=date.today() + timedelta(days=10))
    DriverDocumentFactory(
        driver=old.driver, kind=DocumentKind.MEDICAL, valid_until=date.today() + timedelta(days=400)
    )
    assert notify_expiring_documents() == 0
    assert not Notification.objects.exists()


def test_the_job_is_declared_for_the_scheduler(settings):
    assert settings.PERIODIC_JOBS["directory.notify_expiring_documents"][1] == (
        "arenda.directory.tasks.notify_expiring_documents_task"
    )


def test_dashboard_lists_documents_expiring_within_30_days(login):
    soon = DriverDocumentFactory(
        kind=DocumentKind.MEDICAL, number="M-77", valid_until=date.today() + timedelta(5)
    )
    DriverDocumentFactory(kind=DocumentKind.MEDICAL, number="M-88", valid_until=date.today() + timedelta(60))
    html = login(Role.MANAGER).get(reverse("dashboard")).content.decode()
    section = html[html.index('id="documents-expiring"') :]
    assert "M-77" in section and "M-88" not in section
    assert soon.driver.full_name in section and soon.get_absolute_url() in section


@pytest.fixture
def reserved_then_expiring():
    """A booking reserved for a qualified driver, whose medical certificate is then found to
    end the day before the booking does."""
    crane = EquipmentTypeFactory(name="Автокран")
    crane_requirements(crane)
    start = (timezone.localtime() + timedelta(days=3)).replace(hour=8, minute=0, second=0, microsecond=0)
    booking = BookingFactory(equipment_type=crane, start=start, end=start + timedelta(days=2))
    driver = qualified_driver()
    services.booking_reserve(booking=booking, unit=UnitFactory(equipment_type=crane), driver=driver, by=None)
    DriverDocument.objects.filter(driver=driver, kind="medical").update(
        valid_until=timezone.localdate(booking.end) - timedelta(days=1)
    )
    return booking


def test_booking_page_warns_naming_the_document(login, reserved_then_expiring):
    html = login(Role.MANAGER).get(reserved_then_expiring.get_absolute_url()).content.decode()
    warning = html[html.index('id="unqualified"') :][:1500]
    assert "Medical certificate" in warning and "valid until" in warning


def test_a_qualified_booking_has_no_warning(login):
    crane = EquipmentTypeFactory(name="Автокран")
    crane_requirements(crane)
    booking = BookingFactory(equipment_type=crane)
    services.booking_reserve(
        booking=booking, unit=UnitFactory(equipment_type=crane), driver=qualified_driver(), by=None
    )
    assert 'id="unqualified"' not in login(Role.MANAGER).get(booking.get_absolute_url()).content.decode()


def test_timeline_marks_the_bar_in_bulk(login, reserved_then_expiring):
    client = login(Role.MANAGER)
    start = timezone.localdate()
    url = reverse("bookings:timeline") + f"?start={start.isoformat()}&days=14"
    html = client.get(url).content.decode()
    assert html.count("tl-unqualified") == 1
    assert f'/bookings/{reserved_then_expiring.pk}/"' in html.split("tl-unqualified", 1)[1][:200]
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    crane = reserved_then_expiring.equipment_type
    first = timezone.make_aware(datetime.combine(start + timedelta(days=6), time(8)))
    for i in range(10):
        booking = BookingFactory(
            equipment_type=crane, start=first + timedelta(hours=i), end=first + timedelta(hours=i, minutes=30)
        )
        services.booking_reserve(
            booking=booking, unit=UnitFactory(equipment_type=crane), driver=qualified_driver(), by=None
        )
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)
    assert client.get(url + "&by=driver").content.decode().count("tl-unqualified") == 1
