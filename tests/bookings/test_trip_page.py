"""The trip page on the driver's phone (docs/trip-page.md): the link in every order, the
status marks, the waybill with photos as a pending report, the manager's decision, the
idempotency key, the same-origin rule of its POSTs and 404 for a link that opens nothing."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from arenda.bookings import dispatch, trip_links, trip_reports
from arenda.bookings.models import Booking, DriverReport, DriverReportPhoto, Waybill
from arenda.bookings.services import BookingConflict
from arenda.core.models import CompanySettings, Notification
from arenda.core.roles import Role
from tests.factories import BookingFactory, DriverFactory, OrganizationFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db
ORIGIN = "http://testserver"


def jpeg_bytes(color=(200, 30, 30), size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 90, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def ours():
    OrganizationFactory()  # ours: overtime is invoiced on its behalf


def trip_booking(status="dispatched", *, hour_meter=False, manager=None, chat="5551", **kwargs):
    """A booking under way: it started four hours ago, of our unit and driver."""
    manager = manager or UserFactory(full_name="Анна Смирнова", phone="+79031112233")
    unit = UnitFactory(has_hour_meter=hour_meter)
    driver = DriverFactory(full_name="Иванов Иван", telegram_chat_id=chat)
    start = (timezone.now() - timedelta(hours=4)).replace(second=0, microsecond=0)
    return BookingFactory(
        deal__manager=manager,
        equipment_type=unit.equipment_type,
        start=start,
        end=start + timedelta(hours=8),
        busy_until=start + timedelta(hours=8),
        unit=unit,
        driver=driver,
        status=status,
        **kwargs,
    )


def trip(booking):
    return trip_links.path(trip_links.issue(booking=booking))


def post(path, data=None, *, json=True, origin=ORIGIN, **extra):
    headers = {}
    if origin:
        headers["HTTP_ORIGIN"] = origin
    if json:
        headers["HTTP_ACCEPT"] = "application/json"
    return Client().post(path, data or {}, **headers, **extra)


def waybill_data(booking, **overrides):
    start = timezone.localtime(booking.start)
    data = {
        "number": "ПЛ-17",
        "started_at": start.strftime("%Y-%m-%dT%H:%M"),
        "finished_at": (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "hours": "3",
        "odometer_start": "1000",
        "odometer_end": "1042",
        "downtime_hours": "0.5",
    }
    data.update(overrides)
    return data


def photos(n=2):
    files = [SimpleUploadedFile(f"p{i}.jpg", jpeg_bytes(), content_type="image/jpeg") for i in range(n - 1)]
    return [*files, SimpleUploadedFile("last.png", png_bytes(), content_type="image/png")][:n]


# --- the link in every order -----------------------------------------------------------------
def test_the_built_in_order_carries_the_trip_link(settings):
    settings.PUBLIC_URL = "https://arenda.example.ru/"
    booking = trip_booking(status="confirmed")
    result = dispatch.dispatch(booking=booking, by=None)
    link = trip_links.current(booking)
    assert link is not None
    assert f"https://arenda.example.ru/t/{link.token}/" in result.message.text
    assert result.message.text.count(link.token) == 1


def test_a_company_template_without_the_variable_still_gets_the_link():
    CompanySettings.objects.update_or_create(pk=CompanySettings.current().pk, defaults={})
    dispatch.dispatch_template_set(source="Заказ {{ booking }} на {{ date }}", by=None)
    booking = trip_booking(status="confirmed")
    result = dispatch.dispatch(booking=booking, by=None)
    link = trip_links.current(booking)
    assert result.message.text.startswith(f"Заказ {booking.pk} на ")
    assert result.message.text.rstrip().endswith(trip_links.url(link))


def test_a_template_with_the_variable_has_it_once():
    dispatch.dispatch_template_set(source="Наряд {{ booking }}: {{ trip_link }}", by=None)
    booking = trip_booking(status="confirmed")
    text = dispatch.dispatch(booking=booking, by=None).message.text
    assert text.count(trip_links.current(booking).token) == 1


def test_the_text_sent_by_hand_carries_the_link():
    booking = trip_booking(status="confirmed", chat="")
    fallback = dispatch.fallback(booking)
    link = trip_links.current(booking)
    assert trip_links.url(link) in fallback["text"]
    assert link.token in fallback["whatsapp"]


# --- the status marks ------------------------------------------------------------------------
def test_the_marks_are_recorded_once_and_in_order():
    booking = trip_booking()
    page = trip(booking)
    response = post(page + "mark/arrived/")
    assert response.status_code == 409
    assert response.json()["code"] == "mark_order"
    assert post(page + "mark/finished/").json()["code"] == "mark_order"
    assert post(page + "mark/departed/").status_code == 200
    booking.refresh_from_db()
    first = booking.departed_at
    assert first is not None
    assert post(page + "mark/departed/").status_code == 200  # pressed again: the first time stays
    booking.refresh_from_db()
    assert booking.departed_at == first
    assert post(page + "mark/arrived/").json()["next"] == "finished"
    assert post(page + "mark/finished/").json()["next"] is None
    booking.refresh_from_db()
    assert booking.departed_at <= booking.arrived_at <= booking.work_finished_at
    # the history keeps each mark
    assert booking.history.filter(history_change_reason="trip page: finished").exists()
    # the manager hears of the finish
    assert Notification.objects.filter(user=booking.deal.manager, url__contains=f"/{booking.pk}/").exists()


def test_without_script_a_mark_redirects_to_the_page_and_an_error_is_rendered():
    booking = trip_booking()
    page = trip(booking)
    response = post(page + "mark/finished/", json=False)
    assert response.status_code == 409
    assert 'id="trip-mark-error"' in response.content.decode()
    response = post(page + "mark/departed/", json=False)
    assert response.status_code == 302 and response["Location"].endswith("#trip-marks")


@pytest.mark.parametrize("status", ["reserved", "completed"])
def test_marks_only_while_confirmed_or_dispatched(status):
    booking = trip_booking(status=status)
    response = post(trip(booking) + "mark/departed/")
    assert response.status_code == 409 and response.json()["code"] == "wrong_status"


def test_the_marks_show_on_the_booking_page_the_day_and_the_timeline(make_user):
    booking = trip_booking()
    page = trip(booking)
    post(page + "mark/departed/")
    post(page + "mark/arrived/")
    client = Client()
    client.force_login(make_user(Role.MANAGER))
    detail = client.get(reverse("bookings:booking_detail", args=[booking.pk])).content.decode()
    assert 'id="trip"' in detail and 'data-mark="arrived"' in detail
    day = timezone.localtime(booking.start).date().isoformat()
    day_page = client.get(reverse("bookings:day") + f"?date={day}").content.decode()
    assert f'data-trip-mark="arrived" data-booking="{booking.pk}"' in day_page
    timeline = client.get(reverse("bookings:timeline") + f"?start={day}").content.decode()
    assert f'data-trip-mark="arrived" data-booking="{booking.pk}"' in timeline


# --- the waybill report ----------------------------------------------------------------------
def test_the_driver_sends_the_waybill_with_two_photos():
    booking = trip_booking()
    response = post(
        trip(booking) + "report/", {**waybill_data(booking), "photos": photos(2), "idempotency_key": "k-1"}
    )
    assert response.status_code == 201, response.content
    report = DriverReport.objects.get()
    assert response.json()["report"]["id"] == report.pk
    assert (report.source, report.status, report.number) == ("trip", "pending", "ПЛ-17")
    assert (report.odometer_start, report.odometer_end, report.km) == (1000, 1042, 42)
    assert report.downtime_hours == 0.5 and report.hours == 3
    stored = list(report.photos.all())
    assert [p.content_type for p in stored] == ["image/jpeg", "image/png"]
    assert all(p.file.name.startswith(f"trip/{booking.pk}/") and "p0" not in p.file.name for p in stored)
    assert Notification.objects.filter(user=booking.deal.manager, url__endswith="#driver-report").exists()


def test_errors_name_the_field():
    booking = trip_booking()
    data = waybill_data(booking, number="", odometer_end="900", hours="30")
    bad = SimpleUploadedFile("x.jpg", b"not an image at all" * 10, content_type="image/jpeg")
    response = post(trip(booking) + "report/", {**data, "photos": [bad]})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"number", "odometer_end", "hours", "photos"} <= set(errors)
    assert DriverReport.objects.count() == 0


def test_a_waybill_finishing_later_than_now_is_refused():
    """The foreman signs what the driver sends: a shift that has not ended yet is not sent."""
    booking = trip_booking()
    later = timezone.localtime(timezone.now() + timedelta(hours=3))
    data = waybill_data(booking, finished_at=later.strftime("%Y-%m-%dT%H:%M"))
    response = post(trip(booking) + "report/", {**data, "photos": photos(1)})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"finished_at"}
    assert DriverReport.objects.count() == 0


def test_engine_hours_only_for_a_unit_with_a_meter():
    booking = trip_booking()
    page = Client().get(trip(booking)).content.decode()
    assert 'name="engine_hours"' not in page
    metered = trip_booking(hour_meter=True)
    assert 'name="engine_hours"' in Client().get(trip(metered)).content.decode()


def test_too_many_photos_are_refused():
    booking = trip_booking()
    files = [SimpleUploadedFile(f"p{i}.jpg", jpeg_bytes(), content_type="image/jpeg") for i in range(7)]
    response = post(trip(booking) + "report/", {**waybill_data(booking), "photos": files})
    assert response.status_code == 400 and "photos" in response.json()["errors"]


def test_without_script_the_form_posts_and_errors_render_on_the_page():
    booking = trip_booking()
    response = post(trip(booking) + "report/", waybill_data(booking, number=""), json=False)
    assert response.status_code == 400
    assert 'data-field="number"' in response.content.decode()
    assert "has-error" in response.content.decode()
    response = post(trip(booking) + "report/", waybill_data(booking), json=False)
    assert response.status_code == 302 and response["Location"].endswith("#trip-report")


def test_the_same_key_twice_makes_one_report():
    booking = trip_booking()
    page = trip(booking)
    first = post(page + "report/", {**waybill_data(booking), "photos": photos(2), "idempotency_key": "same"})
    again = post(page + "report/", {**waybill_data(booking), "photos": photos(2), "idempotency_key": "same"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["report"]["id"] == again.json()["report"]["id"]
    assert DriverReport.objects.count() == 1 and DriverReportPhoto.objects.count() == 2


def test_a_newer_report_replaces_the_pending_one():
    booking = trip_booking()
    page = trip(booking)
    post(page + "report/", {**waybill_data(booking), "photos": photos(2), "idempotency_key": "a"})
    post(
        page + "report/",
        {**waybill_data(booking, number="ПЛ-18"), "photos": photos(1), "idempotency_key": "b"},
    )
    report = DriverReport.objects.get()
    assert report.number == "ПЛ-18" and report.photos.count() == 1


def test_the_manager_confirms_the_report_into_a_waybill_with_its_figures_and_a_scan(make_user):
    booking = trip_booking(hour_meter=True)
    data = waybill_data(booking, engine_hours="2.5")
    post(trip(booking) + "report/", {**data, "photos": photos(2), "idempotency_key": "c"})
    report = DriverReport.objects.get()
    client = Client()
    client.force_login(make_user(Role.MANAGER))
    detail = client.get(reverse("bookings:booking_detail", args=[booking.pk])).content.decode()
    assert "ПЛ-17" in detail
    photo = report.photos.first()
    photo_url = reverse("bookings:driver_report_photo", args=[photo.pk])
    assert photo_url in detail
    served = client.get(photo_url)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    response = client.post(reverse("bookings:driver_report_decide", args=[report.pk, "confirm"]))
    assert response.status_code == 302
    waybill = Waybill.objects.get(booking=booking)
    assert (waybill.number, waybill.source, waybill.hours) == ("ПЛ-17", "driver", 3)
    assert (waybill.odometer_start, waybill.odometer_end, waybill.km) == (1000, 1042, 42)
    assert waybill.engine_hours == 2.5 and waybill.downtime_hours == 0.5
    assert waybill.scan and waybill.scan_type == "image/jpeg"
    report.refresh_from_db()
    assert (report.status, report.waybill_id) == ("confirmed", waybill.pk)
    page = Client().get(trip_links.path(trip_links.current(booking))).content.decode()
    assert 'data-status="confirmed"' in page


def test_the_photo_is_not_for_strangers(make_user):
    booking = trip_booking()
    post(trip(booking) + "report/", {**waybill_data(booking), "photos": photos(1)})
    url = reverse("bookings:driver_report_photo", args=[DriverReportPhoto.objects.get().pk])
    assert Client().get(url).status_code == 302  # to the sign-in page


def test_a_reject_needs_a_reason_which_the_driver_sees_and_may_send_again(make_user):
    booking = trip_booking()
    page = trip(booking)
    post(page + "report/", {**waybill_data(booking), "photos": photos(1), "idempotency_key": "r1"})
    report = DriverReport.objects.get()
    client = Client()
    client.force_login(make_user(Role.MANAGER))
    decide = reverse("bookings:driver_report_decide", args=[report.pk, "reject"])
    client.post(decide, {"reason": ""})
    report.refresh_from_db()
    assert report.status == "pending"
    client.post(decide, {"reason": "Не видно номера путевого листа"})
    report.refresh_from_db()
    assert (report.status, report.reject_reason) == ("rejected", "Не видно номера путевого листа")
    body = Client().get(page).content.decode()
    assert 'data-status="rejected"' in body and "Не видно номера путевого листа" in body
    state = Client().get(page + "state/").json()
    assert state["report"]["reason"] == "Не видно номера путевого листа"
    again = post(page + "report/", {**waybill_data(booking), "photos": photos(1), "idempotency_key": "r2"})
    assert again.status_code == 201
    assert DriverReport.objects.filter(status="pending").count() == 1


def test_the_bots_report_still_confirms():
    from arenda.flows import trips

    booking = trip_booking()
    report = DriverReport.objects.create(booking=booking, driver=booking.driver, hours=3, km=10, text="3 10")
    recorded = trips.report_confirm(report=report, by=None)
    assert recorded.waybill.number == f"TG-{report.pk}" and recorded.waybill.km == 10


# --- the link opens nothing else; the same-origin rule ------------------------------------------
@pytest.mark.parametrize("case", ["wrong", "revoked", "closed", "cancelled"])
@pytest.mark.parametrize("call", ["", "state/", "mark/departed/", "report/"])
def test_every_call_under_a_dead_link_is_404(case, call):
    booking = trip_booking()
    link = trip_links.issue(booking=booking)
    token = link.token
    if case == "wrong":
        token = "y" * len(token)
    elif case == "revoked":
        trip_links.revoke(booking=booking)
    else:
        Booking.objects.filter(pk=booking.pk).update(status=case)
    path = reverse("trip:page", args=[token]) + call
    response = Client().get(path) if call in ("", "state/") else post(path, waybill_data(booking))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": ORIGIN},
        {},
    ],
)
def test_a_cross_site_post_is_refused(headers):
    booking = trip_booking()
    page = trip(booking)
    for call in ("mark/departed/", "report/"):
        response = Client().post(page + call, waybill_data(booking), **headers)
        assert response.status_code == 403
    booking.refresh_from_db()
    assert booking.departed_at is None and DriverReport.objects.count() == 0


def test_a_same_origin_fetch_is_allowed():
    booking = trip_booking()
    response = Client().post(trip(booking) + "mark/departed/", HTTP_SEC_FETCH_SITE="same-origin")
    assert response.status_code == 302


def test_service_refuses_an_unknown_mark():
    booking = trip_booking()
    assert post(trip(booking) + "mark/flew/").status_code == 404
    with pytest.raises(BookingConflict) as refused:
        trip_reports.trip_mark(booking=booking, mark="flew")
    assert refused.value.code == "unknown_mark"


# --- the API ---------------------------------------------------------------------------------
def test_the_api_gives_regenerates_and_revokes_the_link(api):
    booking = trip_booking(status="confirmed")
    client = api()
    base = f"/api/v1/bookings/{booking.pk}/trip-link/"
    first = client.get(base)
    assert first.status_code == 200 and set(first.data) == {"url", "created_at"}
    assert client.get(base).data["url"] == first.data["url"]  # the same link while it is open
    fresh = client.post(base)
    assert fresh.status_code == 201 and fresh.data["url"] != first.data["url"]
    old_path = "/" + first.data["url"].split("/", 3)[3]
    assert Client().get(old_path).status_code == 404
    assert client.post(base + "revoke/").data == {"revoked": True}
    assert trip_links.current(booking) is None
    assert client.get(base).data["url"] not in (first.data["url"], fresh.data["url"])


@pytest.mark.parametrize("status", ["closed", "cancelled"])
def test_the_api_refuses_a_link_for_a_closed_booking(api, status):
    booking = trip_booking(status="confirmed")
    Booking.objects.filter(pk=booking.pk).update(status=status)
    response = api().get(f"/api/v1/bookings/{booking.pk}/trip-link/")
    assert response.status_code == 409 and response.data["code"] == "booking_closed"


@pytest.mark.parametrize("role", [Role.ACCOUNTANT])
def test_roles_that_may_not_change_bookings_get_no_link(api, role):
    booking = trip_booking(status="confirmed")
    client = api(role)
    assert client.get(f"/api/v1/bookings/{booking.pk}/trip-link/").status_code == 403
    assert client.post(f"/api/v1/bookings/{booking.pk}/trip-link/revoke/").status_code == 403


def test_the_booking_page_makes_a_new_link(make_user):
    booking = trip_booking(status="confirmed")
    old = trip_links.issue(booking=booking)
    client = Client()
    client.force_login(make_user(Role.MANAGER))
    detail = client.get(reverse("bookings:booking_detail", args=[booking.pk])).content.decode()
    assert trip_links.url(old) in detail
    client.post(reverse("bookings:booking_trip_link", args=[booking.pk]))
    assert trip_links.current(booking).token != old.token


def test_a_rejected_report_fills_the_form_again(make_user):
    booking = trip_booking()
    page = trip(booking)
    post(page + "report/", {**waybill_data(booking, number="ПЛ-99"), "photos": photos(1)})
    body = Client().get(page).content.decode()
    assert 'value="ПЛ-99"' in body and 'value="1042.0"' in body


def test_the_api_shows_the_marks(api):
    booking = trip_booking()
    post(trip(booking) + "mark/departed/")
    data = api().get(f"/api/v1/bookings/{booking.pk}/").data
    assert data["departed_at"] is not None and data["arrived_at"] is None


def test_a_later_bot_message_replaces_the_trip_report_whole():
    from arenda.bookings import driver_reports

    booking = trip_booking()
    post(trip(booking) + "report/", {**waybill_data(booking), "photos": photos(1), "idempotency_key": "t"})
    report = driver_reports.report_receive(driver=booking.driver, booking=booking, hours=2, km=None, text="2")
    report.refresh_from_db()
    assert (report.source, report.number, report.odometer_end, report.idempotency_key) == (
        "bot",
        "",
        None,
        None,
    )
    assert DriverReport.objects.count() == 1 and DriverReportPhoto.objects.count() == 0


def test_a_pdf_is_not_a_photo():
    booking = trip_booking()
    pdf = SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n" + b"0" * 200, content_type="application/pdf")
    response = post(trip(booking) + "report/", {**waybill_data(booking), "photos": [pdf]})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["photos"]
