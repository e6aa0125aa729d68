"""The OpenAPI schema is served, valid, and lists every endpoint."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.api.conftest import SPECS

NESTED = {
    "maintenance": ["/api/v1/units/{unit_id}/maintenance/", "/api/v1/units/{unit_id}/maintenance/{id}/"],
    "driver_document": [
        "/api/v1/drivers/{driver_id}/documents/",
        "/api/v1/drivers/{driver_id}/documents/{id}/",
        "/api/v1/drivers/{driver_id}/documents/{id}/scan/",
    ],
}
PATHS = {"/api/v1/auth/token/", "/api/v1/me/"} | {
    path
    for spec in SPECS.values()
    for path in NESTED.get(spec.resource, [f"/api/v1/{spec.path}/", f"/api/v1/{spec.path}/{{id}}/"])
}


@pytest.fixture
def schema(db):
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_schema_lists_every_path(schema):
    assert set(schema["paths"]) >= PATHS


def test_schema_shows_write_only_passwords(schema):
    components = schema["components"]["schemas"]
    assert "password" in components["AccountingBaseRequest"]["properties"]
    assert "password" not in components["AccountingBase"]["properties"]
    assert "has_password" in components["AccountingBase"]["properties"]
    assert "password" not in components["User"]["properties"]
    token = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert token["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "CredentialsRequest"
    )


def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_docs_page(db):
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200 and b"swagger" in response.content.lower()


def test_schema_types_every_id_in_a_path_as_an_integer(schema):
    """The router's ids (``arenda/api/schema.py``): integers, not strings with a pattern, so
    clients and the fuzzer (``bin/api-fuzz``) send numbers."""
    types = {
        (path, parameter["name"]): parameter["schema"]
        for path, item in schema["paths"].items()
        for operation in item.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path" and parameter["name"] != "source"
    }
    assert ("/api/v1/bookings/{id}/", "id") in types
    assert {key: value for key, value in types.items() if value != {"type": "integer"}} == {}
