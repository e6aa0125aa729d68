"""Drivers' pay is the accountant's (docs/permissions.md, «Drivers' pay»): hidden from whoever
may not see it — absent from the JSON, a sort or filter on it a 400 naming the parameter —
changed only by the accountant or the administrator (a manager's attempt: 403
``pay_forbidden`` naming the field), from a date given with it, into the rates a waybill
reads and the audit trail."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from arenda.bookings.models import Waybill
from arenda.core.models import AuditEvent
from arenda.core.roles import Role
from arenda.directory.models import Driver, DriverPayRate
from arenda.directory.selectors import pay_rate_on
from tests import factories as f
from tests.bookings.test_waybills import as_json, job, sheet

pytestmark = pytest.mark.django_db


def test_a_manager_reads_drivers_without_their_pay(api):
    driver = f.DriverFactory(hourly_pay=Decimal("650"))
    client = api(Role.MANAGER)
    assert "hourly_pay" not in client.get(f"/api/v1/drivers/{driver.pk}/").json()
    assert all("hourly_pay" not in row for row in client.get("/api/v1/drivers/").json()["results"])


def test_a_manager_with_the_pay_right_reads_the_pay(api, make_user):
    driver = f.DriverFactory(hourly_pay=Decimal("650"))
    client = api(user=make_user(Role.MANAGER, may_see_driver_pay=True))
    assert client.get(f"/api/v1/drivers/{driver.pk}/").json()["hourly_pay"] == "650.00"


@pytest.mark.parametrize("ordering", ["-hourly_pay", "hourly_pay", "full_name,-hourly_pay"])
def test_a_manager_sorting_drivers_by_pay_gets_400_naming_ordering(api, ordering):
    f.DriverFactory(hourly_pay=Decimal("500"))
    response = api(Role.MANAGER).get(f"/api/v1/drivers/?ordering={ordering}")
    assert response.status_code == 400
    assert "ordering" in response.json()


@pytest.mark.parametrize("param", ["hourly_pay_min=600", "hourly_pay_max=600"])
def test_a_manager_filtering_drivers_by_pay_gets_400_naming_the_filter(api, param):
    response = api(Role.MANAGER).get(f"/api/v1/drivers/?{param}")
    assert response.status_code == 400
    assert param.split("=")[0] in response.json()


def test_those_who_see_pay_sort_and_filter_by_it(api, make_user):
    cheap = f.DriverFactory(hourly_pay=Decimal("500"))
    dear = f.DriverFactory(hourly_pay=Decimal("900"))
    client = api(user=make_user(Role.MANAGER, may_see_driver_pay=True))
    rows = client.get("/api/v1/drivers/?ordering=-hourly_pay").json()["results"]
    assert [r["id"] for r in rows] == [dear.pk, cheap.pk]
    rows = client.get("/api/v1/drivers/?hourly_pay_min=600").json()["results"]
    assert [r["id"] for r in rows] == [dear.pk]


@pytest.mark.parametrize("may_see", [False, True], ids=["plain", "with-pay-right"])
def test_a_manager_patching_pay_gets_403_naming_hourly_pay(api, make_user, may_see):
    driver = f.DriverFactory(hourly_pay=Decimal("650"))
    client = api(user=make_user(Role.MANAGER, may_see_driver_pay=may_see))
    response = client.patch(f"/api/v1/drivers/{driver.pk}/", {"hourly_pay": "1.00"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "pay_forbidden" and response.json()["fields"] == ["hourly_pay"]
    assert "hourly_pay" in response.json()["detail"]
    driver.refresh_from_db()
    assert driver.hourly_pay == Decimal("650")
    assert not DriverPayRate.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.PAY_CHANGED).exists()


def test_a_manager_creating_a_driver_with_pay_gets_403(api):
    response = api(Role.MANAGER).post(
        "/api/v1/drivers/",
        {"full_name": "Пётр", "phone": "+79157654321", "hourly_pay": "900.00"},
        format="json",
    )
    assert response.status_code == 403 and response.json()["code"] == "pay_forbidden"
    assert not Driver.objects.exists()


def test_a_manager_still_edits_the_rest_of_the_driver(api):
    driver = f.DriverFactory(hourly_pay=Decimal("650"))
    response = api(Role.MANAGER).patch(
        f"/api/v1/drivers/{driver.pk}/", {"notes": "ночные смены"}, format="json"
    )
    assert response.status_code == 200 and "hourly_pay" not in response.json()
    driver.refresh_from_db()
    assert (driver.notes, driver.hourly_pay) == ("ночные смены", Decimal("650"))


def test_the_accountants_pay_change_starts_today_and_is_audited(api):
    driver = f.DriverFactory(hourly_pay=Decimal("650"))
    client = api(Role.ACCOUNTANT)
    response = client.patch(
        f"/api/v1/drivers/{driver.pk}/", {"hourly_pay": "700.00"}, format="json", REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["hourly_pay"] == "700.00" and "hourly_pay_from" not in response.json()
    rate = DriverPayRate.objects.get(driver=driver, hourly_pay=Decimal("700"))
    assert rate.valid_from == timezone.localdate() and rate.created_by == client.user
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PAY_CHANGED)
    assert event.user == client.user and event.address == "10.1.2.3"
    assert event.details == {
        "driver": driver.pk,
        "old": "650.00",
        "new": "700.00",
        "valid_from": timezone.localdate().isoformat(),
    }


def test_a_backdated_pay_change_is_explicit_and_waybills_take_the_rate_of_their_date(api):
    driver = f.DriverFactory(hourly_pay=Decimal("650"))
    Driver.objects.filter(pk=driver.pk).update(created_at=timezone.now() - timedelta(days=60))
    driver.history.update(history_date=timezone.now() - timedelta(days=60))
    today = timezone.localdate()
    from_day = today - timedelta(days=10)
    response = api(Role.ACCOUNTANT).patch(
        f"/api/v1/drivers/{driver.pk}/",
        {"hourly_pay": "800.00", "hourly_pay_from": from_day.isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.json()
    driver.refresh_from_db()
    assert pay_rate_on(driver, from_day - timedelta(days=1)) == Decimal("650")
    assert pay_rate_on(driver, from_day) == Decimal("800")
    assert pay_rate_on(driver, today) == Decimal("800")


def test_a_future_pay_change_leaves_todays_trips_at_the_old_rate(api):
    driver = f.DriverFactory(hourly_pay=Decimal("650"))
    Driver.objects.filter(pk=driver.pk).update(created_at=timezone.now() - timedelta(days=60))
    driver.refresh_from_db()
    later = timezone.localdate() + timedelta(days=5)
    api(Role.ACCOUNTANT).patch(
        f"/api/v1/drivers/{driver.pk}/", {"hourly_pay": "900.00", "hourly_pay_from": later.isoformat()}
    )
    assert pay_rate_on(driver, timezone.now()) == Decimal("650")
    assert pay_rate_on(driver, later) == Decimal("900")


def test_a_manager_sending_the_pay_date_alone_gets_403(api):
    driver = f.DriverFactory()
    response = api(Role.MANAGER).patch(
        f"/api/v1/drivers/{driver.pk}/", {"hourly_pay_from": "2020-01-01"}, format="json"
    )
    assert response.status_code == 403


def test_a_manager_never_reads_pay_in_waybills(api):
    waybill = f.WaybillFactory(hourly_pay=Decimal("600"))
    row = api(Role.MANAGER).get(f"/api/v1/waybills/{waybill.pk}/").json()
    assert "hourly_pay" not in row
    assert api(Role.DIRECTOR).get(f"/api/v1/waybills/{waybill.pk}/").json()["hourly_pay"] == "600.00"


def test_the_schema_still_describes_the_pay_fields(api):
    schema = api(Role.MANAGER).get("/api/schema/?format=json")
    assert schema.status_code == 200 and "hourly_pay" in schema.content.decode()
    assert "hourly_pay_from" in schema.content.decode()


def test_a_pay_may_not_start_before_a_trip_already_recorded_at_the_old_pay(api):
    waybill = f.WaybillFactory(
        hourly_pay=Decimal("600"), started_at=timezone.now() - timedelta(days=5), driver=f.DriverFactory()
    )
    driver = waybill.driver
    client = api(Role.ACCOUNTANT)
    too_early = (timezone.localdate() - timedelta(days=6)).isoformat()
    response = client.patch(
        f"/api/v1/drivers/{driver.pk}/", {"hourly_pay": "900.00", "hourly_pay_from": too_early}, format="json"
    )
    assert response.status_code == 400 and "hourly_pay_from" in response.json()
    driver.refresh_from_db()
    assert driver.hourly_pay != Decimal("900")
    after = (timezone.localdate() - timedelta(days=4)).isoformat()
    response = client.patch(
        f"/api/v1/drivers/{driver.pk}/", {"hourly_pay": "900.00", "hourly_pay_from": after}, format="json"
    )
    assert response.status_code == 200, response.json()


def test_the_admin_creates_a_driver_with_pay_from_a_date(api):
    client = api(Role.ADMIN)  # the accountant changes drivers but does not create them
    start = timezone.localdate() + timedelta(days=2)
    response = client.post(
        "/api/v1/drivers/",
        {
            "full_name": "Пётр",
            "phone": "+79157654321",
            "hourly_pay": "900.00",
            "hourly_pay_from": start.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    rate = DriverPayRate.objects.get()
    assert (rate.hourly_pay, rate.valid_from, rate.created_by) == (Decimal("900"), start, client.user)
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.PAY_CHANGED).details["old"] is None


def test_a_new_driver_without_pay_is_no_pay_event(api):
    response = api(Role.MANAGER).post(
        "/api/v1/drivers/", {"full_name": "Пётр", "phone": "+79157654321"}, format="json"
    )
    assert response.status_code == 201
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.PAY_CHANGED).exists()


@pytest.mark.parametrize("starts_days_ago, expected", [(1, "800.00"), (0, "500.00")])
def test_a_recorded_waybill_takes_the_rate_valid_on_its_trips_date(api, starts_days_ago, expected):
    booking = job(pay="500.00")  # its trip was yesterday
    driver = booking.driver
    Driver.objects.filter(pk=driver.pk).update(created_at=timezone.now() - timedelta(days=30))
    driver.history.update(history_date=timezone.now() - timedelta(days=30))
    from_day = timezone.localdate(booking.start) + timedelta(days=1 - starts_days_ago)
    response = api(Role.ACCOUNTANT).patch(
        f"/api/v1/drivers/{driver.pk}/", {"hourly_pay": "800.00", "hourly_pay_from": from_day.isoformat()}
    )
    assert response.status_code == 200, response.json()
    response = api(Role.MANAGER).post(
        f"/api/v1/bookings/{booking.pk}/waybill/", as_json(sheet(booking)), format="json"
    )
    assert response.status_code == 200, response.content
    assert Waybill.objects.get().hourly_pay == Decimal(expected)
