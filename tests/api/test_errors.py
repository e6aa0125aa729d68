"""The exception handler turns service and database errors into the API's error shape."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError

from arenda.api.errors import exception_handler
from arenda.core.roles import Role
from tests import factories as f


def test_validation_error_by_field_and_non_field():
    response = exception_handler(ValidationError({"inn": ["bad"], "__all__": ["clash"]}), {})
    assert (response.status_code, response.data) == (400, {"inn": ["bad"], "non_field_errors": ["clash"]})
    response = exception_handler(ValidationError("plain"), {})
    assert (response.status_code, response.data) == (400, {"non_field_errors": ["plain"]})


def test_integrity_error_is_a_conflict():
    response = exception_handler(IntegrityError("duplicate key value"), {})
    assert response.status_code == 409
    assert response.data["code"] == "conflict" and "duplicate key" not in str(response.data["detail"])


def test_other_errors_are_left_alone():
    assert exception_handler(RuntimeError("bug"), {}) is None


def test_history_records_the_token_user(api, client):
    user = f.UserFactory(username="accountant", role=Role.ACCOUNTANT)
    key = client.post(
        "/api/v1/auth/token/",
        {"username": "accountant", "password": "pass-12345"},
        content_type="application/json",
    ).json()["token"]
    driver = f.DriverFactory()
    response = client.patch(
        f"/api/v1/drivers/{driver.pk}/",
        {"hourly_pay": "777.00"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert response.status_code == 200
    record = driver.history.first()
    assert (record.history_user, record.hourly_pay, record.history_type) == (user, 777, "~")
