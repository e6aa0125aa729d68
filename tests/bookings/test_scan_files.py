"""Stored files go out only through the app (docs/security.md, «Files»): a scan is stored
under a generated name with the extension of what its content is, the uploader's name is
kept for display, and it is served only to a signed-in user who may read waybills — with
the sniffed type, ``nosniff`` and a ``Content-Disposition`` — on the page and in the API.
No URL serves ``DATA_DIR`` itself, in any mode."""

import importlib
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import Resolver404, clear_url_caches, resolve

from arenda.bookings.models import Waybill
from arenda.core.files import content_disposition, display_name
from arenda.core.roles import MATRIX, Role
from tests import factories as f
from tests.bookings.test_waybills import PDF, as_json, job, png_bytes, sheet

pytestmark = pytest.mark.django_db

POLYGLOT = PDF.replace(b"%%EOF\n", b"<html><script>alert(document.cookie)</script></html>\n%%EOF\n")


@pytest.fixture(autouse=True)
def _own_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


def _record(api, booking, name, content, content_type="text/html"):
    data = as_json(sheet(booking))
    data["scan"] = SimpleUploadedFile(name, content, content_type=content_type)
    response = api(Role.MANAGER).post(f"/api/v1/bookings/{booking.pk}/waybill/", data, format="multipart")
    assert response.status_code == 200, response.content
    return Waybill.objects.get(pk=response.json()["waybill"])


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_polyglot_html_named_pdf_is_stored_as_pdf_and_served_only_with_login_as_an_attachment(api):
    booking = job()
    waybill = _record(api, booking, "polyglot.html", POLYGLOT)
    assert waybill.scan.name.startswith(f"waybills/{booking.pk}/")
    assert waybill.scan.name.endswith(".pdf") and "polyglot" not in waybill.scan.name
    assert (waybill.scan_name, waybill.scan_type) == ("polyglot.html", "application/pdf")

    anonymous = Client()
    assert anonymous.get(f"/files/{waybill.scan.name}").status_code == 404
    page = anonymous.get(f"/bookings/waybills/{waybill.pk}/scan/")
    assert page.status_code == 302 and "/login" in page["Location"]
    assert anonymous.get(f"/api/v1/waybills/{waybill.pk}/scan/").status_code in (401, 403)

    reader = Client()
    reader.force_login(f.UserFactory(role=Role.DIRECTOR))
    served = reader.get(f"/bookings/waybills/{waybill.pk}/scan/")
    assert served.status_code == 200
    assert served["Content-Type"] == "application/pdf"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''polyglot.pdf" in served["Content-Disposition"]
    assert "sandbox" in served["Content-Security-Policy"]
    assert _body(served) == POLYGLOT


def test_the_api_serves_the_scan_to_who_may_read_waybills(api):
    booking = job()
    waybill = _record(api, booking, "Путевой лист 1.png", png_bytes(), "image/png")
    assert waybill.scan.name.endswith(".png") and waybill.scan_name == "Путевой лист 1.png"
    served = api(Role.ACCOUNTANT).get(f"/api/v1/waybills/{waybill.pk}/scan/")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"] == (
        "inline; filename=\"_______ ____ 1.png\"; filename*=UTF-8''" + quote("Путевой лист 1.png")
    )
    assert _body(served) == png_bytes()


def test_a_waybill_without_a_scan_answers_404(api):
    booking = job()
    response = api(Role.MANAGER).post(
        f"/api/v1/bookings/{booking.pk}/waybill/", as_json(sheet(booking)), format="multipart"
    )
    pk = response.json()["waybill"]
    assert api(Role.MANAGER).get(f"/api/v1/waybills/{pk}/scan/").status_code == 404
    client = Client()
    client.force_login(f.UserFactory(role=Role.MANAGER))
    assert client.get(f"/bookings/waybills/{pk}/scan/").status_code == 404


def test_a_user_whose_role_may_not_read_waybills_gets_403_for_a_scan(api, client, monkeypatch):
    """Every role reads waybills today; the views ask the matrix, so a role without the
    right is refused (as is a deactivated user)."""
    booking = job()
    waybill = _record(api, booking, "scan.pdf", PDF, "application/pdf")
    monkeypatch.setitem(MATRIX["waybill"], Role.DIRECTOR, frozenset())
    director = f.UserFactory(role=Role.DIRECTOR)
    client.force_login(director)
    assert client.get(f"/bookings/waybills/{waybill.pk}/scan/").status_code == 403
    assert api(user=director).get(f"/api/v1/waybills/{waybill.pk}/scan/").status_code == 403
    gone = f.UserFactory(role=Role.MANAGER, is_active=False)
    assert api(user=gone).get(f"/api/v1/waybills/{waybill.pk}/scan/").status_code == 403


def test_a_scan_stored_under_its_old_uploaded_name_is_still_served_by_its_content(api, client):
    """Scans stored before names were generated keep their names; the view sniffs them."""
    booking = job()
    waybill = _record(api, booking, "scan.pdf", PDF, "application/pdf")
    old_name = default_storage.save(f"waybills/{booking.pk}/polyglot.html", ContentFile(POLYGLOT))
    Waybill.objects.filter(pk=waybill.pk).update(scan=old_name, scan_name="", scan_type="")
    waybill.refresh_from_db()
    client.force_login(f.UserFactory(role=Role.MANAGER))
    served = client.get(f"/bookings/waybills/{waybill.pk}/scan/")
    assert served.status_code == 200 and served["Content-Type"] == "application/pdf"
    assert served["Content-Disposition"].startswith('attachment; filename="polyglot.pdf"')
    assert _body(served) == POLYGLOT


def test_no_url_serves_data_dir_even_in_debug(settings, client):
    import arenda.urls

    client.force_login(f.UserFactory(role=Role.ADMIN))
    settings.DEBUG = True
    try:
        importlib.reload(arenda.urls)
        clear_url_caches()
        with pytest.raises(Resolver404):
            resolve("/files/waybills/14/polyglot.html")
        assert client.get("/files/waybills/14/polyglot.html").status_code == 404
    finally:
        settings.DEBUG = False
        importlib.reload(arenda.urls)
        clear_url_caches()


@pytest.mark.parametrize(
    ("name", "content_type", "offered"),
    [
        ("polyglot.html", "application/pdf", "polyglot.pdf"),
        ("../../etc/passwd", "image/png", "passwd.png"),
        ("C:\\Users\\me\\скан.JPG", "image/jpeg", "скан.jpg"),
        ("", "image/webp", "file.webp"),
        ('a"b\r\n.pdf', "application/pdf", "ab.pdf"),
    ],
)
def test_the_offered_name_has_no_path_and_the_extension_of_the_content(name, content_type, offered):
    assert display_name(name, content_type) == offered


def test_content_disposition_encodes_the_name_per_rfc_5987():
    assert content_disposition("счёт 1.pdf", inline=False) == (
        "attachment; filename=\"____ 1.pdf\"; filename*=UTF-8''%D1%81%D1%87%D1%91%D1%82%201.pdf"
    )


def test_the_uploaded_name_is_shown_escaped_on_the_waybill_form(api, client):
    booking = job()
    name = '<img src=x onerror="alert(1)">.pdf'
    waybill = _record(api, booking, name, PDF, "application/pdf")
    assert waybill.scan_name == name
    client.force_login(booking.deal.manager)
    page = client.get(f"/bookings/waybills/{waybill.pk}/edit/").content.decode()
    assert "&lt;img src=x onerror=" in page and "<img src=x" not in page
