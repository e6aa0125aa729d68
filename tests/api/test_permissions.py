"""Every endpoint × every role × every action gets exactly the status the matrix promises."""

import pytest
from rest_framework.test import APIClient

from arenda.core.roles import MATRIX, Role
from tests.api.conftest import PERMISSION_SPECS, Spec
from tests.factories import (
    CounterpartyFactory,
    InvoiceFactory,
    LeadFactory,
    OrganizationFactory,
    UserFactory,
)

A, M, C, D = Role.ADMIN, Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR
ROLES = [A, M, C, D]

# Written out by hand on purpose: a change to core.roles.MATRIX must be made here too.
# R = list and retrieve, C = create, U = update, D = delete.
EXPECTED = {
    "user": {A: "RCUD", M: "", C: "", D: ""},
    "organization": {A: "RCUD", M: "R", C: "RCU", D: "R"},
    "accounting_base": {A: "RCUD", M: "", C: "RCUD", D: "R"},
    "counterparty": {A: "RCUD", M: "RCU", C: "RCUD", D: "R"},
    "contact": {A: "RCUD", M: "RCUD", C: "RCUD", D: "R"},
    "supplier": {A: "RCUD", M: "RCU", C: "RCU", D: "R"},
    "equipment_type": {A: "RCUD", M: "R", C: "R", D: "R"},
    "unit": {A: "RCUD", M: "RCU", C: "R", D: "R"},
    "maintenance": {A: "RCUD", M: "RCUD", C: "R", D: "R"},
    "driver": {A: "RCUD", M: "RCU", C: "RU", D: "R"},
    "driver_document": {A: "RCUD", M: "RCUD", C: "R", D: "R"},
    "lead": {A: "RCUD", M: "RCU", C: "R", D: "R"},
    # list, create and revoke only: tested in tests/api/test_crm_api.py
    "intake_token": {A: "RCUD", M: "", C: "", D: ""},
    "deal": {A: "RCUD", M: "RCU", C: "R", D: "R"},
    "booking": {A: "RCUD", M: "RCU", C: "R", D: "R"},
    # no create or delete endpoints: tested in tests/api/test_bookings_api.py
    "supply_order": {A: "RCUD", M: "RCU", C: "R", D: "R"},
    # the admin's, in the Django admin only
    "company_settings": {A: "RCUD", M: "R", C: "R", D: "R"},
    # only a draft may be deleted; cancel is a special right: tests/api/test_billing_api.py
    "invoice": {A: "RCUD", M: "RCU", C: "RCUD", D: "R"},
    # no update; delete = a manual payment: tested in tests/api/test_billing_api.py
    "payment": {A: "RCUD", M: "R", C: "RCUD", D: "R"},
    # an upload, not CRUD: tested with the bank statement import
    "bank_statement": {A: "RCUD", M: "", C: "RCUD", D: "R"},
    # recorded through bookings/{id}/waybill/: tested in tests/bookings/test_waybills.py
    "waybill": {A: "RCUD", M: "RCU", C: "RU", D: "R"},
    # read-only: tested in tests/reports/
    "report": {A: "RCUD", M: "R", C: "R", D: "R"},
}
CRUD_ENDPOINTS = {
    **PERMISSION_SPECS,
    "lead": Spec(
        "lead",
        "leads",
        LeadFactory,
        lambda: {"name": "Звонков Иван", "phone": LeadFactory.build().phone, "message": "кран"},
        {"company": "ООО «Ромашка»"},
    ),
    "invoice": Spec(
        "invoice",
        "invoices",
        InvoiceFactory,
        lambda: {
            "kind": "postpayment",
            "counterparty": CounterpartyFactory().pk,
            "organization": OrganizationFactory().pk,
            "lines": [{"description": "Автокран, смена", "quantity": "8", "price": "3500"}],
        },
        {"notes": "оплата частями"},
    ),
}
LETTER = {"list": "R", "retrieve": "R", "create": "C", "update": "U", "delete": "D"}
SUCCESS = {"list": 200, "retrieve": 200, "create": 201, "update": 200, "delete": 204}


def test_expected_table_is_the_matrix():
    letters = {"view": "R", "add": "C", "change": "U", "delete": "D"}
    assert set(EXPECTED) == set(MATRIX)
    assert set(CRUD_ENDPOINTS) == set(MATRIX) - {
        "supply_order",
        "company_settings",
        "intake_token",
        "payment",
        "bank_statement",
        "waybill",
        "report",
    }
    for resource, by_role in MATRIX.items():
        for role in (M, C, D):
            assert set(EXPECTED[resource][role]) == {letters[a] for a in by_role.get(role, ())}, (
                resource,
                role,
            )


def test_every_viewset_names_a_matrix_resource():
    from arenda.api import urls

    resources = {viewset.resource for _prefix, viewset, _basename in urls.router.registry}
    nested = {"maintenance", "driver_document"}  # under their unit, their driver
    assert resources | nested | {"company_settings", "waybill", "report"} == set(MATRIX)


def _request(client, spec, action):
    obj = spec.make()
    if action == "list":
        return client.get(spec.list_url(obj))
    if action == "retrieve":
        return client.get(spec.detail_url(obj))
    if action == "create":
        return client.post(spec.list_url(obj), spec.body(), format="json")
    if action == "update":
        return client.patch(spec.detail_url(obj), spec.change, format="json")
    return client.delete(spec.detail_url(obj))


@pytest.mark.parametrize("action", list(LETTER))
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("resource", list(CRUD_ENDPOINTS))
def test_status_by_role(api, resource, role, action):
    allowed = LETTER[action] in EXPECTED[resource][role]
    response = _request(api(role), CRUD_ENDPOINTS[resource], action)
    assert response.status_code == (SUCCESS[action] if allowed else 403), response.content
    if not allowed:
        assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("action", list(LETTER))
@pytest.mark.parametrize("resource", list(CRUD_ENDPOINTS))
def test_anonymous_gets_401(db, resource, action):
    response = _request(APIClient(), CRUD_ENDPOINTS[resource], action)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_superuser_counts_as_admin(api):
    root = UserFactory(role=Role.DIRECTOR, is_superuser=True)
    client = api(user=root)
    assert client.get("/api/v1/users/").status_code == 200
    assert client.post("/api/v1/users/", PERMISSION_SPECS["user"].body(), format="json").status_code == 201
    assert client.get("/api/v1/me/").json()["effective_role"] == "admin"


def test_inactive_user_is_refused(api):
    client = api(Role.ADMIN)
    client.user.is_active = False
    client.user.save()
    assert client.get("/api/v1/drivers/").status_code in (401, 403)


@pytest.mark.parametrize("role", ROLES)
def test_me_for_every_role(api, role):
    client = api(role)
    data = client.get("/api/v1/me/").json()
    assert (data["username"], data["role"], data["effective_role"]) == (client.user.username, role, role)
    assert "password" not in data
