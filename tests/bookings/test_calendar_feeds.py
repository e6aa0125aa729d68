from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from arenda.bookings import services
from arenda.core.roles import Role
from tests.factories import BookingFactory, DriverFactory, EquipmentTypeFactory, UnitFactory

pytestmark = pytest.mark.django_db


def _reserved(crane, unit, driver, days):
    start = (timezone.localtime() + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
    booking = BookingFactory(equipment_type=crane, start=start, end=start + timedelta(hours=6))
    return services.booking_reserve(booking=booking, unit=unit, driver=driver, by=None)


def _events(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return {str(e["uid"]): e for e in Calendar.from_ical(response.content).walk("VEVENT")}


def test_driver_unit_and_company_feeds_hold_the_right_events(api, client):
    crane = EquipmentTypeFactory(name="Автокран")
    unit, driver, other_driver = UnitFactory(equipment_type=crane), DriverFactory(), DriverFactory()
    mine = _reserved(crane, unit, driver, 2)
    theirs = _reserved(crane, UnitFactory(equipment_type=crane), other_driver, 2)
    BookingFactory(equipment_type=crane)  # a draft is in no feed

    manager = api(Role.MANAGER)
    driver_feed = manager.post("/api/v1/calendar-feeds/", {"kind": "driver", "driver": driver.pk}).data
    unit_feed = manager.post("/api/v1/calendar-feeds/", {"kind": "unit", "unit": unit.pk}).data
    company_feed = manager.post("/api/v1/calendar-feeds/", {"kind": "company"}).data

    events = _events(client, driver_feed["url"])
    assert list(events) == [f"booking-{mine.pk}@testserver"]
    event = events[f"booking-{mine.pk}@testserver"]
    assert event.decoded("dtstart") == mine.start
    assert mine.deal.counterparty.name in str(event["summary"])
    assert str(event["location"]) == mine.site_address
    assert list(_events(client, unit_feed["url"])) == [f"booking-{mine.pk}@testserver"]
    assert set(_events(client, company_feed["url"])) == {
        f"booking-{mine.pk}@testserver",
        f"booking-{theirs.pk}@testserver",
    }
    # the same subject gives the same feed
    again = manager.post("/api/v1/calendar-feeds/", {"kind": "driver", "driver": driver.pk}).data
    assert again["url"] == driver_feed["url"]


def test_manager_feed_has_the_managers_deals(api, client):
    crane = EquipmentTypeFactory(name="Автокран")
    manager = api(Role.MANAGER)
    booking = _reserved(crane, UnitFactory(equipment_type=crane), DriverFactory(), 3)
    booking.deal.manager = manager.user
    booking.deal.save()
    _reserved(crane, UnitFactory(equipment_type=crane), DriverFactory(), 3)
    feed = manager.post("/api/v1/calendar-feeds/", {"kind": "manager"}).data
    assert list(_events(client, feed["url"])) == [f"booking-{booking.pk}@testserver"]


def test_wrong_or_regenerated_token_is_404(api, client):
    manager = api(Role.MANAGER)
    feed = manager.post("/api/v1/calendar-feeds/", {"kind": "company"}).data
    assert client.get("/api/v1/calendar/not-a-token.ics").status_code == 404
    renewed = manager.post(f"/api/v1/calendar-feeds/{feed['id']}/regenerate/").data
    assert renewed["url"] != feed["url"]
    assert client.get(feed["url"]).status_code == 404
    assert client.get(renewed["url"]).status_code == 200
    assert api(Role.DIRECTOR).post(f"/api/v1/calendar-feeds/{feed['id']}/regenerate/").status_code == 403


def test_feed_request_names_the_missing_subject(api):
    response = api(Role.MANAGER).post("/api/v1/calendar-feeds/", {"kind": "driver"})
    assert response.status_code == 400 and "driver" in response.data
    response = api(Role.MANAGER).post("/api/v1/calendar-feeds/", {"kind": "planet"})
    assert response.status_code == 400 and "kind" in response.data


def test_one_feed_per_subject_is_a_database_rule():
    from django.db import IntegrityError, transaction

    from arenda.bookings.models import CalendarFeed

    driver = DriverFactory()
    CalendarFeed.objects.create(kind="driver", driver=driver, token="a" * 40)
    CalendarFeed.objects.create(kind="company", token="b" * 40)
    for kwargs in ({"kind": "driver", "driver": driver}, {"kind": "company"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            CalendarFeed.objects.create(token="c" * 40, **kwargs)
