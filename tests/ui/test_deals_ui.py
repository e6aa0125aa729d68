"""Deal pages: list, detail with its bookings, create and edit by role."""

import pytest
from django.urls import reverse

from arenda.core.roles import Role
from arenda.crm.models import Deal
from tests.conftest import ROLES
from tests.factories import BookingFactory, ContactFactory, CounterpartyFactory, DealFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client, make_user):
    def as_role(role=Role.MANAGER):
        user = make_user(role)
        client.force_login(user)
        return user

    return as_role


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_deals(client, login, role):
    login(role)
    booking = BookingFactory()
    deal = booking.deal
    assert client.get(reverse("crm:deal_list") + "?q=Аренда&stage=new").status_code == 200
    page = client.get(deal.get_absolute_url())
    assert page.status_code == 200 and booking.get_absolute_url() in page.content.decode()
    writes = (
        client.get(reverse("crm:deal_create")).status_code,
        client.get(reverse("crm:deal_update", args=[deal.pk])).status_code,
    )
    assert writes == ((200, 200) if role in (Role.ADMIN, Role.MANAGER) else (403, 403))


def test_manager_creates_a_deal_and_is_its_manager_by_default(client, login):
    user = login()
    counterparty = CounterpartyFactory()
    form = client.get(reverse("crm:deal_create")).content.decode()
    assert f'<option value="{user.pk}" selected>' in form
    response = client.post(
        reverse("crm:deal_create"),
        {"title": "Кран на мост", "counterparty": counterparty.pk, "manager": user.pk, "stage": "new"},
    )
    deal = Deal.objects.get(title="Кран на мост")
    assert response.status_code == 302 and response["Location"] == deal.get_absolute_url()
    assert deal.history.first().history_user == user


def test_contact_of_another_counterparty_is_refused(client, login):
    login()
    deal = DealFactory()
    stranger = ContactFactory()
    response = client.post(
        reverse("crm:deal_update", args=[deal.pk]),
        {"title": deal.title, "counterparty": deal.counterparty_id, "contact": stranger.pk, "stage": "new"},
    )
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.contact is None
