"""Drivers' pay on the pages and in the Django admin (docs/permissions.md, «Drivers' pay»):
a manager without «may see drivers' pay» finds it in no list, sort, detail, history, form or
admin page; only the accountant and the admin change it, from a date given with it."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from arenda.core.models import AuditEvent
from arenda.core.roles import Role
from arenda.directory import services
from arenda.directory.models import DriverPayRate
from tests import factories as f

pytestmark = pytest.mark.django_db
PAY = Decimal("98765.00")
NEW_PAY = Decimal("45678.00")


def shows(html: str, amount: Decimal) -> bool:
    whole = str(int(amount))
    return re.search(whole[:-3] + r"\D{0,2}" + whole[-3:], html) is not None


@pytest.fixture
def ui(make_user):
    def client_for(role, **user_fields):
        client = Client(headers={"Accept-Language": "en"})
        client.user = make_user(role, **user_fields)
        client.force_login(client.user)
        return client

    return client_for


@pytest.fixture
def driver(make_user):
    driver = f.DriverFactory(hourly_pay=PAY)
    services.driver_update(instance=driver, by=make_user(Role.ACCOUNTANT), hourly_pay=NEW_PAY)
    driver.refresh_from_db()
    return driver


def _pages(client, driver) -> dict[str, str]:
    urls = {
        "list": "/directory/drivers/",
        "sorted": "/directory/drivers/?o=-hourly_pay",
        "detail": driver.get_absolute_url(),
        "form": f"/directory/drivers/{driver.pk}/edit/",
        "admin_list": "/admin/directory/driver/",
        "admin_form": f"/admin/directory/driver/{driver.pk}/change/",
        "admin_history": f"/admin/directory/driver/{driver.pk}/history/",
    }
    pages = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        pages[name] = response.content.decode()
    return pages


def test_a_manager_finds_the_pay_on_no_page_history_or_admin(ui, driver):
    client = ui(Role.MANAGER)
    for name, html in _pages(client, driver).items():
        assert not shows(html, PAY) and not shows(html, NEW_PAY), name
        assert "Hourly pay" not in html and "hourly pay" not in html, name
        assert 'name="hourly_pay' not in html, name


@pytest.mark.parametrize("role, right", [(Role.ACCOUNTANT, False), (Role.ADMIN, False), (Role.MANAGER, True)])
def test_who_may_see_pay_sees_it_and_its_history(ui, driver, role, right):
    pages = _pages(ui(role, may_see_driver_pay=right), driver)
    assert shows(pages["list"], NEW_PAY) and shows(pages["detail"], NEW_PAY)
    assert shows(pages["detail"], PAY)  # the history: old → new
    assert shows(pages["admin_history"], PAY)


def test_the_pay_change_is_left_out_of_a_managers_history(ui, driver):
    html = ui(Role.MANAGER).get(driver.get_absolute_url()).content.decode()
    assert "hourly pay" not in html.lower()


def test_a_manager_cannot_open_an_old_version_in_the_admin(ui, driver):
    version = driver.history.first().history_id
    client = ui(Role.MANAGER)
    response = client.get(f"/admin/directory/driver/{driver.pk}/history/{version}/")
    assert response.status_code == 403


def test_a_manager_posting_pay_in_the_form_changes_nothing(ui, driver):
    client = ui(Role.MANAGER)
    response = client.post(
        f"/directory/drivers/{driver.pk}/edit/",
        {"full_name": driver.full_name, "phone": driver.phone, "employment": "staff", "is_active": "on",
         "hourly_pay": "1.00", "hourly_pay_from": "2020-01-01", "telegram_chat_id": "555"},
    )  # fmt: skip
    assert response.status_code == 302
    driver.refresh_from_db()
    assert (driver.hourly_pay, driver.telegram_chat_id) == (NEW_PAY, "")


def test_a_manager_with_the_right_sees_the_pay_locked_in_the_form(ui, driver):
    html = (
        ui(Role.MANAGER, may_see_driver_pay=True)
        .get(f"/directory/drivers/{driver.pk}/edit/")
        .content.decode()
    )
    field = re.search(r"<input[^>]*name=\"hourly_pay\"[^>]*>", html).group(0)
    assert "disabled" in field
    assert 'name="hourly_pay_from"' not in html


def test_the_accountant_changes_the_pay_from_a_date_in_the_form(ui, driver):
    client = ui(Role.ACCOUNTANT)
    html = client.get(f"/directory/drivers/{driver.pk}/edit/").content.decode()
    assert 'name="hourly_pay_from"' in html and 'name="telegram_chat_id"' not in html
    start = timezone.localdate() - timedelta(days=3)
    response = client.post(
        f"/directory/drivers/{driver.pk}/edit/",
        {"full_name": driver.full_name, "phone": driver.phone, "employment": "staff", "is_active": "on",
         "hourly_pay": "50000.00", "hourly_pay_from": start.isoformat()},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    rate = DriverPayRate.objects.get(hourly_pay=Decimal("50000"))
    assert rate.valid_from == start and rate.created_by == client.user
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.PAY_CHANGED).latest("at")
    assert event.user == client.user and event.details["valid_from"] == start.isoformat()


def test_saving_the_form_without_changing_the_pay_adds_no_rate(ui, driver):
    client = ui(Role.ACCOUNTANT)
    before = DriverPayRate.objects.count()
    client.post(
        f"/directory/drivers/{driver.pk}/edit/",
        {"full_name": driver.full_name, "phone": driver.phone, "employment": "staff", "is_active": "on",
         "hourly_pay": str(NEW_PAY), "hourly_pay_from": "2020-01-01", "notes": "x"},
    )  # fmt: skip
    assert DriverPayRate.objects.count() == before


def test_the_admin_change_form_locks_pay_for_a_manager_with_the_right(ui, driver):
    html = (
        ui(Role.MANAGER, may_see_driver_pay=True)
        .get(f"/admin/directory/driver/{driver.pk}/change/")
        .content.decode()
    )
    assert shows(html, NEW_PAY) and 'name="hourly_pay"' not in html


def test_the_admin_sets_the_pay_right_where_roles_are_set(ui, make_user):
    manager = make_user(Role.MANAGER)
    html = ui(Role.ADMIN).get(f"/admin/core/user/{manager.pk}/change/").content.decode()
    assert 'name="may_see_driver_pay"' in html


def _admin_post(client, driver, **changes):
    data = {
        "full_name": driver.full_name,
        "phone": driver.phone,
        "employment": driver.employment,
        "license_number": "",
        "license_valid_until": "",
        "is_active": "on",
        "notes": "",
        **changes,
    }
    return client.post(f"/admin/directory/driver/{driver.pk}/change/", data)


def test_a_manager_saving_the_admin_form_keeps_the_pay(ui, driver):
    response = _admin_post(ui(Role.MANAGER), driver, notes="ночные", hourly_pay="1.00")
    assert response.status_code == 302, response.content.decode()[:1000]
    driver.refresh_from_db()
    assert (driver.notes, driver.hourly_pay) == ("ночные", NEW_PAY)


def test_the_accountant_changes_the_pay_in_the_admin_from_today(ui, driver):
    client = ui(Role.ACCOUNTANT)
    response = _admin_post(client, driver, hourly_pay="50000.00")
    assert response.status_code == 302, response.content.decode()[:1000]
    rate = DriverPayRate.objects.get(hourly_pay=Decimal("50000"))
    assert rate.valid_from == timezone.localdate() and rate.created_by == client.user
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.PAY_CHANGED, user=client.user).exists()
