"""The shell around the pages: login and lockout, logout, password change, language switch,
flash messages, the dashboard."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from arenda.core.roles import Role
from tests.factories import DriverFactory, MaintenanceWindowFactory, UnitFactory, UserFactory


@pytest.fixture
def english():
    return Client(headers={"Accept-Language": "en"})


def test_login_and_logout(english, db):
    UserFactory(username="olga", role=Role.MANAGER)
    page = english.get(reverse("login"))
    assert page.status_code == 200 and 'name="username"' in page.content.decode()
    response = english.post(reverse("login"), {"username": "olga", "password": "pass-12345"})
    assert response.status_code == 302 and response.url == reverse("dashboard")
    assert english.get(reverse("dashboard")).status_code == 200
    assert english.get(reverse("logout")).status_code == 405, "logging out is a POST"
    response = english.post(reverse("logout"))
    assert response.status_code == 302 and response.url == reverse("login")
    assert english.get(reverse("dashboard")).status_code == 302


def test_wrong_password_keeps_the_login_page(english, db):
    UserFactory(username="olga")
    response = english.post(reverse("login"), {"username": "olga", "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


def test_five_failures_lock_the_login_with_a_friendly_page(english, db, settings):
    settings.AXES_ENABLED = True
    UserFactory(username="olga")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        english.post(reverse("login"), {"username": "olga", "password": "nope"})
    response = english.post(reverse("login"), {"username": "olga", "password": "pass-12345"})
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed attempts" in html
    assert "Try again in 15 minutes." in html


def test_password_change(ui):
    client = ui(Role.DIRECTOR)
    response = client.post(
        reverse("password_change"),
        {"old_password": "pass-12345", "new_password1": "Kran-2026-ok", "new_password2": "Kran-2026-ok"},
    )
    assert response.status_code == 302 and response.url == reverse("password_change_done")
    client.user.refresh_from_db()
    assert client.user.check_password("Kran-2026-ok")
    assert client.get(reverse("password_change_done")).status_code == 200


def test_language_switch_to_english_and_back(db):
    client = Client()
    client.force_login(UserFactory(role=Role.MANAGER))
    assert '<html lang="ru">' in client.get("/").content.decode()
    response = client.post(reverse("set_language"), {"language": "en", "next": "/directory/units/"})
    assert response.status_code == 302 and response.url == "/directory/units/"
    html = client.get("/directory/units/").content.decode()
    assert '<html lang="en">' in html and "Dashboard" in html
    client.post(reverse("set_language"), {"language": "ru", "next": "/"})
    assert '<html lang="ru">' in client.get("/").content.decode()


def test_every_page_offers_the_language_switch_and_the_user_menu(ui):
    client = ui(Role.ACCOUNTANT, full_name="Белова Татьяна")
    html = client.get("/").content.decode()
    assert reverse("set_language") in html
    assert "Белова Татьяна" in html and "Accountant" in html
    assert f'action="{reverse("logout")}"' in html
    assert reverse("password_change") in html
    assert '"X-CSRFToken"' in html, "HTMX requests carry the CSRF token"


def test_flash_message_after_a_save(ui):
    client = ui(Role.MANAGER)
    unit = UnitFactory()
    response = client.post(
        reverse("directory:unit_update", args=[unit.pk]),
        {
            "equipment_type": unit.equipment_type_id,
            "name": "Новая модель",
            "capacity_t": "25",
            "plate": unit.plate,
            "owner": "own",
            "rate_per_hour": "3500",
            "rate_per_km": "120",
            "min_hours": "4",
        },
        follow=True,
    )
    assert "Changes to Новая модель" in response.content.decode()


def test_dashboard_counts_and_warnings(ui):
    in_repair = UnitFactory(name="Кран в ремонте")
    MaintenanceWindowFactory(
        unit=in_repair, start=timezone.now() - timedelta(hours=1), end=timezone.now() + timedelta(hours=5)
    )
    MaintenanceWindowFactory()  # tomorrow: not now
    today = timezone.localdate()
    DriverFactory(full_name="Скоро истекает", license_valid_until=today + timedelta(days=10))
    DriverFactory(full_name="Уже истекло", license_valid_until=today - timedelta(days=1))
    DriverFactory(full_name="Всё в порядке", license_valid_until=today + timedelta(days=200))
    response = ui(Role.DIRECTOR).get("/")
    assert [w.unit for w in response.context["in_maintenance"]] == [in_repair]
    assert [d.full_name for d in response.context["licences"]] == ["Уже истекло", "Скоро истекает"]
    counts = {c["resource"]: c["value"] for c in response.context["counts"]}
    assert counts["unit"] == 2 and counts["driver"] == 3
