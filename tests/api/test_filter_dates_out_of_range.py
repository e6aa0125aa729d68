"""A date filter at the edge of the calendar answers 400 naming the parameter, not 500:
``?period_to=9999-12-31`` of ``bookings/`` compared with the start of a next day that does not
exist, and ``?period_from=0001-01-01`` with a start of day before year 1 in UTC (found by
``bin/api-fuzz``). Every date filter reads its day through ``BoundedDateField``
(``arenda/front/filters.py``); the list pages leave such a value out."""

import pytest
from django.urls import reverse

from arenda.core.roles import Role
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db

EDGES = ["0001-01-01", "9999-12-31"]
FILTERS = [
    ("bookings", "period_from"),
    ("bookings", "period_to"),
    ("leads", "created_after"),
    ("leads", "created_before"),
    ("invoices", "date_after"),
    ("invoices", "date_before"),
    ("payments", "date_after"),
    ("payments", "date_before"),
]


@pytest.mark.parametrize("day", EDGES)
@pytest.mark.parametrize("resource,param", FILTERS)
def test_a_date_at_the_edge_of_the_calendar_is_400_naming_the_parameter(api, resource, param, day):
    response = api(Role.ADMIN).get(f"/api/v1/{resource}/", {param: day}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.content
    assert response.json() == {param: ["Give a date from 02.01.0001 to 30.12.9999."]}


@pytest.mark.parametrize("param", ["period_from", "period_to"])
def test_the_days_next_to_the_edges_still_filter(api, param):
    BookingFactory()
    client = api(Role.ADMIN)
    assert client.get("/api/v1/bookings/", {param: "0001-01-02"}).status_code == 200
    assert client.get("/api/v1/bookings/", {param: "9999-12-30"}).status_code == 200


def test_the_booking_list_page_leaves_such_a_day_out(client, make_user):
    booking = BookingFactory()
    client.force_login(make_user(Role.MANAGER))
    response = client.get(reverse("bookings:booking_list"), {"from": "0001-01-01", "to": "9999-12-31"})
    assert response.status_code == 200
    assert booking.site_address in response.content.decode()


@pytest.mark.parametrize("moment", ["0001-01-01T01:00:00", "0001-01-01T00:00:00+14:00"])
@pytest.mark.parametrize("param", ["start_after", "start_before", "end_after"])
def test_a_moment_before_year_1_in_utc_is_400_naming_the_parameter(api, param, moment):
    response = api(Role.ADMIN).get("/api/v1/bookings/", {param: moment}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.content
    assert response.json() == {param: ["Enter a date and time between years 1 and 9999."]}
