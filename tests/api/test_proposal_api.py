"""The manager's side of the customer's link in the API: ``POST deals/{id}/proposal-link/``
(made on first use, the rights of changing the deal, nothing to offer once agreed or
closed) and ``POST deals/{id}/agree/`` with the ``version`` it saw."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from arenda.bookings.models import Booking
from arenda.core.roles import Role
from arenda.crm.models import Deal
from arenda.crm.proposal import company_today, proposal_version
from tests.factories import DealFactory, DealLineFactory

pytestmark = pytest.mark.django_db
ROLES = [Role.ADMIN, Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR]


def link(client, deal):
    return client.post(f"/api/v1/deals/{deal.pk}/proposal-link/")


@pytest.fixture
def deal():
    deal = DealFactory(stage="proposal")
    DealLineFactory(deal=deal)
    return deal


@pytest.mark.parametrize("role", ROLES)
def test_the_link_is_for_those_who_may_change_the_deal(api, deal, role):
    response = link(api(role), deal)
    if role in (Role.ADMIN, Role.MANAGER):
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"
        assert not Deal.objects.get(pk=deal.pk).proposal_token


def test_the_link_needs_a_login(deal):
    assert link(APIClient(), deal).status_code == 401


def test_the_link_is_made_once_with_its_validity_and_version(api, deal, time_machine):
    client = api(Role.MANAGER)
    first = link(client, deal)
    assert first.status_code == 200
    deal.refresh_from_db()
    data = first.json()
    assert data["url"] == f"http://testserver/p/{deal.proposal_token}/"
    # no date of its own: seven days from the link
    assert data["valid_until"] == (company_today() + timedelta(days=7)).isoformat()
    assert data["version"] == proposal_version(deal)
    assert APIClient().get(data["url"]).status_code == 200  # the customer opens it
    time_machine.move_to(timezone.now() + timedelta(days=2))
    again = link(client, deal).json()
    assert again == data  # the same link, the same validity: the clock counts from the first


def test_the_link_names_the_deals_own_date(api, deal):
    valid = company_today() + timedelta(days=30)
    Deal.objects.filter(pk=deal.pk).update(proposal_valid_until=valid)
    assert link(api(Role.MANAGER), deal).json()["valid_until"] == valid.isoformat()


def test_nothing_to_offer_once_agreed_or_closed(api, deal):
    client = api(Role.MANAGER)
    assert client.post(f"/api/v1/deals/{deal.pk}/agree/").status_code == 201
    response = link(client, deal)
    assert response.status_code == 409 and response.json()["code"] == "deal_agreed"
    lost = DealFactory(stage="lost", lost_reason="Дорого")
    DealLineFactory(deal=lost)
    response = link(client, lost)
    assert response.status_code == 409 and response.json()["code"] == "deal_closed"
    assert not Deal.objects.get(pk=lost.pk).proposal_token


def test_agreeing_a_version_that_changed_is_refused(api, deal):
    client = api(Role.MANAGER)
    seen = link(client, deal).json()["version"]
    line = deal.lines.get()
    assert (
        client.patch(f"/api/v1/deals/{deal.pk}/lines/{line.pk}/", {"rate_per_hour": "3900.00"}).status_code
        == 200
    )
    refused = client.post(f"/api/v1/deals/{deal.pk}/agree/", {"version": seen})
    assert refused.status_code == 409 and refused.json()["code"] == "proposal_changed"
    assert not Booking.objects.exists() and Deal.objects.get(pk=deal.pk).agreed_at is None
    current = link(client, deal).json()["version"]
    assert current != seen
    agreed = client.post(f"/api/v1/deals/{deal.pk}/agree/", {"version": current})
    assert agreed.status_code == 201 and len(agreed.json()["bookings"]) == 1


def test_a_blank_or_long_version_is_bad_input(api, deal):
    client = api(Role.MANAGER)
    for version in ("", "x" * 65):
        response = client.post(f"/api/v1/deals/{deal.pk}/agree/", {"version": version}, format="json")
        assert response.status_code == 400 and "version" in response.json()
    assert not Booking.objects.exists()
