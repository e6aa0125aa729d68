import pytest
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

from arenda.core.roles import Role
from tests.factories import UserFactory

ROLES = [Role.ADMIN, Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR]


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` skip on SQLite (they run in CI against PostgreSQL)."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """Messages made outside a request (services, tasks) are English in the tests. A request
    activates its own language (LocaleMiddleware, Russian by default) and would otherwise
    leak it into whichever test runs next on the thread."""
    with translation.override("en"):
        yield


@pytest.fixture
def make_user(db):
    def make(role=Role.MANAGER, **kwargs):
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def api(make_user):
    """``api(role)`` → an APIClient logged in as a fresh user with that role."""

    def client_for(role=Role.MANAGER, user=None):
        client = APIClient()
        user = user or make_user(role)
        client.force_authenticate(user)
        client.user = user
        return client

    return client_for


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"
