"""The list/detail/form/delete toolkit (arenda/front/crud.py) links within the namespace its
page is included under, not only within ``directory``."""

import pytest
from django.test import Client, override_settings
from django.urls import include, path, reverse

from arenda.core.roles import Role
from arenda.crm.views import PAGE as DEAL_PAGE
from arenda.directory import forms
from arenda.directory import models as m
from arenda.directory.filters import EquipmentTypeFilter
from arenda.directory.services import SERVICES
from arenda.front import crud
from tests.factories import EquipmentTypeFactory, UnitFactory

# The equipment types once more, under another namespace; their units stay in directory.
ELSEWHERE = crud.Page(
    namespace="elsewhere",
    model=m.EquipmentType,
    form=forms.EquipmentTypeForm,
    services=SERVICES[m.EquipmentType],
    resource="equipment_type",
    slug="types",
    columns=["name", "description"],
    filterset=EquipmentTypeFilter,
    related=[
        crud.Related(
            "Units", "units", "unit", ("capacity_t",), parent_field="equipment_type", namespace="directory"
        )
    ],
)

urlpatterns = [
    path("elsewhere/", include((crud.urls(ELSEWHERE), "elsewhere"))),
    path("", include("arenda.urls")),
]


def test_url_names_carry_the_namespace():
    assert crud.url_name("crm", "deal", "list") == "crm:deal_list"
    assert crud.url_name("directory", "unit", "update") == "directory:unit_update"


def test_the_deal_page_links_into_crm():
    assert DEAL_PAGE.url_list == reverse("crm:deal_list") == "/deals/"
    assert DEAL_PAGE.url_create == "/deals/new/"
    assert DEAL_PAGE.url("update", 7) == "/deals/7/edit/"


def test_a_page_needs_its_namespace():
    with pytest.raises(TypeError):
        crud.Page(
            model=m.EquipmentType,
            form=forms.EquipmentTypeForm,
            resource="equipment_type",
            slug="types",
            columns=["name"],
            filterset=EquipmentTypeFilter,
        )


@pytest.fixture
def admin(make_user):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(make_user(Role.ADMIN))
    return client


@override_settings(ROOT_URLCONF=__name__)
def test_a_page_in_another_namespace_links_within_it(admin):
    kind = EquipmentTypeFactory(name="Манипулятор")
    UnitFactory(equipment_type=kind)
    assert ELSEWHERE.url_list == "/elsewhere/types/"
    listing = admin.get("/elsewhere/types/")
    assert listing.status_code == 200
    assert 'href="/elsewhere/types/new/"' in listing.content.decode()

    detail = admin.get(f"/elsewhere/types/{kind.pk}/")
    assert detail.status_code == 200
    html = detail.content.decode()
    assert f'href="/elsewhere/types/{kind.pk}/edit/"' in html
    assert f'href="/elsewhere/types/{kind.pk}/delete/"' in html
    # the related units are added on their own page, in their own namespace
    assert f'href="/directory/units/new/?equipment_type={kind.pk}"' in html

    response = admin.post(f"/elsewhere/types/{kind.pk}/delete/")
    assert response.status_code == 409, "a type with units is in use"


@override_settings(ROOT_URLCONF=__name__)
def test_a_deleted_record_returns_to_its_own_list(admin):
    kind = EquipmentTypeFactory(name="Автовышка")
    response = admin.post(f"/elsewhere/types/{kind.pk}/delete/")
    assert response.status_code == 302 and response.url == "/elsewhere/types/"
    assert not m.EquipmentType.objects.filter(pk=kind.pk).exists()
