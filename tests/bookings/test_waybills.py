"""Waybills: recording one completes the booking; every rule refuses bad input with a 400
naming the field (nothing written, no scan stored); the scan's type is told by its content;
the page form; correcting through PATCH; a closed booking's waybills are final."""

import io
import struct
import zlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from arenda.bookings.models import Booking, Waybill
from arenda.core.models import CompanySettings
from arenda.core.roles import Role
from arenda.directory.selectors import pay_rate_on
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_media(settings, tmp_path):
    """Each test stores its scans apart (booking ids repeat between tests)."""
    settings.MEDIA_ROOT = tmp_path / "files"


# --- helpers shared by the overtime and closing tests -----------------------------------------
def yesterday_at(hour=8):
    local = timezone.localtime() - timedelta(days=1)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def job(
    *,
    min_hours="4",
    rate="3500.00",
    rate_km="0",
    hour_meter=False,
    days=1,
    status="confirmed",
    manager=None,
    pay="600.00",
):
    """A confirmed booking of our unit and driver that started yesterday at 8:00, of a deal
    with a manager, billed by a legal entity whose 1C base takes pushes."""
    organization = f.OrganizationFactory()
    base = f.AccountingBaseFactory(organization=organization)
    organization.default_accounting_base = base
    organization.save()
    manager = manager or f.UserFactory(role=Role.MANAGER)
    customer = f.CounterpartyFactory(prepayment_required=False)
    deal = f.DealFactory(counterparty=customer, organization=organization, manager=manager, stage="agreed")
    start = yesterday_at(8) - timedelta(days=days - 1)
    end = start + timedelta(days=days - 1, hours=10)
    return f.BookingFactory(
        deal=deal,
        unit=f.UnitFactory(has_hour_meter=hour_meter),
        driver=f.DriverFactory(hourly_pay=Decimal(pay)),
        status=status,
        start=start,
        end=end,
        busy_until=end,
        min_hours=Decimal(min_hours),
        ordered_hours=Decimal("8"),
        rate_per_hour=Decimal(rate),
        rate_per_km=Decimal(rate_km),
    )


def sheet(booking, number="ПЛ-1", *, day=0, hours="8", span=9, **extra) -> dict:
    """Waybill data of day ``day`` of the booking: from 8:00 for ``span`` hours."""
    start = timezone.localtime(booking.start).replace(hour=8) + timedelta(days=day)
    data = {
        "number": number,
        "started_at": start,
        "finished_at": start + timedelta(hours=span),
        "hours": Decimal(hours),
    }
    data.update(extra)
    return data


def as_json(data: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else str(v)) for k, v in data.items()}


def png_bytes(width=2, height=2) -> bytes:
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


# --- recording through the API ------------------------------------------------------------------
def test_recording_the_first_waybill_completes_the_booking(api):
    booking = job(min_hours="4")
    client = api(Role.MANAGER)
    response = client.post(
        f"/api/v1/bookings/{booking.pk}/waybill/", as_json(sheet(booking, hours="3")), format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["booking"]["id"] == booking.pk and body["booking"]["status"] == "completed"
    assert body["booking"]["actual_hours"] == "3.00"
    waybill = Waybill.objects.get(pk=body["waybill"])
    assert waybill.booking == booking and waybill.unit == booking.unit and waybill.driver == booking.driver
    assert waybill.hourly_pay == Decimal("600.00") and waybill.created_by == client.user
    assert body["overtime_invoice"] is not None  # 3 h under the minimum of 4: the minimum is billed


def test_hourly_pay_is_the_rate_in_force_when_the_trip_started(api):
    booking = job(pay="500.00")
    driver = booking.driver
    driver.history.update(history_date=timezone.now() - timedelta(days=30))  # hired a month ago
    driver.hourly_pay = Decimal("800.00")
    driver.save()  # the rise is recorded now, after yesterday's trip
    response = api(Role.MANAGER).post(
        f"/api/v1/bookings/{booking.pk}/waybill/", as_json(sheet(booking)), format="json"
    )
    assert response.status_code == 200, response.content
    assert Waybill.objects.get().hourly_pay == Decimal("500.00")


def test_a_waybill_made_before_the_drivers_history_takes_the_current_rate():
    booking = job(pay="650.00")
    assert pay_rate_on(booking.driver, booking.start - timedelta(days=3650)) == Decimal("650.00")


def test_km_are_computed_from_the_odometer_when_omitted(api):
    booking = job()
    data = sheet(booking, odometer_start="12000.5", odometer_end="12042.0")
    response = api(Role.MANAGER).post(f"/api/v1/bookings/{booking.pk}/waybill/", as_json(data), format="json")
    assert response.status_code == 200, response.content
    assert Waybill.objects.get().km == Decimal("41.5")


def test_engine_hours_are_taken_when_the_unit_has_a_meter(api):
    booking = job(hour_meter=True)
    data = sheet(booking, engine_hours="7.5", downtime_hours="1")
    response = api(Role.MANAGER).post(f"/api/v1/bookings/{booking.pk}/waybill/", as_json(data), format="json")
    assert response.status_code == 200, response.content
    assert Waybill.objects.get().engine_hours == Decimal("7.5")


def _bad(api, booking, data, field):
    response = api(Role.MANAGER).post(f"/api/v1/bookings/{booking.pk}/waybill/", data, format="multipart")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    return response


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("number", {"number": ""}),
        ("started_at", {"started_at": "yesterday"}),
        ("finished_at", {"finished_at": "shift(-1)"}),
        ("finished_at", {"finished_at": "shift(0)"}),
        ("hours", {"hours": "9.6"}),  # 9 h span + 30 min tolerance = 9.5
        ("hours", {"hours": "-1"}),
        ("hours", {"hours": "abc"}),
        ("km", {"km": "-5"}),
        ("km", {"km": "30", "odometer_start": "100", "odometer_end": "120"}),
        ("odometer_end", {"odometer_start": "120", "odometer_end": "100"}),
        ("odometer_end", {"odometer_start": "120"}),
        ("engine_hours", {"engine_hours": "5"}),  # this unit has no meter
        ("downtime_hours", {"downtime_hours": "-1"}),
        ("downtime_hours", {"downtime_hours": "10"}),
    ],
)
def test_every_rule_answers_400_naming_the_field_and_writes_nothing(api, field, change):
    booking = job()
    data = sheet(booking)
    for name, value in change.items():
        if isinstance(value, str) and value.startswith("shift("):
            value = data["started_at"] + timedelta(hours=int(value[6:-1]))
        data[name] = value
    data = as_json(data)
    data["scan"] = SimpleUploadedFile("scan.png", png_bytes(), content_type="image/png")
    _bad(api, booking, data, field)
    assert not Waybill.objects.exists()
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"
    assert not booking.invoices.exists()
    assert not _stored_scans(booking)


def _stored_scans(booking):
    from django.core.files.storage import default_storage

    try:
        return default_storage.listdir(f"waybills/{booking.pk}")[1]
    except FileNotFoundError:
        return []


def test_hours_within_the_tolerance_are_accepted(api):
    CompanySettings.objects.filter(pk=CompanySettings.current().pk).update(waybill_tolerance_minutes=60)
    booking = job()
    response = api(Role.MANAGER).post(
        f"/api/v1/bookings/{booking.pk}/waybill/", as_json(sheet(booking, hours="9.9")), format="json"
    )
    assert response.status_code == 200, response.content


def test_a_waybill_for_work_that_has_not_started_is_refused(api):
    """A waybill dated six days ahead was accepted: the future job became «Выполнено» and
    its overtime invoice was issued early."""
    booking = job()
    ahead = timezone.localtime() + timedelta(days=6)
    data = sheet(booking) | {"started_at": ahead, "finished_at": ahead + timedelta(hours=9)}
    response = api(Role.MANAGER).post(f"/api/v1/bookings/{booking.pk}/waybill/", as_json(data), format="json")
    assert response.status_code == 400 and "started_at" in response.json()
    booking.refresh_from_db()
    assert booking.status == "confirmed" and not booking.waybills.exists() and not booking.invoices.exists()


def test_a_waybill_may_start_within_the_tolerance_ahead_of_now(api):
    CompanySettings.objects.filter(pk=CompanySettings.current().pk).update(waybill_ahead_minutes=120)
    booking = job()
    soon = timezone.localtime() + timedelta(minutes=90)
    data = sheet(booking) | {"started_at": soon, "finished_at": soon + timedelta(hours=9)}
    response = api(Role.MANAGER).post(f"/api/v1/bookings/{booking.pk}/waybill/", as_json(data), format="json")
    assert response.status_code == 200, response.content
    CompanySettings.objects.filter(pk=CompanySettings.current().pk).update(waybill_ahead_minutes=60)
    later = api(Role.MANAGER).post(
        f"/api/v1/bookings/{booking.pk}/waybill/",
        as_json(sheet(booking, "ПЛ-2") | {"started_at": soon, "finished_at": soon + timedelta(hours=9)}),
        format="json",
    )
    assert later.status_code == 400 and "started_at" in later.json()


def test_the_number_is_unique_per_booking(api):
    booking = job()
    client = api(Role.MANAGER)
    assert (
        client.post(
            f"/api/v1/bookings/{booking.pk}/waybill/", as_json(sheet(booking)), format="json"
        ).status_code
        == 200
    )
    again = as_json(sheet(booking, day=0))
    again["number"] = " пл-1 "
    _bad(api, booking, again, "number")
    other = job()
    assert (
        client.post(f"/api/v1/bookings/{other.pk}/waybill/", as_json(sheet(other)), format="json").status_code
        == 200
    )


def test_a_draft_or_cancelled_booking_takes_no_waybill(api):
    booking = job(status="draft")
    Booking.objects.filter(pk=booking.pk).update(busy_until=None)
    response = api(Role.MANAGER).post(
        f"/api/v1/bookings/{booking.pk}/waybill/", as_json(sheet(booking)), format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "wrong_status"
    assert not Waybill.objects.exists()


def test_only_those_who_may_add_waybills_record_them(api):
    booking = job()
    for role in (Role.DIRECTOR, Role.ACCOUNTANT):
        response = api(role).post(
            f"/api/v1/bookings/{booking.pk}/waybill/", as_json(sheet(booking)), format="json"
        )
        assert response.status_code == 403, role
    assert not Waybill.objects.exists()


# --- the scan -----------------------------------------------------------------------------------
def _with_scan(booking, name, content, content_type):
    data = as_json(sheet(booking))
    data["scan"] = SimpleUploadedFile(name, content, content_type=content_type)
    return data


def test_a_20_mb_scan_is_refused(api):
    booking = job()
    big = png_bytes() + b"\0" * (20 * 1024 * 1024)
    response = _bad(api, booking, _with_scan(booking, "scan.png", big, "image/png"), "scan")
    assert "10" in response.json()["scan"][0]
    assert not Waybill.objects.exists() and not _stored_scans(booking)


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("scan.jpg", b"This is a text file, not a photo.\n" * 20, "image/jpeg"),
        ("scan.png", b"\x89PNG\r\n\x1a\n" + b"broken" * 10, "image/png"),  # a PNG head, no image
        ("scan.pdf", b"<html><body>not a pdf</body></html>", "application/pdf"),
        ("scan.jpg", b"", "image/jpeg"),
    ],
)
def test_a_scan_that_is_not_an_image_or_pdf_by_content_is_refused(api, name, content, content_type):
    booking = job()
    _bad(api, booking, _with_scan(booking, name, content, content_type), "scan")
    assert not Waybill.objects.exists() and not _stored_scans(booking)


@pytest.mark.parametrize(
    ("name", "content", "served_as"),
    [
        ("photo.png", png_bytes(), "image/png"),
        ("waybill.pdf", PDF, "application/pdf"),
        ("named-wrong.txt", png_bytes(), "image/png"),  # the content decides, not the name
    ],
)
def test_a_real_png_or_pdf_is_stored_and_served_by_its_content(api, client, name, content, served_as):
    booking = job()
    response = api(Role.MANAGER).post(
        f"/api/v1/bookings/{booking.pk}/waybill/",
        _with_scan(booking, name, content, "application/octet-stream"),
        format="multipart",
    )
    assert response.status_code == 200, response.content
    waybill = Waybill.objects.get()
    assert waybill.scan.name.startswith(f"waybills/{booking.pk}/")
    client.force_login(f.UserFactory(role=Role.DIRECTOR))
    served = client.get(f"/bookings/waybills/{waybill.pk}/scan/")
    assert served.status_code == 200 and served["Content-Type"] == served_as
    assert b"".join(served.streaming_content) == content


def test_jpeg_webp_and_heic_heads_are_told_apart():
    from PIL import Image

    from arenda.bookings.waybills import scan_kind, sniff

    for fmt, kind in (("JPEG", "jpeg"), ("WEBP", "webp"), ("PNG", "png")):
        buffer = io.BytesIO()
        Image.new("RGB", (4, 4), "red").save(buffer, fmt)
        assert scan_kind(SimpleUploadedFile("x", buffer.getvalue())) == kind
    assert sniff(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00") == "heic"
    assert sniff(b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00") is None  # an MP4 video
    assert sniff(b"GIF89a") is None


# --- correcting -----------------------------------------------------------------------------------
def test_patch_corrects_a_waybill_and_refuses_bad_values_by_field(api):
    booking = job()
    client = api(Role.MANAGER)
    waybill_id = client.post(
        f"/api/v1/bookings/{booking.pk}/waybill/", as_json(sheet(booking, hours="6")), format="json"
    ).json()["waybill"]
    response = client.patch(
        f"/api/v1/waybills/{waybill_id}/", {"hours": "7.5", "notes": "Задержка на объекте"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["hours"] == "7.50"
    assert Waybill.objects.get().history.count() == 2
    bad = client.patch(f"/api/v1/waybills/{waybill_id}/", {"hours": "30"}, format="json")
    assert bad.status_code == 400 and "hours" in bad.json()
    assert Waybill.objects.get().hours == Decimal("7.5")
    listed = client.get(f"/api/v1/waybills/?booking={booking.pk}").json()
    assert [w["id"] for w in listed["results"]] == [waybill_id]


def test_patch_with_a_new_odometer_recomputes_the_km(api):
    booking = job()
    client = api(Role.MANAGER)
    data = sheet(booking, odometer_start="100", odometer_end="130")
    waybill_id = client.post(f"/api/v1/bookings/{booking.pk}/waybill/", as_json(data), format="json").json()[
        "waybill"
    ]
    response = client.patch(f"/api/v1/waybills/{waybill_id}/", {"odometer_end": "150"}, format="json")
    assert response.status_code == 200, response.content
    assert Waybill.objects.get().km == Decimal("50")


def test_drivers_pay_shows_only_to_who_may_see_it(api):
    booking = job()
    f.WaybillFactory(booking=booking, hourly_pay=Decimal("600"))
    assert "hourly_pay" not in api(Role.MANAGER).get("/api/v1/waybills/").json()["results"][0]
    assert api(Role.ACCOUNTANT).get("/api/v1/waybills/").json()["results"][0]["hourly_pay"] == "600.00"


def test_a_closed_bookings_waybills_cannot_be_changed(api):
    booking = job()
    waybill = f.WaybillFactory(booking=booking)
    Booking.objects.filter(pk=booking.pk).update(status="closed")
    response = api(Role.MANAGER).patch(f"/api/v1/waybills/{waybill.pk}/", {"hours": "5"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "booking_closed"
    assert Waybill.objects.get().hours == Decimal("8")


def test_the_director_reads_but_does_not_correct(api):
    waybill = f.WaybillFactory(booking=job())
    director = api(Role.DIRECTOR)
    assert director.get(f"/api/v1/waybills/{waybill.pk}/").status_code == 200
    assert director.patch(f"/api/v1/waybills/{waybill.pk}/", {"hours": "5"}, format="json").status_code == 403


# --- the booking page -------------------------------------------------------------------------------
def _form(booking, **extra):
    data = sheet(booking, **extra)
    form = {
        k: (timezone.localtime(v).strftime("%Y-%m-%dT%H:%M") if hasattr(v, "hour") else str(v))
        for k, v in data.items()
    }
    return form


def test_the_page_form_records_a_waybill_with_a_scan(client):
    booking = job()
    manager = booking.deal.manager
    client.force_login(manager)
    page = client.get(f"/bookings/{booking.pk}/")
    assert f"/bookings/{booking.pk}/waybill/".encode() in page.content  # «Record a waybill»
    assert f"/bookings/{booking.pk}/complete/".encode() not in page.content
    form = client.get(f"/bookings/{booking.pk}/waybill/")
    assert form.status_code == 200 and b'name="engine_hours"' not in form.content
    start = timezone.localtime(booking.start).strftime("%Y-%m-%dT%H:%M")
    assert f'value="{start}"'.encode() in form.content  # starts at the booking's time
    data = _form(booking, hours="9")
    data["scan"] = SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf")
    response = client.post(f"/bookings/{booking.pk}/waybill/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Booking.objects.get(pk=booking.pk).status == "completed"
    page = client.get(f"/bookings/{booking.pk}/")
    assert b'id="waybills"' in page.content and b'id="settlement"' in page.content
    assert f"/bookings/waybills/{Waybill.objects.get().pk}/edit/".encode() in page.content


def test_the_page_form_shows_the_rule_errors_on_their_fields(client):
    booking = job()
    client.force_login(booking.deal.manager)
    data = _form(booking, hours="12")
    data["scan"] = SimpleUploadedFile("scan.jpg", b"not an image at all", content_type="image/jpeg")
    response = client.post(f"/bookings/{booking.pk}/waybill/", data)
    assert response.status_code == 400
    form = response.context["form"]
    assert "scan" in form.errors and "hours" in form.errors  # every error at once
    assert not Waybill.objects.exists() and not _stored_scans(booking)
    data = _form(booking, hours="12")
    response = client.post(f"/bookings/{booking.pk}/waybill/", data)
    assert response.status_code == 400 and "hours" in response.context["form"].errors


def test_the_page_form_corrects_a_waybill(client):
    booking = job()
    client.force_login(booking.deal.manager)
    client.post(f"/bookings/{booking.pk}/waybill/", _form(booking, hours="5"))
    waybill = Waybill.objects.get()
    page = client.get(f"/bookings/waybills/{waybill.pk}/edit/")
    assert page.status_code == 200 and b'value="5' in page.content
    data = _form(booking, hours="7")
    response = client.post(f"/bookings/waybills/{waybill.pk}/edit/", data)
    assert response.status_code == 302
    assert Waybill.objects.get().hours == Decimal("7")


def test_the_booking_page_lists_waybills_in_constant_queries(client, django_assert_max_num_queries):
    booking = job(days=3)
    Booking.objects.filter(pk=booking.pk).update(status="completed")
    client.force_login(booking.deal.manager)
    f.WaybillFactory(booking=booking)
    with django_assert_max_num_queries(60) as one:
        client.get(f"/bookings/{booking.pk}/")
    for day in (1, 2):
        f.WaybillFactory(booking=booking, started_at=booking.start + timedelta(days=day))
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(f"/bookings/{booking.pk}/")


def test_the_booking_list_api_shows_actual_hours_in_constant_queries(api, django_assert_max_num_queries):
    client = api(Role.DIRECTOR)

    def add(n):
        for _ in range(n):
            booking = job()
            Booking.objects.filter(pk=booking.pk).update(status="completed")
            f.WaybillFactory(booking=booking, hours=Decimal("5.5"), km=Decimal("12"))
            f.WaybillFactory(booking=booking, hours=Decimal("2"), km=Decimal("3"))

    add(2)
    with django_assert_max_num_queries(30) as few:
        response = client.get("/api/v1/bookings/")
    rows = response.json()["results"]
    assert {(r["actual_hours"], r["actual_km"]) for r in rows} == {("7.50", "15.0")}
    add(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        rows = client.get("/api/v1/bookings/").json()["results"]
    assert len(rows) == 10 and all(r["actual_hours"] == "7.50" for r in rows)
    bare = job()
    assert client.get(f"/api/v1/bookings/{bare.pk}/").json()["actual_hours"] is None
