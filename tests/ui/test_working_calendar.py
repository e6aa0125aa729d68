"""The working calendar page (arenda/front/calendar_views.py) and its Django admin."""

from datetime import date, time

import pytest
from django.test import Client
from django.urls import reverse

from arenda.core.models import CalendarDay, CompanySettings
from arenda.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(make_user):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(make_user(Role.ADMIN))
    return client


def _week_post(**changes):
    data = {"action": "week"}
    for code in ("mon", "tue", "wed", "thu", "fri"):
        data[f"{code}_start"], data[f"{code}_end"] = "08:00", "20:00"
    data["sat_start"], data["sat_end"] = "09:00", "18:00"
    data["sun_start"] = data["sun_end"] = ""
    data.update(changes)
    return data


def test_only_who_may_change_company_settings_opens_it(make_user, admin_client):
    url = reverse("working_calendar")
    manager = Client()
    manager.force_login(make_user(Role.MANAGER))
    assert manager.get(url).status_code == 403
    response = admin_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="08:00"' in html and "No dates are set by hand" in html
    assert url in admin_client.get("/").content.decode()  # in the Administration menu


def test_the_weekday_hours_are_saved_and_checked(admin_client):
    url = reverse("working_calendar")
    response = admin_client.post(url, _week_post(sat_start="", sat_end="", mon_start="07:00"))
    assert response.status_code == 302
    assert CompanySettings.current().working_week[0] == ["07:00", "20:00"]
    assert CompanySettings.current().working_week[5] is None
    response = admin_client.post(url, _week_post(tue_start="18:00", tue_end="09:00", wed_end=""))
    assert response.status_code == 400
    form = response.context["week_form"]
    assert "tue_end" in form.errors and "wed_end" in form.errors
    assert CompanySettings.current().working_week[1] == ["08:00", "20:00"]
    assert admin_client.post(url, _week_post(thu_start="25:00")).status_code == 400


def test_a_date_is_added_validated_and_deleted(admin_client):
    url = reverse("working_calendar")
    data = {"action": "day", "date": "2026-12-31", "is_working": "", "note": "Короткий день"}
    assert admin_client.post(url, data).status_code == 302
    day = CalendarDay.objects.get(date=date(2026, 12, 31))
    assert not day.is_working
    # the same date twice
    response = admin_client.post(url, data)
    assert response.status_code == 400 and "date" in response.context["day_form"].errors
    # a working day needs its hours, the end after the start
    response = admin_client.post(
        url, {"action": "day", "date": "2027-01-09", "is_working": "on", "start": "18:00", "end": "10:00"}
    )
    assert response.status_code == 400 and "end" in response.context["day_form"].errors
    response = admin_client.post(url, {"action": "day", "date": "", "is_working": "on"})
    assert response.status_code == 400 and "date" in response.context["day_form"].errors
    assert (
        admin_client.post(
            url, {"action": "day", "date": "2027-01-09", "is_working": "on", "start": "10:00", "end": "15:00"}
        ).status_code
        == 302
    )
    assert CalendarDay.objects.get(date=date(2027, 1, 9)).end == time(15)
    assert admin_client.post(reverse("calendar_day_delete", args=[day.pk])).status_code == 302
    assert not CalendarDay.objects.filter(pk=day.pk).exists()
    assert admin_client.get(reverse("calendar_day_delete", args=[day.pk])).status_code == 405


def test_the_production_calendar_of_a_year_is_listed(admin_client):
    html = admin_client.get(reverse("working_calendar") + "?year=2025").content.decode()
    assert "01.11.2025" in html and "working day (transferred)" in html
    assert "09.05.2025" in html
    assert admin_client.get(reverse("working_calendar") + "?year=abc").status_code == 200


def test_the_list_of_dates_takes_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    for n in range(1, 20):
        CalendarDay.objects.create(date=date(2099, 1, n), is_working=False)
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("working_calendar"))
    assert response.content.decode().count("01.2099") == 19


def test_the_django_admin_lists_and_refuses_a_bad_day(admin_client):
    CalendarDay.objects.create(date=date(2026, 5, 8), is_working=True, start=time(9), end=time(16))
    assert admin_client.get("/admin/core/calendarday/").status_code == 200
    response = admin_client.post(
        "/admin/core/calendarday/add/",
        {"date": "2026-05-08", "is_working": "on", "start": "09:00", "end": "08:00"},
    )
    assert response.status_code == 200 and CalendarDay.objects.count() == 1
