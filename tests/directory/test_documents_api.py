"""The API of drivers' documents, equipment types' requirements, and the reserve's and the
availability's answers about qualifications."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from arenda.core.roles import Role
from arenda.directory.models import DocumentKind, DriverDocument
from tests.directory.test_qualifications import crane_requirements, qualified_driver
from tests.factories import (
    BookingFactory,
    DriverDocumentFactory,
    DriverFactory,
    EquipmentTypeFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def crane():
    crane = EquipmentTypeFactory(name="Автокран")
    crane_requirements(crane)
    return crane


def day_at(days, hour):
    return (timezone.localtime() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


# --- documents ----------------------------------------------------------------------------------
def test_documents_crud(api):
    client = api(Role.MANAGER)
    driver = DriverFactory()
    url = f"/api/v1/drivers/{driver.pk}/documents/"
    created = client.post(
        url,
        {
            "kind": "driving_licence",
            "categories": "в, с",
            "number": "77 12 345678",
            "valid_until": "2031-05-01",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["categories"] == "B, C" and created.json()["driver"] == driver.pk
    detail = f"{url}{created.json()['id']}/"
    assert client.get(url).json()["count"] == 1
    changed = client.patch(detail, {"valid_until": "2032-05-01"}, format="json")
    assert changed.status_code == 200 and changed.json()["valid_until"] == "2032-05-01"
    assert client.delete(detail).status_code == 204
    assert not DriverDocument.objects.filter(driver=driver).exists()


def test_a_document_belongs_to_its_driver(api):
    document = DriverDocumentFactory()
    other = DriverFactory()
    client = api(Role.ADMIN)
    assert client.get(f"/api/v1/drivers/{other.pk}/documents/{document.pk}/").status_code == 404
    assert client.get("/api/v1/drivers/999999/documents/").status_code == 404


def test_categories_of_a_medical_certificate_are_400_naming_the_field(api):
    driver = DriverFactory()
    response = api(Role.MANAGER).post(
        f"/api/v1/drivers/{driver.pk}/documents/", {"kind": "medical", "categories": "C"}, format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["categories"]


def test_scan_upload_is_sniffed_and_served_only_to_readers(api):
    driver = DriverFactory()
    client = api(Role.MANAGER)
    created = client.post(
        f"/api/v1/drivers/{driver.pk}/documents/",
        {"kind": "medical", "valid_until": "2030-01-01", "scan": SimpleUploadedFile("справка.html", PDF)},
        format="multipart",
    )
    assert created.status_code == 201, created.json()
    document = DriverDocument.objects.get(pk=created.json()["id"])
    assert document.scan_type == "application/pdf" and document.scan.name.endswith(".pdf")
    assert "справка" not in document.scan.name
    scan = client.get(created.json()["scan_url"])
    assert scan.status_code == 200 and scan["Content-Type"] == "application/pdf"
    assert scan["Content-Disposition"].startswith("attachment")
    assert APIClient().get(created.json()["scan_url"]).status_code in (401, 403)


def test_a_scan_that_is_no_photo_or_pdf_is_400_scan(api):
    driver = DriverFactory()
    response = api(Role.MANAGER).post(
        f"/api/v1/drivers/{driver.pk}/documents/",
        {"kind": "medical", "scan": SimpleUploadedFile("x.pdf", b"<html>hello</html>")},
        format="multipart",
    )
    assert response.status_code == 400 and "scan" in response.json()
    assert not DriverDocument.objects.exists()


def test_an_accountant_reads_documents_but_does_not_change_them(api):
    document = DriverDocumentFactory()
    client = api(Role.ACCOUNTANT)
    url = f"/api/v1/drivers/{document.driver_id}/documents/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"kind": "medical"}, format="json").status_code == 403


# --- requirements of an equipment type ----------------------------------------------------------
def test_equipment_type_requirements_read_and_write(api):
    client = api(Role.ADMIN)
    crane = EquipmentTypeFactory()
    url = f"/api/v1/equipment-types/{crane.pk}/"
    body = {"requirements": [{"kind": "driving_licence", "category": "C"}, {"kind": "medical"}]}
    changed = client.patch(url, body, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["requirements"] == [
        {"kind": "driving_licence", "category": "C"},
        {"kind": "medical", "category": ""},
    ]
    assert client.get(url).json()["requirements"] == changed.json()["requirements"]
    assert client.patch(url, {"description": "с КМУ"}, format="json").json()["requirements"] == body[
        "requirements"
    ][:1] + [{"kind": "medical", "category": ""}]
    created = client.post(
        "/api/v1/equipment-types/",
        {"name": "Манипулятор", "requirements": [{"kind": "loader_crane"}]},
        format="json",
    )
    assert created.status_code == 201 and created.json()["requirements"] == [
        {"kind": "loader_crane", "category": ""}
    ]


@pytest.mark.parametrize(
    "requirements",
    [
        [{"kind": "pilot"}],
        [{"kind": "medical", "category": "C"}],
        [{"kind": "driving_licence", "category": "Z"}],
        [{"kind": "medical"}, {"kind": "medical"}],
    ],
)
def test_bad_requirements_are_400_naming_the_field(api, requirements):
    crane = EquipmentTypeFactory()
    response = api(Role.ADMIN).patch(
        f"/api/v1/equipment-types/{crane.pk}/", {"requirements": requirements}, format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["requirements"], response.json()
    assert not crane.requirements.exists()


def test_a_manager_cannot_set_requirements(api):
    crane = EquipmentTypeFactory()
    response = api(Role.MANAGER).patch(
        f"/api/v1/equipment-types/{crane.pk}/", {"requirements": [{"kind": "medical"}]}, format="json"
    )
    assert response.status_code == 403


# --- reserve and availability -------------------------------------------------------------------
def test_reserve_of_an_unqualified_driver_is_409_with_missing(api, crane):
    client = api(Role.MANAGER)
    booking = BookingFactory(equipment_type=crane, start=day_at(3, 8), end=day_at(3, 16))
    driver = DriverFactory()
    DriverDocumentFactory(
        driver=driver, kind=DocumentKind.MEDICAL, valid_until=date.today() + timedelta(days=1)
    )
    response = client.post(
        f"/api/v1/bookings/{booking.pk}/reserve/",
        {"unit": UnitFactory(equipment_type=crane).pk, "driver": driver.pk},
        format="json",
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "driver_not_qualified" and body["conflicts"] == []
    by_kind = {item["kind"]: item for item in body["missing"]}
    assert set(by_kind) == {"driving_licence", "truck_crane", "medical"}
    assert by_kind["driving_licence"]["category"] == "C" and by_kind["driving_licence"]["reason"] == "missing"
    assert by_kind["medical"]["reason"] == "expires"
    assert by_kind["medical"]["valid_until"] == (date.today() + timedelta(days=1)).isoformat()
    assert all(item["label"] for item in body["missing"])


def test_reserve_of_a_qualified_driver_is_200(api, crane):
    booking = BookingFactory(equipment_type=crane, start=day_at(3, 8), end=day_at(3, 16))
    response = api(Role.MANAGER).post(
        f"/api/v1/bookings/{booking.pk}/reserve/",
        {"unit": UnitFactory(equipment_type=crane).pk, "driver": qualified_driver().pk},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "reserved"


def test_other_conflicts_keep_their_body(api):
    plain = EquipmentTypeFactory()
    booking = BookingFactory(equipment_type=plain, start=day_at(3, 8), end=day_at(3, 16))
    response = api(Role.MANAGER).post(
        f"/api/v1/bookings/{booking.pk}/reserve/",
        {"unit": UnitFactory(equipment_type=plain).pk, "driver": DriverFactory(license_valid_until=None).pk},
        format="json",
    )
    assert response.status_code == 409 and response.json()["code"] == "license_expired"
    assert "missing" not in response.json()


def test_availability_lists_qualified_drivers_first_with_reasons(api, crane):
    unqualified = DriverFactory(full_name="Аааев Неготовый")
    qualified = qualified_driver()
    response = api(Role.MANAGER).get(
        "/api/v1/availability/",
        {"equipment_type": crane.pk, "start": day_at(3, 8).isoformat(), "end": day_at(3, 16).isoformat()},
    )
    drivers = response.json()["drivers"]
    assert drivers[0]["driver"] == qualified.pk and drivers[0]["qualified"] and drivers[0]["missing"] == []
    row = next(r for r in drivers if r["driver"] == unqualified.pk)
    assert not row["qualified"] and not row["free"]
    assert {m["kind"] for m in row["missing"]} == {"driving_licence", "truck_crane", "medical"}


def test_availability_query_count_with_documents_is_constant(api, crane, django_assert_max_num_queries):
    client = api(Role.MANAGER)
    params = {"equipment_type": crane.pk, "start": day_at(3, 0).isoformat(), "end": day_at(5, 0).isoformat()}
    for _ in range(3):
        qualified_driver()
        UnitFactory(equipment_type=crane)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/availability/", params).status_code == 200
    for _ in range(20):
        qualified_driver()
        DriverFactory()
        UnitFactory(equipment_type=crane)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/api/v1/availability/", params)
    assert sum(1 for r in response.json()["drivers"] if r["qualified"]) >= 23
