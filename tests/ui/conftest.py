import pytest
from django.test import Client

from tests import factories as f

FACTORIES = {
    "organization": f.OrganizationFactory,
    "accounting_base": f.AccountingBaseFactory,
    "counterparty": f.CounterpartyFactory,
    "contact": f.ContactFactory,
    "supplier": f.SupplierFactory,
    "equipment_type": f.EquipmentTypeFactory,
    "unit": f.UnitFactory,
    "driver": f.DriverFactory,
}


@pytest.fixture
def ui(make_user):
    """``ui(role)`` → a test Client logged in as a fresh user with that role. It asks for
    English so that assertions on messages hold once the Russian catalogue is filled."""

    def client_for(role, **user_fields):
        client = Client(headers={"Accept-Language": "en"})
        client.user = make_user(role, **user_fields)
        client.force_login(client.user)
        return client

    return client_for
