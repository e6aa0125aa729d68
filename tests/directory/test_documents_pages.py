"""The driver's page lists and edits documents; the equipment type's page its requirements."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from arenda.core.roles import Role
from arenda.directory.models import DocumentKind, DriverDocument, EquipmentTypeRequirement
from tests.factories import DriverDocumentFactory, DriverFactory, EquipmentTypeFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def login(make_user):
    def client_for(role):
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(make_user(role))
        return client

    return client_for


def test_driver_page_lists_documents_with_expiry_badges(login):
    driver = DriverFactory()
    today = date.today()
    DriverDocumentFactory(
        driver=driver, kind=DocumentKind.MEDICAL, number="M-1", valid_until=today - timedelta(1)
    )
    DriverDocumentFactory(
        driver=driver,
        kind=DocumentKind.DRIVING_LICENCE,
        categories="C",
        number="L-2",
        valid_until=today + timedelta(10),
    )
    DriverDocumentFactory(driver=driver, kind=DocumentKind.RIGGER, number="R-3", valid_until=None)
    html = login(Role.DIRECTOR).get(driver.get_absolute_url()).content.decode()
    section = html[html.index('id="documents"') :]
    assert "M-1" in section and "L-2" in section and "R-3" in section
    assert 'class="badge danger"' in section and 'class="badge warning"' in section
    assert "no expiry" in section
    assert "Add a document" not in section  # the director reads


def test_manager_adds_a_document_with_a_scan_edits_and_deletes_it(login):
    driver = DriverFactory()
    client = login(Role.MANAGER)
    response = client.post(
        reverse("directory:driver_document_create", args=[driver.pk]),
        {
            "kind": "driving_licence",
            "categories": "B, C",
            "number": "77 00 123456",
            "valid_until": "2031-01-01",
            "scan": SimpleUploadedFile("права.pdf", PDF),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    document = DriverDocument.objects.get(driver=driver)
    assert document.scan_type == "application/pdf"
    scan = client.get(reverse("directory:driver_document_scan", args=[document.pk]))
    assert scan.status_code == 200 and scan["X-Content-Type-Options"] == "nosniff"
    edit_url = reverse("directory:driver_document_edit", args=[document.pk])
    assert client.get(edit_url).status_code == 200
    response = client.post(
        edit_url, {"kind": "driving_licence", "categories": "B, C, CE", "valid_until": "2032-01-01"}
    )
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.categories == "B, C, CE" and document.valid_until == date(2032, 1, 1)
    assert client.post(reverse("directory:driver_document_delete", args=[document.pk])).status_code == 302
    assert not DriverDocument.objects.exists()


def test_a_bad_document_is_shown_with_the_field_error(login):
    driver = DriverFactory()
    response = login(Role.MANAGER).post(
        reverse("directory:driver_document_create", args=[driver.pk]), {"kind": "medical", "categories": "C"}
    )
    assert response.status_code == 200
    assert "This kind of document has no categories." in response.content.decode()
    assert not DriverDocument.objects.exists()


def test_an_accountant_may_not_add_documents_or_see_their_form(login):
    driver = DriverFactory()
    client = login(Role.ACCOUNTANT)
    assert "Add a document" not in client.get(driver.get_absolute_url()).content.decode()
    response = client.post(reverse("directory:driver_document_create", args=[driver.pk]), {"kind": "medical"})
    assert response.status_code == 403


def test_admin_adds_and_removes_requirements_on_the_equipment_type_page(login):
    crane = EquipmentTypeFactory()
    client = login(Role.ADMIN)
    add = reverse("directory:requirement_add", args=[crane.pk])
    assert client.post(add, {"kind": "driving_licence", "category": "c"}).status_code == 302
    assert client.post(add, {"kind": "medical", "category": ""}).status_code == 302
    again = client.post(add, {"kind": "medical", "category": ""})
    assert again.status_code == 200 and "already required" in again.content.decode()
    bad = client.post(add, {"kind": "rigger", "category": "C"})
    assert bad.status_code == 200 and "has no categories" in bad.content.decode()
    assert sorted(crane.requirements.values_list("kind", "category")) == [
        ("driving_licence", "C"),
        ("medical", ""),
    ]
    html = client.get(crane.get_absolute_url()).content.decode()
    assert "Driving licence, category C" in html and "Medical certificate" in html
    medical = EquipmentTypeRequirement.objects.get(equipment_type=crane, kind="medical")
    assert client.post(reverse("directory:requirement_delete", args=[medical.pk])).status_code == 302
    assert list(crane.requirements.values_list("kind", flat=True)) == ["driving_licence"]


def test_a_manager_reads_requirements_but_does_not_change_them(login):
    crane = EquipmentTypeFactory()
    EquipmentTypeRequirement.objects.create(equipment_type=crane, kind="medical")
    client = login(Role.MANAGER)
    html = client.get(crane.get_absolute_url()).content.decode()
    assert "Medical certificate" in html and "Require a document" not in html
    assert (
        client.post(reverse("directory:requirement_add", args=[crane.pk]), {"kind": "rigger"}).status_code
        == 403
    )


def test_django_admin_sets_requirements_inline_and_adds_documents(make_user):
    admin = Client(headers={"Accept-Language": "en"})
    admin.force_login(make_user(Role.ADMIN))
    crane = EquipmentTypeFactory(name="Автокран")
    url = reverse("admin:directory_equipmenttype_change", args=[crane.pk])
    assert admin.get(url).status_code == 200
    prefix = "requirements"
    response = admin.post(
        url,
        {
            "name": "Автокран",
            "description": "",
            f"{prefix}-TOTAL_FORMS": "2",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-0-kind": "driving_licence",
            f"{prefix}-0-category": "C",
            f"{prefix}-1-kind": "medical",
            f"{prefix}-1-category": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert sorted(crane.requirements.values_list("kind", "category")) == [
        ("driving_licence", "C"),
        ("medical", ""),
    ]
    driver = DriverFactory()
    response = admin.post(
        reverse("admin:directory_driverdocument_add"),
        {
            "driver": driver.pk,
            "kind": "medical",
            "categories": "",
            "number": "1",
            "valid_until": "2030-01-01",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert DriverDocument.objects.get(driver=driver).valid_until == date(2030, 1, 1)
