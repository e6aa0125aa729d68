"""The driver's trip link: one open link per booking, the token the only key; a wrong,
revoked or closed booking's link answers 404 like a page that does not exist."""

import pytest
from django.test import Client
from django.urls import reverse

from arenda.bookings import trip_links
from arenda.bookings.models import Booking, TripLink
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


def test_one_open_link_per_booking_and_regenerating_revokes_the_old():
    booking = BookingFactory()
    first = trip_links.issue(booking=booking)
    assert trip_links.issue(booking=booking) == first
    second = trip_links.issue(booking=booking, regenerate=True)
    assert second.token != first.token
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert TripLink.objects.filter(booking=booking, revoked_at__isnull=True).count() == 1
    assert len(second.token) >= 40


def test_the_link_is_absolute_and_opens_the_page_without_login(settings):
    settings.PUBLIC_URL = "https://arenda.example.ru/"
    booking = BookingFactory(site_address="Москва, ул. Лесная, 5", site_contact_phone="+79161234567")
    link = trip_links.issue(booking=booking)
    assert trip_links.url(link) == f"https://arenda.example.ru/t/{link.token}/"
    response = Client().get(trip_links.path(link))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Москва, ул. Лесная, 5" in body
    assert "tel:+79161234567" in body
    assert "yandex.ru/maps/?text=" in body
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_the_page_is_in_the_company_language_whatever_the_phone_asks():
    link = trip_links.issue(booking=BookingFactory())
    response = Client().get(trip_links.path(link), HTTP_ACCEPT_LANGUAGE="en")
    assert 'lang="ru"' in response.content.decode()


@pytest.mark.parametrize("case", ["wrong", "revoked", "closed", "cancelled", "other case"])
def test_a_wrong_revoked_or_closed_booking_link_answers_404(case):
    booking = BookingFactory()
    link = trip_links.issue(booking=booking)
    token = link.token
    if case == "wrong":
        token = "x" * len(token)
    elif case == "revoked":
        trip_links.revoke(booking=booking)
    elif case in ("closed", "cancelled"):
        Booking.objects.filter(pk=booking.pk).update(status=case)
    else:
        token = token.swapcase()
    assert Client().get(reverse("trip:page", args=[token])).status_code == 404
