"""The 1C password is write-only in the API and encrypted in the database."""

import json

from django.db import connection

from arenda.core.roles import Role
from arenda.directory.models import AccountingBase
from tests import factories as f
from tests.api.conftest import SPECS

SECRET = "Pa55-for-1C-only"


def _raw_password(pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM directory_accountingbase WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_password_never_returned_and_stored_encrypted(api):
    client = api(Role.ACCOUNTANT)
    bodies = []
    created = client.post("/api/v1/accounting-bases/", SPECS["accounting_base"].body() | {"password": SECRET})
    assert created.status_code == 201
    pk = created.json()["id"]
    url = f"/api/v1/accounting-bases/{pk}/"
    bodies += [
        created,
        client.get(url),
        client.get("/api/v1/accounting-bases/"),
        client.patch(url, {"name": "БП"}),
    ]
    bodies.append(api(Role.DIRECTOR).get(url))
    for response in bodies:
        assert response.status_code in (200, 201)
        assert SECRET not in response.content.decode()
        assert "password" not in json.dumps(response.json()).replace("has_password", "")
    assert created.json()["has_password"] is True

    raw = _raw_password(pk)
    assert raw and SECRET not in raw and raw.startswith("fernet:")
    assert AccountingBase.objects.get(pk=pk).password == SECRET
    history = AccountingBase.history.model.objects.filter(id=pk)
    assert history.count() == 2 and not hasattr(history.first(), "password")


def test_empty_password_keeps_the_stored_one(api):
    base = f.AccountingBaseFactory(password=SECRET)
    client = api(Role.ADMIN)
    url = f"/api/v1/accounting-bases/{base.pk}/"
    assert client.patch(url, {"password": "", "name": "БП 2"}).status_code == 200
    base.refresh_from_db()
    assert (base.password, base.name) == (SECRET, "БП 2")
    # A new 1C user is another set of credentials: the password must come with it
    # (tests/directory/test_accounting_base_credentials.py).
    refused = client.patch(url, {"password": "", "username": "odata2"})
    assert refused.status_code == 400 and "password" in refused.json()

    assert client.patch(url, {"password": "new-secret"}).status_code == 200
    base.refresh_from_db()
    assert base.password == "new-secret" and "new-secret" not in _raw_password(base.pk)


def test_has_password_false_without_one(api):
    base = f.AccountingBaseFactory(kind="manual", odata_url="", password="")
    assert api(Role.DIRECTOR).get(f"/api/v1/accounting-bases/{base.pk}/").json()["has_password"] is False


def test_user_password_never_returned(api):
    client = api(Role.ADMIN)
    body = SPECS["user"].body()
    created = client.post("/api/v1/users/", body)
    listed = client.get("/api/v1/users/")
    for response in (created, listed, client.get(f"/api/v1/users/{created.json()['id']}/")):
        assert body["password"] not in response.content.decode()
        assert "pbkdf2" not in response.content.decode() and "md5$" not in response.content.decode()
