"""A driver's pay for one kind of machine: set by the accountant or the admin (API and the
driver's page), read by who may see pay, and taken by the waybill of a trip on that machine."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from arenda.bookings.models import Waybill
from arenda.core.roles import Role
from arenda.directory.models import DriverPayRate
from arenda.flows import trips
from tests.bookings.test_waybills import job, sheet
from tests.factories import DriverFactory, EquipmentTypeFactory

pytestmark = pytest.mark.django_db


def test_the_waybill_takes_the_rate_for_the_units_type(make_user):
    booking = job(pay="600.00")
    driver, machine = booking.driver, booking.unit.equipment_type
    DriverPayRate.objects.create(
        driver=driver,
        hourly_pay=Decimal("950.00"),
        valid_from=timezone.localdate(booking.start) - timedelta(days=1),
        equipment_type=machine,
    )
    DriverPayRate.objects.create(
        driver=driver,
        hourly_pay=Decimal("1200.00"),
        valid_from=timezone.localdate(booking.start) - timedelta(days=1),
        equipment_type=EquipmentTypeFactory(),  # another machine's
    )
    trips.waybill_record(booking=booking, data=sheet(booking), by=make_user(Role.MANAGER))
    assert Waybill.objects.get(booking=booking).hourly_pay == Decimal("950.00")


def test_without_a_rate_for_the_type_the_general_pay_holds(make_user):
    booking = job(pay="600.00")
    trips.waybill_record(booking=booking, data=sheet(booking), by=make_user(Role.MANAGER))
    assert Waybill.objects.get(booking=booking).hourly_pay == Decimal("600.00")


def test_api_pay_rates_follow_the_pay_rules(api):
    driver = DriverFactory()
    crane = EquipmentTypeFactory()
    url = f"/api/v1/drivers/{driver.pk}/pay-rates/"
    body = {"hourly_pay": "900.00", "equipment_type": crane.pk}
    manager = api(Role.MANAGER)
    assert manager.get(url).status_code == 403
    refused = manager.post(url, body, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "pay_forbidden"
    director = api(Role.DIRECTOR)
    assert director.get(url).status_code == 200
    assert director.post(url, body, format="json").status_code == 403
    accountant = api(Role.ACCOUNTANT)
    created = accountant.post(url, body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["equipment_type"] == crane.pk
    assert created.json()["valid_from"] == timezone.localdate().isoformat()
    listed = accountant.get(url).json()
    assert [(r["hourly_pay"], r["equipment_type"]) for r in listed if r["equipment_type"]] == [
        ("900.00", crane.pk)
    ]
    missing = accountant.post(url, {"hourly_pay": "900.00"}, format="json")
    assert missing.status_code == 400 and "equipment_type" in missing.json()
    negative = accountant.post(url, {"hourly_pay": "-1", "equipment_type": crane.pk}, format="json")
    assert negative.status_code == 400 and "hourly_pay" in negative.json()


def test_driver_page_pay_by_machine_for_the_accountant_only(make_user):
    driver = DriverFactory()
    crane = EquipmentTypeFactory(name="Автокран")
    DriverPayRate.objects.create(
        driver=driver, hourly_pay=Decimal("950.00"), valid_from=timezone.localdate(), equipment_type=crane
    )

    def client_for(role, **fields):
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(make_user(role, **fields))
        return client

    manager = client_for(Role.MANAGER)
    assert 'id="pay-rates"' not in manager.get(driver.get_absolute_url()).content.decode()
    add = reverse("directory:driver_pay_rate_add", args=[driver.pk])
    assert manager.post(add, {"hourly_pay": "1000", "equipment_type": crane.pk}).status_code == 403
    director = client_for(Role.DIRECTOR).get(driver.get_absolute_url()).content.decode()
    section = director[director.index('id="pay-rates"') :]
    assert "950" in section and "Автокран" in section and "Add a rate for a machine" not in section
    accountant = client_for(Role.ACCOUNTANT)
    assert "Add a rate for a machine" in accountant.get(driver.get_absolute_url()).content.decode()
    response = accountant.post(add, {"hourly_pay": "1000", "equipment_type": crane.pk})
    assert response.status_code == 302
    assert driver.pay_rates.filter(equipment_type=crane, hourly_pay=Decimal("1000")).exists()
