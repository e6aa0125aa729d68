"""Records link consistently: a booking stays in its deal, a done job's terms are final, a
deal's manager manages deals, a deal's contact is its counterparty's (the invoice's links
are in tests/api/test_billing_api.py)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F

from arenda.bookings.models import Booking
from arenda.core.roles import Role
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_booking_stays_in_the_deal_it_was_made_in(api):
    """``PATCH bookings/{id} {"deal": other}`` moved a booking to another customer's deal."""
    booking = f.BookingFactory()
    other = f.DealFactory()
    response = api(Role.MANAGER).patch(f"/api/v1/bookings/{booking.pk}/", {"deal": other.pk}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["deal"]
    assert Booking.objects.get(pk=booking.pk).deal_id == booking.deal_id
    same = api(Role.MANAGER).patch(
        f"/api/v1/bookings/{booking.pk}/", {"deal": booking.deal_id}, format="json"
    )
    assert same.status_code == 200


def test_a_completed_bookings_terms_are_final(api):
    """A completed booking's rate could be changed (``PATCH bookings/6 {"rate_per_hour": "1.00"}`` → 200)."""
    booking = f.BookingFactory()
    Booking.objects.filter(pk=booking.pk).update(status="completed", busy_until=F("end"))
    client = api(Role.MANAGER)
    later = (booking.end + timedelta(hours=2)).isoformat()
    for change in ({"rate_per_hour": "1.00"}, {"ordered_hours": "12"}, {"end": later}):
        response = client.patch(f"/api/v1/bookings/{booking.pk}/", change, format="json")
        assert response.status_code == 409 and response.json()["code"] == "booking_frozen", (
            change,
            response.json(),
        )
    assert Booking.objects.get(pk=booking.pk).rate_per_hour == booking.rate_per_hour
    notes = client.patch(f"/api/v1/bookings/{booking.pk}/", {"notes": "Въезд со двора"}, format="json")
    assert notes.status_code == 200 and Booking.objects.get(pk=booking.pk).notes == "Въезд со двора"


def test_a_dispatched_bookings_terms_may_still_change(api):
    booking = f.BookingFactory()
    Booking.objects.filter(pk=booking.pk).update(status="dispatched", busy_until=F("end"))
    response = api(Role.MANAGER).patch(
        f"/api/v1/bookings/{booking.pk}/", {"rate_per_hour": "3600.00"}, format="json"
    )
    assert response.status_code == 200 and Booking.objects.get(pk=booking.pk).rate_per_hour == Decimal(
        "3600.00"
    )


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.ACCOUNTANT])
def test_a_deals_manager_is_someone_who_manages_deals(api, make_user, role):
    """A deal's manager could be the director."""
    deal = f.DealFactory()
    response = api(Role.ADMIN).patch(
        f"/api/v1/deals/{deal.pk}/", {"manager": make_user(role).pk}, format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["manager"]
    inactive = make_user(Role.MANAGER, is_active=False)
    response = api(Role.ADMIN).patch(f"/api/v1/deals/{deal.pk}/", {"manager": inactive.pk}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["manager"]
    manager = make_user(Role.MANAGER)
    ok = api(Role.ADMIN).patch(f"/api/v1/deals/{deal.pk}/", {"manager": manager.pk}, format="json")
    assert ok.status_code == 200 and ok.json()["manager"] == manager.pk


def test_a_deals_contact_is_its_counterpartys(api):
    deal = f.DealFactory()
    stranger = f.ContactFactory()
    response = api(Role.MANAGER).patch(f"/api/v1/deals/{deal.pk}/", {"contact": stranger.pk}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["contact"]
