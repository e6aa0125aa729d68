"""Reserving from the pages and under concurrency when the machine requires documents."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from arenda.bookings.models import Booking
from arenda.core.roles import Role
from arenda.directory.models import DriverDocument
from tests.bookings.test_concurrency import _race
from tests.directory.test_qualifications import crane_requirements, qualified_driver
from tests.factories import BookingFactory, DriverFactory, EquipmentTypeFactory, UnitFactory


def day_at(days, hour):
    return (timezone.localtime() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def crane(db):
    crane = EquipmentTypeFactory(name="Автокран")
    crane_requirements(crane)
    return crane


@pytest.fixture
def manager(make_user):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(make_user(Role.MANAGER))
    return client


@pytest.mark.django_db
def test_picker_shows_unqualified_drivers_muted_with_the_reason(crane, manager):
    booking = BookingFactory(equipment_type=crane, start=day_at(3, 8), end=day_at(3, 16))
    ready = qualified_driver()
    lacking = DriverFactory(full_name="Аааев Неготовый")
    page = manager.get(reverse("bookings:booking_reserve", args=[booking.pk]))
    html = page.content.decode()
    assert html.index(ready.full_name) < html.index(lacking.full_name)
    row = html[html.index(f'value="{lacking.pk}"') - 300 : html.index(f'value="{lacking.pk}"') + 1500]
    assert "not-qualified" in row and "disabled" in row
    assert "Medical certificate: missing" in row


@pytest.mark.django_db
def test_reserving_an_unqualified_driver_on_the_page_names_what_is_missing(crane, manager):
    booking = BookingFactory(equipment_type=crane, start=day_at(3, 8), end=day_at(3, 16))
    driver = qualified_driver()
    DriverDocument.objects.filter(driver=driver, kind="truck_crane").delete()
    response = manager.post(
        reverse("bookings:booking_reserve", args=[booking.pk]),
        {"unit": UnitFactory(equipment_type=crane).pk, "driver": driver.pk},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert 'class="missing-documents"' in html and "Truck crane operator" in html


@pytest.mark.django_db
def test_picker_query_count_with_documents_is_constant(crane, manager):
    booking = BookingFactory(equipment_type=crane)
    url = reverse("bookings:booking_reserve", args=[booking.pk])
    for _ in range(3):
        qualified_driver()
        UnitFactory(equipment_type=crane)
    with CaptureQueriesContext(connection) as few:
        manager.get(url)
    for _ in range(20):
        qualified_driver()
        DriverFactory()
        UnitFactory(equipment_type=crane)
    with CaptureQueriesContext(connection) as many:
        assert manager.get(url).status_code == 200
    assert len(many.captured_queries) <= len(few.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_threads_racing_for_one_qualified_driver_one_wins_and_an_unqualified_one_never():
    crane = EquipmentTypeFactory(name="Автокран")
    crane_requirements(crane)
    start = day_at(3, 8)
    driver, lacking = qualified_driver(), DriverFactory()
    units = [UnitFactory(equipment_type=crane).pk for _ in range(8)]
    ids = [
        BookingFactory(
            equipment_type=crane,
            start=start + timedelta(minutes=i),
            end=start + timedelta(hours=4, minutes=i),
        ).pk
        for i in range(8)
    ]
    index = {pk: i for i, pk in enumerate(ids)}
    # the even bookings want the qualified driver, the odd ones the one lacking documents
    outcomes = _race(
        ids,
        unit_for=lambda pk: units[index[pk]],
        driver_for=lambda pk: driver.pk if index[pk] % 2 == 0 else lacking.pk,
    )
    even = [outcomes[pk] for pk in ids if index[pk] % 2 == 0]
    odd = [outcomes[pk] for pk in ids if index[pk] % 2 == 1]
    assert sorted(even) == ["driver_busy"] * 3 + ["ok"], outcomes
    assert odd == ["driver_not_qualified"] * 4, outcomes
    assert Booking.objects.filter(driver=driver, status=Booking.Status.RESERVED).count() == 1
    assert not Booking.objects.filter(driver=lacking).exists()
