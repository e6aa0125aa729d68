"""The Django admin obeys the same permission matrix as the API and the UI, and writes
through the services."""

import pytest
from django.test import Client

from arenda.core.roles import MATRIX, Role, can
from tests.factories import AccountingBaseFactory, CounterpartyFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGES = {
    "counterparty": ("directory", "counterparty", CounterpartyFactory),
    "accounting_base": ("directory", "accountingbase", AccountingBaseFactory),
    "unit": ("directory", "unit", UnitFactory),
    "user": ("core", "user", UserFactory),
}


def _client(role):
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR])
@pytest.mark.parametrize("resource", list(PAGES))
def test_admin_pages_follow_the_matrix(role, resource):
    app, model, factory = PAGES[resource]
    obj = factory()
    client = _client(role)
    expected = {
        "view": 200 if role == Role.ADMIN or "view" in MATRIX[resource].get(role, ()) else 403,
        "add": 200 if role == Role.ADMIN or "add" in MATRIX[resource].get(role, ()) else 403,
    }
    assert client.get(f"/admin/{app}/{model}/").status_code == expected["view"]
    assert client.get(f"/admin/{app}/{model}/add/").status_code == expected["add"]
    change = client.get(f"/admin/{app}/{model}/{obj.pk}/change/")
    assert change.status_code == expected["view"]


def test_admin_index_is_for_users_with_a_role_only():
    assert Client().get("/admin/").status_code == 302
    assert _client(Role.DIRECTOR).get("/admin/").status_code == 200


def test_admin_hides_the_1c_base_of_a_counterparty_from_a_manager():
    counterparty = CounterpartyFactory(accounting_base=AccountingBaseFactory())
    page = (
        _client(Role.MANAGER).get(f"/admin/directory/counterparty/{counterparty.pk}/change/").content.decode()
    )
    assert 'name="accounting_base"' not in page
    page = (
        _client(Role.ACCOUNTANT)
        .get(f"/admin/directory/counterparty/{counterparty.pk}/change/")
        .content.decode()
    )
    assert 'name="accounting_base"' in page


def test_admin_saves_through_the_service_with_history():
    client = _client(Role.MANAGER)
    unit = UnitFactory()
    data = {
        "equipment_type": unit.equipment_type_id,
        "name": "КС-45717",
        "capacity_t": "25",
        "plate": "a 777 aa 77",
        "owner": "own",
        "supplier": "",
        "rate_per_hour": "4000.00",
        "rate_per_km": "100.00",
        "min_hours": "4",
        "is_active": "on",
        "notes": "",
    }
    response = client.post(f"/admin/directory/unit/{unit.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    unit.refresh_from_db()
    assert unit.plate == "А777АА77"
    assert unit.history.first().history_user.role == Role.MANAGER
    assert can(unit.history.first().history_user, "change", "unit")


def test_a_history_address_that_is_not_a_version_is_404_not_500():
    """The user's version page links «../password/», which lands on history/password/."""
    user = UserFactory()
    client = _client(Role.ADMIN)
    assert client.get(f"/admin/core/user/{user.pk}/history/password/").status_code == 404
    version = user.history.first()
    assert client.get(f"/admin/core/user/{user.pk}/history/{version.history_id}/").status_code == 200
