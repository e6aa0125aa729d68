"""Every page renders for every role the permission matrix lets in, is refused (403) for
the others, and sends anonymous visitors to the login page."""

import pytest
from django.urls import reverse

from arenda.core.roles import MATRIX, Role
from tests.conftest import ROLES
from tests.factories import MaintenanceWindowFactory, UnitFactory
from tests.ui.conftest import FACTORIES

PAGES = [("list", "view"), ("create", "add"), ("detail", "view"), ("update", "change"), ("delete", "delete")]


def allowed(role, action, resource):
    return role == Role.ADMIN or action in MATRIX[resource].get(role, frozenset())


def _url(resource, kind, obj):
    args = [obj.pk] if kind in ("detail", "update", "delete") else []
    return reverse(f"directory:{resource}_{kind}", args=args)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("kind", "action"), PAGES)
@pytest.mark.parametrize("resource", FACTORIES)
def test_reference_pages_follow_the_matrix(ui, role, resource, kind, action):
    obj = FACTORIES[resource]()
    response = ui(role).get(_url(resource, kind, obj))
    assert response.status_code == (200 if allowed(role, action, resource) else 403)


@pytest.mark.parametrize(("kind", "action"), PAGES)
@pytest.mark.parametrize("resource", FACTORIES)
def test_anonymous_is_sent_to_login(client, db, resource, kind, action):
    url = _url(resource, kind, FACTORIES[resource]())
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", ["/", "/notifications/bell/", "/accounts/password/"])
def test_shell_pages_render_for_every_role(ui, role, url):
    assert ui(role).get(url).status_code == 200


@pytest.mark.parametrize("url", ["/", "/notifications/bell/", "/accounts/password/"])
def test_shell_pages_need_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_coming_soon_pages_are_gone(ui):
    assert ui(Role.MANAGER).get("/coming/reports/").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_maintenance_windows_follow_the_matrix(ui, role):
    client = ui(role)
    unit = UnitFactory()
    window = MaintenanceWindowFactory(unit=unit)
    data = {"start": "2030-01-10T08:00", "end": "2030-01-10T18:00", "reason": "ТО-1"}
    created = client.post(reverse("directory:maintenance_create", args=[unit.pk]), data)
    assert created.status_code == (302 if allowed(role, "add", "maintenance") else 403)
    deleted = client.post(reverse("directory:maintenance_delete", args=[window.pk]))
    assert deleted.status_code == (302 if allowed(role, "delete", "maintenance") else 403)


@pytest.mark.parametrize("role", ROLES)
def test_navigation_hides_what_the_role_cannot_see(ui, role):
    html = ui(role).get("/").content.decode()
    for resource in FACTORIES:
        assert (reverse(f"directory:{resource}_list") in html) == allowed(role, "view", resource)
    assert ("/admin/core/user/" in html) == (role == Role.ADMIN)
    assert reverse("crm:lead_board") in html
    assert reverse("bookings:booking_list") in html and reverse("crm:deal_board") in html


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("resource", FACTORIES)
def test_buttons_for_forbidden_actions_are_hidden(ui, role, resource):
    obj = FACTORIES[resource]()
    client = ui(role)
    detail = client.get(_url(resource, "detail", obj)).content.decode()
    assert (_url(resource, "update", obj) in detail) == allowed(role, "change", resource)
    assert (_url(resource, "delete", obj) in detail) == allowed(role, "delete", resource)
    listing = client.get(_url(resource, "list", obj)).content.decode()
    assert (_url(resource, "create", obj) in listing) == allowed(role, "add", resource)
