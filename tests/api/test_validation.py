"""Bad input gets a 400 that names the field — and never a 500."""

import pytest

from arenda.core.roles import Role
from tests import factories as f
from tests.api.conftest import SPECS

# resource -> [(changes to a valid body, the field the error must name)]
BAD = {
    "user": [
        ({"password": "12345678"}, "password"),
        ({"role": "boss"}, "role"),
        ({"username": ""}, "username"),
        ({"phone": "not a phone"}, "phone"),
        ({"email": "nobody"}, "email"),
    ],
    "organization": [
        ({"inn": "7701234567"}, "inn"),
        ({"kpp": ""}, "kpp"),
        ({"vat_rate": "18"}, "vat_rate"),
        ({"account": "40702810000000000000"}, "account"),
        ({"bik": ""}, "bik"),
        ({"ogrn": "1027700000001"}, "ogrn"),
    ],
    "accounting_base": [
        ({"odata_url": ""}, "odata_url"),
        ({"odata_url": "not a url"}, "odata_url"),
        ({"kind": "sql"}, "kind"),
        ({"organization": "abc"}, "organization"),
        ({"organization": 10**9}, "organization"),
        ({"organization": None}, "organization"),
    ],
    "counterparty": [
        ({"inn": "7701234567"}, "inn"),
        ({"inn": f.make_inn12(1)}, "inn"),  # a person's INN for an organisation
        ({"kind": "person", "inn": "", "kpp": "770201001"}, "kpp"),
        ({"kind": "ltd"}, "kind"),
        ({"ogrn": f.make_ogrn(1)[:12] + "0"}, "ogrn"),
        ({"payment_terms_days": -1}, "payment_terms_days"),
        ({"payment_terms_days": 10**12}, "payment_terms_days"),
        ({"prepayment_required": "maybe"}, "prepayment_required"),
        ({"phone": "12"}, "phone"),
        ({"accounting_base": 10**9}, "accounting_base"),
    ],
    "contact": [
        ({"counterparty": None}, "counterparty"),
        ({"phone": "abc"}, "phone"),
        ({"full_name": ""}, "full_name"),
    ],
    "equipment_type": [({"name": ""}, "name"), ({"name": "x" * 101}, "name")],
    "supplier": [({"inn": "123"}, "inn"), ({"phone": "+1"}, "phone"), ({"email": "@"}, "email")],
    "unit": [
        ({"plate": "XYZ 1"}, "plate"),
        ({"owner": "supplier"}, "supplier"),
        ({"supplier": "abc"}, "supplier"),
        ({"owner": "leased"}, "owner"),
        ({"capacity_t": "-1"}, "capacity_t"),
        ({"capacity_t": "1e30"}, "capacity_t"),
        ({"capacity_t": "NaN"}, "capacity_t"),
        ({"rate_per_hour": "-100"}, "rate_per_hour"),
        ({"rate_per_km": "12.345"}, "rate_per_km"),
        ({"equipment_type": "crane"}, "equipment_type"),
        ({"equipment_type": [1]}, "equipment_type"),
    ],
    "maintenance": [
        ({"end": "2020-01-01T00:00:00+03:00"}, "end"),
        ({"start": "tomorrow"}, "start"),
        ({"reason": ""}, "reason"),
    ],
    "driver": [
        ({"employment": "boss"}, "employment"),
        ({"hourly_pay": "-1"}, "hourly_pay"),
        ({"hourly_pay": 10**20}, "hourly_pay"),
        ({"license_valid_until": "2024-13-45"}, "license_valid_until"),
        ({"phone": ""}, "phone"),
        ({"full_name": {"first": "Иван"}}, "full_name"),
    ],
    "driver_document": [
        ({"kind": "pilot"}, "kind"),
        ({"kind": "medical", "categories": "B"}, "categories"),
        ({"categories": "B, Z"}, "categories"),
        ({"issued_on": "2030-01-01", "valid_until": "2029-01-01"}, "valid_until"),
        ({"valid_until": "2024-13-45"}, "valid_until"),
    ],
}
CASES = [(resource, change, field) for resource, cases in BAD.items() for change, field in cases]


def test_every_resource_has_bad_cases():
    assert set(BAD) == set(SPECS)


@pytest.mark.parametrize("resource, change, field", CASES, ids=[f"{r}-{fld}" for r, _c, fld in CASES])
def test_bad_body_names_the_field(api, resource, change, field):
    spec = SPECS[resource]
    client = api(Role.ADMIN)
    anchor = spec.make()
    before = type(anchor).objects.count()
    response = client.post(spec.list_url(anchor), spec.body() | change, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert all(isinstance(m, str) and m for m in response.json()[field])
    assert type(anchor).objects.count() == before


def test_bad_patch_names_the_field(api):
    unit = f.UnitFactory()
    response = api(Role.MANAGER).patch(f"/api/v1/units/{unit.pk}/", {"plate": "??"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["plate"]
    unit.refresh_from_db()
    assert unit.plate != "??"


def test_duplicate_counterparty_points_to_the_existing_one(api):
    existing = f.CounterpartyFactory()
    body = SPECS["counterparty"].body() | {"inn": existing.inn, "kpp": existing.kpp}
    response = api(Role.MANAGER).post("/api/v1/counterparties/", body, format="json")
    assert response.status_code == 400
    message = " ".join(response.json()["inn"])
    assert existing.name in message and f"#{existing.pk}" in message


def test_same_inn_with_another_kpp_is_a_branch(api):
    existing = f.CounterpartyFactory()
    body = SPECS["counterparty"].body() | {"inn": existing.inn, "kpp": "770301001"}
    assert api(Role.MANAGER).post("/api/v1/counterparties/", body, format="json").status_code == 201


def test_duplicate_plate_and_supplier_inn(api):
    client = api(Role.ADMIN)
    unit = f.UnitFactory()
    response = client.post("/api/v1/units/", SPECS["unit"].body() | {"plate": unit.plate}, format="json")
    assert response.status_code == 400 and f"#{unit.pk}" in response.json()["plate"][0]
    supplier = f.SupplierFactory()
    response = client.post(
        "/api/v1/suppliers/", SPECS["supplier"].body() | {"inn": supplier.inn}, format="json"
    )
    assert response.status_code == 400 and "inn" in response.json()


def test_duplicate_name_and_username(api):
    client = api(Role.ADMIN)
    kind = f.EquipmentTypeFactory()
    assert "name" in client.post("/api/v1/equipment-types/", {"name": kind.name}, format="json").json()
    body = SPECS["user"].body() | {"username": client.user.username}
    assert "username" in client.post("/api/v1/users/", body, format="json").json()


class TestCounterpartyAccountingBase:
    """Only an accountant or an admin decides which 1C base a counterparty belongs to."""

    def test_manager_may_not_set_it(self, api):
        base = f.AccountingBaseFactory()
        body = SPECS["counterparty"].body() | {"accounting_base": base.pk}
        response = api(Role.MANAGER).post("/api/v1/counterparties/", body, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied" and "1С" in response.json()["detail"]

    def test_manager_may_not_change_it(self, api):
        counterparty = f.CounterpartyFactory(accounting_base=f.AccountingBaseFactory())
        url = f"/api/v1/counterparties/{counterparty.pk}/"
        client = api(Role.MANAGER)
        assert client.patch(url, {"accounting_base": None}, format="json").status_code == 403
        assert (
            client.patch(url, {"accounting_base": f.AccountingBaseFactory().pk}, format="json").status_code
            == 403
        )
        counterparty.refresh_from_db()
        assert counterparty.accounting_base is not None

    def test_manager_may_change_the_rest_and_send_it_unchanged(self, api):
        counterparty = f.CounterpartyFactory(accounting_base=f.AccountingBaseFactory())
        url = f"/api/v1/counterparties/{counterparty.pk}/"
        client = api(Role.MANAGER)
        data = client.get(url).json()
        response = client.put(url, data | {"name": "ООО «Новое имя»"}, format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["accounting_base"] == counterparty.accounting_base_id

    @pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.ADMIN])
    def test_accountant_and_admin_set_it(self, api, role):
        counterparty = f.CounterpartyFactory()
        base = f.AccountingBaseFactory()
        response = api(role).patch(
            f"/api/v1/counterparties/{counterparty.pk}/", {"accounting_base": base.pk}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["accounting_base_name"] == base.name


class TestGarbage:
    def test_invalid_json(self, api):
        response = api().post("/api/v1/drivers/", "{not json", content_type="application/json")
        assert response.status_code == 400 and response.json()["code"] == "parse_error"

    def test_body_not_an_object(self, api):
        response = api().post("/api/v1/drivers/", [1, 2], format="json")
        assert response.status_code == 400 and "non_field_errors" in response.json()

    def test_unsupported_media_type(self, api):
        response = api().post("/api/v1/drivers/", "full_name=x", content_type="text/plain")
        assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"

    @pytest.mark.parametrize("pk", ["999999", str(10**30), "-1"])
    def test_missing_ids(self, api, pk):
        assert api().get(f"/api/v1/counterparties/{pk}/").status_code == 404
        assert api(Role.ADMIN).get(f"/api/v1/units/{pk}/maintenance/").status_code == 404

    def test_nul_characters(self, api):
        response = api().post(
            "/api/v1/drivers/", SPECS["driver"].body() | {"full_name": "a\x00b"}, format="json"
        )
        assert response.status_code == 400 and "full_name" in response.json()
        assert api().get("/api/v1/drivers/?search=a%00b").status_code in (200, 400)
        assert api().get("/api/v1/counterparties/?inn=77%00").status_code == 400

    @pytest.mark.parametrize(
        "query",
        [
            "kind=ltd",
            "accounting_base=abc",
            "accounting_base=99999999999999999999999",
            "page=abc",
            "page=99",
        ],
    )
    def test_bad_filters(self, api, query):
        response = api(Role.ACCOUNTANT).get(f"/api/v1/counterparties/?{query}")
        assert response.status_code in (400, 404)
        assert response.json()

    def test_unknown_ordering_is_ignored(self, api):
        assert api().get("/api/v1/units/?ordering=-password,__class__").status_code == 200

    def test_method_not_allowed(self, api):
        response = api(Role.ADMIN).post("/api/v1/drivers/1/", {}, format="json")
        assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"

    @pytest.mark.parametrize("resource", list(SPECS))
    def test_every_field_with_garbage(self, api, resource):
        """Wrong types, huge numbers, NUL, nested structures — in every writable field."""
        spec = SPECS[resource]
        client = api(Role.ADMIN)
        obj = spec.make()
        url = spec.detail_url(obj)
        garbage = [
            None,
            True,
            -1,
            10**40,
            1.5e308,
            "",
            "x" * 5000,
            "\x00",
            [],
            {"a": 1},
            ["1"],
            "-1e-9",
            "0x10",
        ]
        for field in spec.body():
            for value in garbage:
                response = client.patch(url, {field: value}, format="json")
                assert response.status_code in (200, 400), (field, value, response.content)
                if response.status_code == 400:
                    assert response.json(), (field, value)
