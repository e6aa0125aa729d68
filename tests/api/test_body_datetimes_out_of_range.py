"""A moment that parses but falls before year 1 in UTC — «0001-01-01» or «0001-01-01T01:00»
read in the company's time zone (Moscow was 2:30 ahead then) — answers 400 naming the field
or the parameter, not 500 when the database is asked to hold it (found by ``bin/api-fuzz``:
``GET availability/?start=…&end=0001-01-01``). Every datetime of a body or a query reads
through ``BoundedDateTimeField`` (``arenda/api/serializers.py``), which asks
``arenda/front/filters.py`` whether the database can hold it, as the datetime filters do."""

import pytest

from arenda.core.roles import Role
from tests.factories import BookingFactory, DealFactory, DriverFactory, UnitFactory

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = ["0001-01-01", "0001-01-01T01:00:00", "0001-01-01T02:00:00+03:00"]
MESSAGE = ["Datetime value out of range."]


@pytest.fixture
def admin(api):
    client = api(Role.ADMIN)
    client.credentials(HTTP_ACCEPT_LANGUAGE="en")
    return client


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
@pytest.mark.parametrize("param", ["start", "end"])
def test_availability(admin, param, moment):
    query = {"start": "2026-03-02T08:00:00+03:00", "end": "2026-03-02T18:00:00+03:00", param: moment}
    response = admin.get("/api/v1/availability/", query)
    assert response.status_code == 400, response.content
    assert response.json()[param] == MESSAGE


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
def test_a_new_booking(admin, moment):
    unit = UnitFactory()
    body = {
        "deal": DealFactory().pk,
        "equipment_type": unit.equipment_type_id,
        "start": moment,
        "end": "2026-03-02T18:00:00+03:00",
        "site_address": "Москва, ул. Строителей, 5",
        "ordered_hours": "8",
        "min_hours": "4",
        "rate_per_hour": "3500",
    }
    response = admin.post("/api/v1/bookings/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["start"] == MESSAGE


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
def test_a_maintenance_window(admin, moment):
    unit = UnitFactory()
    body = {"start": moment, "end": "2026-03-02T18:00:00+03:00", "reason": "ТО"}
    response = admin.post(f"/api/v1/units/{unit.pk}/maintenance/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["start"] == MESSAGE


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
def test_a_deal_line(admin, moment):
    deal = DealFactory()
    body = {
        "position": 1,
        "equipment_type": UnitFactory().equipment_type_id,
        "start": moment,
        "end": "2026-03-02T18:00:00+03:00",
        "ordered_hours": "8",
        "min_hours": "4",
        "rate_per_hour": "3500",
        "site_address": "Москва",
    }
    response = admin.post(f"/api/v1/deals/{deal.pk}/lines/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["start"] == MESSAGE


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
def test_a_waybill(admin, moment):
    unit = UnitFactory()
    booking = BookingFactory(equipment_type=unit.equipment_type, unit=unit, driver=DriverFactory())
    body = {"number": "ПЛ-1", "started_at": moment, "finished_at": "2026-03-02T18:00:00+03:00", "hours": "8"}
    response = admin.post(f"/api/v1/bookings/{booking.pk}/waybill/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["started_at"] == MESSAGE


def test_the_first_moment_the_database_holds_is_accepted(admin):
    unit = UnitFactory()
    body = {"start": "0001-01-01T00:00:00Z", "end": "0001-01-01T08:00:00Z", "reason": "ТО"}
    response = admin.post(f"/api/v1/units/{unit.pk}/maintenance/", body, format="json")
    assert response.status_code == 201, response.content
