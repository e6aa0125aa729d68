"""Create, read back, change and delete every resource as an administrator."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from arenda.core.roles import Role
from tests import factories as f
from tests.api.conftest import MODELS, SPECS

User = get_user_model()


def _model(spec):
    return MODELS.get(spec.resource, User)


def test_crud_round_trip(api, spec):
    client = api(Role.ADMIN)
    anchor = spec.make()
    body = spec.body()

    created = client.post(spec.list_url(anchor), body, format="json")
    assert created.status_code == 201, created.json()
    obj = _model(spec).objects.get(pk=created.json()["id"])
    url = spec.detail_url(obj)

    read = client.get(url).json()
    assert read == created.json()
    assert "password" not in read

    changed = client.patch(url, spec.change, format="json")
    assert changed.status_code == 200, changed.json()
    for field, value in spec.change.items():
        assert changed.json()[field] == value
    obj.refresh_from_db()
    assert obj.history.first().history_user == client.user
    assert obj.history.first().history_type == "~"

    listed = client.get(spec.list_url(obj)).json()
    assert obj.pk in [row["id"] for row in listed["results"]]

    assert client.delete(url).status_code == 204
    assert not _model(spec).objects.filter(pk=obj.pk).exists()
    assert client.get(url).status_code == 404


def test_put_replaces_the_record(api):
    client = api(Role.ACCOUNTANT)  # the body carries the pay: the accountant's
    driver = f.DriverFactory()
    body = SPECS["driver"].body() | {"hourly_pay": "650.00"}
    response = client.put(f"/api/v1/drivers/{driver.pk}/", body, format="json")
    assert response.status_code == 200, response.json()
    driver.refresh_from_db()
    assert (driver.full_name, driver.hourly_pay, driver.employment) == (
        body["full_name"],
        Decimal("650.00"),
        "contractor",
    )


def test_values_come_back_normalised(api):
    client = api(Role.MANAGER)
    counterparty = client.post("/api/v1/counterparties/", SPECS["counterparty"].body(), format="json").json()
    assert counterparty["phone"] == "+79161234567"
    body = SPECS["unit"].body()
    unit = client.post("/api/v1/units/", body, format="json").json()
    assert unit["plate"] == body["plate"].replace(" ", "").upper().translate(
        str.maketrans("ABEKMHOPCTYX", "АВЕКМНОРСТУХ")
    )
    assert unit["equipment_type_name"] and unit["supplier_name"] is None
    driver = client.post("/api/v1/drivers/", SPECS["driver"].body(), format="json").json()
    assert driver["phone"] == "+79157654321"


def test_supplier_unit(api):
    client = api(Role.MANAGER)
    supplier = f.SupplierFactory()
    body = SPECS["unit"].body() | {"owner": "supplier", "supplier": supplier.pk}
    response = client.post("/api/v1/units/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["supplier_name"] == supplier.name


@pytest.mark.parametrize(
    "resource, make_used",
    [
        ("organization", lambda: f.AccountingBaseFactory().organization),
        (
            "accounting_base",
            lambda: f.CounterpartyFactory(accounting_base=f.AccountingBaseFactory()).accounting_base,
        ),
        ("equipment_type", lambda: f.UnitFactory().equipment_type),
        ("supplier", lambda: f.UnitFactory(owner="supplier", supplier=f.SupplierFactory()).supplier),
    ],
)
def test_deleting_a_record_in_use_is_a_conflict(api, resource, make_used):
    used = make_used()
    response = api(Role.ADMIN).delete(SPECS[resource].detail_url(used))
    assert response.status_code == 409
    data = response.json()
    assert data["code"] == "in_use"
    assert str(used) in data["detail"]
    assert data["referenced_by"] and data["referenced_by"][0]["id"]
    assert type(used).objects.filter(pk=used.pk).exists()


def test_deleting_a_counterparty_takes_its_contacts(api):
    contact = f.ContactFactory()
    assert (
        api(Role.ACCOUNTANT).delete(f"/api/v1/counterparties/{contact.counterparty_id}/").status_code == 204
    )
    assert not type(contact).objects.filter(pk=contact.pk).exists()


def test_maintenance_belongs_to_its_unit(api):
    client = api(Role.MANAGER)
    window = f.MaintenanceWindowFactory()
    other_unit = f.UnitFactory()
    assert client.get(f"/api/v1/units/{other_unit.pk}/maintenance/{window.pk}/").status_code == 404
    assert client.get(f"/api/v1/units/{other_unit.pk}/maintenance/").json()["count"] == 0
    assert client.get("/api/v1/units/999999/maintenance/").status_code == 404
    created = client.post(
        f"/api/v1/units/{other_unit.pk}/maintenance/", SPECS["maintenance"].body() | {"unit": window.unit_id}
    )
    assert created.status_code == 201
    assert created.json()["unit"] == other_unit.pk  # the URL decides, not the body


class TestUsers:
    def test_password_is_hashed_and_works(self, api, client):
        body = SPECS["user"].body()
        response = api(Role.ADMIN).post("/api/v1/users/", body, format="json")
        assert response.status_code == 201
        user = User.objects.get(username=body["username"])
        assert user.password != body["password"] and user.check_password(body["password"])
        assert user.phone == "+79160001122"
        token = client.post(
            "/api/v1/auth/token/",
            {"username": body["username"], "password": body["password"]},
            content_type="application/json",
        )
        assert token.status_code == 200

    def test_update_without_password_keeps_it(self, api):
        user = f.UserFactory()
        response = api(Role.ADMIN).patch(f"/api/v1/users/{user.pk}/", {"role": "director"}, format="json")
        assert response.status_code == 200
        user.refresh_from_db()
        assert user.role == "director" and user.check_password("pass-12345")
        assert user.history.first().history_user.role == Role.ADMIN

    def test_change_password(self, api):
        user = f.UserFactory()
        client = api(Role.ADMIN)
        assert client.patch(
            f"/api/v1/users/{user.pk}/", {"password": "short"}, format="json"
        ).json().keys() == {"password"}
        assert client.patch(f"/api/v1/users/{user.pk}/", {"password": "New-Long-Pass-42"}).status_code == 200
        user.refresh_from_db()
        assert user.check_password("New-Long-Pass-42")

    def test_new_user_needs_a_password(self, api):
        body = SPECS["user"].body()
        del body["password"]
        response = api(Role.ADMIN).post("/api/v1/users/", body, format="json")
        assert response.status_code == 400 and "password" in response.json()

    def test_password_like_the_username_is_refused(self, api):
        body = SPECS["user"].body() | {"username": "kranovshchik", "password": "kranovshchik1"}
        response = api(Role.ADMIN).post("/api/v1/users/", body, format="json")
        assert response.status_code == 400 and "password" in response.json()

    def test_admin_cannot_lock_themselves_out(self, api):
        client = api(Role.ADMIN)
        me = f"/api/v1/users/{client.user.pk}/"
        assert client.patch(me, {"is_active": False}).status_code == 400
        assert client.patch(me, {"role": "manager"}).status_code == 400
        response = client.delete(me)
        assert response.status_code == 400 and response.json()["non_field_errors"]
        client.user.refresh_from_db()
        assert client.user.is_active and client.user.role == Role.ADMIN
