"""Token login, token and session authentication, brute-force lockout."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from arenda.core.roles import Role
from tests.factories import UserFactory

URL = "/api/v1/auth/token/"


@pytest.fixture
def user(db):
    return UserFactory(username="dispatcher", role=Role.MANAGER)


def login(client, username="dispatcher", password="pass-12345"):
    return client.post(URL, {"username": username, "password": password}, format="json")


def test_token_for_good_credentials(user):
    client = APIClient()
    response = login(client)
    assert response.status_code == 200
    key = response.json()["token"]
    assert Token.objects.get(user=user).key == key
    assert login(client).json()["token"] == key  # the same token each time

    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200 and me.json()["username"] == "dispatcher"
    assert client.get("/api/v1/counterparties/").status_code == 200


def test_bad_token_is_401(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/me/")
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"


@pytest.mark.parametrize(
    "username, password",
    [("dispatcher", "wrong-password"), ("nobody", "pass-12345"), ("DISPATCHER ", "pass-12345")],
)
def test_bad_credentials(user, username, password):
    response = login(APIClient(), username, password)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials" and response.json()["detail"]
    assert not Token.objects.exists()


def test_inactive_user_gets_no_token(user):
    user.is_active = False
    user.save()
    assert login(APIClient()).json()["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"password": "x"}, "username"),
        ({"username": "x"}, "password"),
        ({"username": ["x"], "password": "y"}, "username"),
    ],
)
def test_bad_body_names_the_field(db, body, field):
    response = APIClient().post(URL, body, format="json")
    assert response.status_code == 400 and field in response.json()


def test_malformed_json(db):
    response = APIClient().post(URL, "{", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_lockout_after_five_failures(user):
    client = APIClient()
    statuses = [login(client, password=f"guess-{i}").status_code for i in range(5)]
    assert statuses == [400, 400, 400, 400, 429]
    # Locked: even the right password is refused, with the API's JSON, not axes' HTML page.
    response = login(client)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "locked_out" and response.json()["detail"]
    assert not Token.objects.exists()
    # Another user from the same address is not affected.
    UserFactory(username="accountant")
    assert login(client, username="accountant").status_code == 200


def test_success_resets_the_failure_count(user):
    client = APIClient()
    for i in range(4):
        login(client, password=f"guess-{i}")
    assert login(client).status_code == 200
    user.refresh_from_db()
    assert user.last_login is not None
    for i in range(4):
        assert login(client, password=f"guess-{i}").status_code == 400
    assert login(client).status_code == 200


def test_session_writes_need_csrf(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/api/v1/me/").status_code == 200
    response = client.post("/api/v1/drivers/", {"full_name": "x", "phone": "+79151234567"}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
