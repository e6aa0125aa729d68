"""The telematics in the pages and the API: the evidence under a waybill on the booking page
with its suggestion accepted or dismissed there, the site's coordinates from a map link in
the booking's form, the unit's tracker linked by the admin only and «test the link», the
evidence in the waybill's API."""

from decimal import Decimal

import httpx
import pytest
from django.core.cache import cache
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from arenda.bookings import telematics
from arenda.bookings.models import TripEvidence
from arenda.core.models import CompanySettings
from arenda.core.roles import Role
from arenda.flows.trips import waybill_record
from arenda.integrations.telematics.fake_wialon import FakeWialon
from tests import factories as f
from tests.bookings.test_waybills import job, sheet

D = Decimal
pytestmark = pytest.mark.django_db


def evidence_of(**kw) -> TripEvidence:
    """A recorded 9 h waybill whose tracker showed ``engine`` hours (made as a read would)."""
    engine = kw.pop("engine", D("11.20"))
    booking = job(min_hours="4", rate="3500.00")
    booking.unit.tracker_provider, booking.unit.tracker_id = "wialon", str(700000 + booking.unit.pk)
    booking.unit.save()
    waybill = waybill_record(booking=booking, data=sheet(booking, hours="9"), by=booking.deal.manager).waybill
    evidence = TripEvidence.objects.get(waybill=waybill)
    evidence.status, evidence.fetched_at, evidence.samples = TripEvidence.Status.READY, timezone.now(), 140
    evidence.engine_hours, evidence.hours_on_site, evidence.distance_km = engine, None, D("41.3")
    evidence.first_movement = waybill.started_at - timezone.timedelta(hours=1)
    evidence.last_movement = waybill.finished_at + timezone.timedelta(minutes=12)
    for name, value in kw.items():
        setattr(evidence, name, value)
    telematics.evaluate(evidence, waybill=waybill, booking=booking, settings_row=CompanySettings.current())
    evidence.save()
    return evidence


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_booking_page_shows_the_evidence_and_its_suggestion():
    evidence = evidence_of()
    page = client_of(evidence.booking.deal.manager).get(evidence.booking.get_absolute_url())
    text = page.content.decode()
    assert page.status_code == 200
    assert f'id="evidence-{evidence.pk}"' in text and "11,2" in text
    assert "+2,2" in text and f"/bookings/evidence/{evidence.pk}/accept/" in text
    assert "нет данных" in text  # the time on site is missing, not zero


def test_accepting_on_the_page_corrects_the_waybill_and_bills_it():
    evidence = evidence_of()
    booking = evidence.booking
    client = client_of(booking.deal.manager)
    response = client.post(f"/bookings/evidence/{evidence.pk}/accept/")
    assert response.status_code == 302 and f"#waybill-{evidence.waybill_id}" in response["Location"]
    billed = (
        booking.invoices.filter(is_overtime=True).exclude(status="cancelled").aggregate(h=Sum("billed_hours"))
    )
    assert billed["h"] == D("11.20")
    evidence.refresh_from_db()
    assert evidence.decision == "accepted" and evidence.decided_by == booking.deal.manager
    again = client.post(f"/bookings/evidence/{evidence.pk}/accept/", follow=True)
    assert (
        "Нет открытого предложения" in again.content.decode()
        or "no open suggestion" in again.content.decode()
    )


def test_dismissing_on_the_page_needs_a_reason():
    evidence = evidence_of()
    client = client_of(evidence.booking.deal.manager)
    page = client.post(f"/bookings/evidence/{evidence.pk}/dismiss/", {"reason": ""}, follow=True)
    evidence.refresh_from_db()
    assert evidence.decision == "" and "причин" in page.content.decode().lower()
    client.post(f"/bookings/evidence/{evidence.pk}/dismiss/", {"reason": "Прогрев не оплачивается"})
    evidence.refresh_from_db()
    assert evidence.decision == "dismissed" and evidence.decision_reason == "Прогрев не оплачивается"


def test_who_may_not_correct_waybills_may_not_decide():
    evidence = evidence_of()
    director = f.UserFactory(role=Role.DIRECTOR)  # reads waybills, corrects none
    response = client_of(director).post(f"/bookings/evidence/{evidence.pk}/accept/")
    assert response.status_code == 403
    evidence.refresh_from_db()
    assert evidence.decision == ""


@pytest.mark.parametrize(
    ("text", "lat", "lon"),
    [
        ("https://yandex.ru/maps/?ll=37.498700%2C55.812300&z=16", "55.812300", "37.498700"),
        ("https://yandex.ru/maps/?pt=37.4987,55.8123&z=15&l=map", "55.812300", "37.498700"),
        ("https://www.google.com/maps/@55.8123,37.4987,17z", "55.812300", "37.498700"),
        ("https://www.google.com/maps?q=55.8123,37.4987", "55.812300", "37.498700"),
        ("https://2gis.ru/moscow?m=37.4987%2C55.8123%2F16", "55.812300", "37.498700"),
        ("https://www.openstreetmap.org/#map=17/55.8123/37.4987", "55.812300", "37.498700"),
        ("55.8123, 37.4987", "55.812300", "37.498700"),
        ("55.8123 37.4987", "55.812300", "37.498700"),
    ],
)
def test_the_site_is_read_from_a_map_link_or_coordinates(text, lat, lon):
    assert telematics.parse_site(text) == (D(lat), D(lon))


@pytest.mark.parametrize("text", ["Москва, ул. Строителей", "https://yandex.ru/maps/", "95.1, 37.2", "0, 0"])
def test_text_without_coordinates_is_refused(text):
    with pytest.raises(ValueError):
        telematics.parse_site(text)


def test_the_booking_form_takes_a_map_link_and_names_the_field_when_it_has_none():
    booking = job(status="reserved")
    client = client_of(booking.deal.manager)
    form = client.get(f"/bookings/{booking.pk}/edit/")
    assert form.status_code == 200 and 'name="site_location"' in form.content.decode()
    data = {
        name: value
        for name, value in form.context["form"].initial.items()
        if value is not None and not hasattr(value, "pk")
    }
    data.update(
        {
            "equipment_type": booking.equipment_type_id,
            "start": timezone.localtime(booking.start).strftime("%Y-%m-%dT%H:%M"),
            "end": timezone.localtime(booking.end).strftime("%Y-%m-%dT%H:%M"),
            "site_location": "Москва, где-то",
        }
    )
    bad = client.post(f"/bookings/{booking.pk}/edit/", data)
    assert bad.status_code == 200 and "site_location" in bad.context["form"].errors
    data["site_location"] = "https://yandex.ru/maps/?pt=37.4987,55.8123&z=15"
    good = client.post(f"/bookings/{booking.pk}/edit/", data)
    assert good.status_code == 302, good.context["form"].errors if good.context else good
    booking.refresh_from_db()
    assert (booking.site_lat, booking.site_lon) == (D("55.812300"), D("37.498700"))


def test_only_the_admin_links_a_unit_to_a_tracker():
    unit = f.UnitFactory()
    manager_form = client_of(f.UserFactory(role=Role.MANAGER)).get(f"/directory/units/{unit.pk}/edit/")
    assert manager_form.context["form"].fields["tracker_id"].disabled
    admin_form = client_of(f.UserFactory(role=Role.ADMIN)).get(f"/directory/units/{unit.pk}/edit/")
    assert not admin_form.context["form"].fields["tracker_id"].disabled


@pytest.fixture
def wialon(settings):
    cache.clear()
    fake = FakeWialon("127.0.0.1", 0)
    fake.start()
    settings.WIALON_API_URL, settings.WIALON_TOKEN, settings.TELEMATICS_TIMEOUT = (
        fake.url,
        "wialon-test-token",
        1,
    )
    yield fake
    fake.stop()
    cache.clear()


def test_the_admin_tests_the_link_and_sees_the_last_position_and_counters(wialon):
    unit = f.UnitFactory(tracker_provider="wialon", tracker_id="734455")
    admin = client_of(f.UserFactory(role=Role.ADMIN))
    page = admin.get(unit.get_absolute_url())
    assert "Проверить связь" in page.content.decode()
    silent = admin.post(f"/directory/units/{unit.pk}/tracker-test/", headers={"HX-Request": "true"})
    assert "сообщений от него ещё не было" in silent.content.decode()
    start = timezone.now() - timezone.timedelta(hours=5)
    wialon.add_trip(
        734455, start, drive_to_minutes=30, work_hours=1, drive_back_minutes=30, site=(55.8123, 37.4987)
    )
    answer = admin.post(f"/directory/units/{unit.pk}/tracker-test/", headers={"HX-Request": "true"})
    text = answer.content.decode()
    assert answer.status_code == 200 and "Связь работает" in text
    assert "5125,4" in text and "55.751" in text  # the counter and the position (back at base)
    httpx.post(f"{wialon.url}/_control", json={"fail": "500", "times": 1}, timeout=5)
    failed = admin.post(f"/directory/units/{unit.pk}/tracker-test/", headers={"HX-Request": "true"})
    assert "500" in failed.content.decode()
    manager = client_of(f.UserFactory(role=Role.MANAGER))
    assert manager.post(f"/directory/units/{unit.pk}/tracker-test/").status_code == 403


def test_the_waybill_api_carries_the_evidence(api):
    evidence = evidence_of()
    client = api(Role.MANAGER)
    body = client.get(f"/api/v1/waybills/{evidence.waybill_id}/").json()
    assert body["telematics"]["engine_hours"] == "11.20"
    assert body["telematics"]["flagged"] is True and body["telematics"]["suggested_hours"] == "2.20"
    assert body["telematics"]["hours_on_site"] is None
    listed = client.get("/api/v1/waybills/").json()
    assert any(row["telematics"] for row in listed["results"])


def test_the_booking_api_takes_the_site_coordinates_and_names_a_bad_one(api):
    booking = job(status="reserved")
    client = api(Role.MANAGER, user=booking.deal.manager)
    bad = client.patch(f"/api/v1/bookings/{booking.pk}/", {"site_lat": "123"}, format="json")
    assert (
        bad.status_code == 400
        and "site_lat" in bad.json().get("errors", bad.json())
        or "site_lat" in str(bad.json())
    )
    good = client.patch(
        f"/api/v1/bookings/{booking.pk}/", {"site_lat": "55.8123", "site_lon": "37.4987"}, format="json"
    )
    assert good.status_code == 200, good.content
    assert good.json()["site_lat"] == "55.812300"


def test_a_closed_bookings_suggestion_can_be_dismissed_but_not_accepted():
    evidence = evidence_of()
    booking = evidence.booking
    booking.status = "closed"
    booking.save(update_fields=["status"])
    client = client_of(booking.deal.manager)
    text = client.get(booking.get_absolute_url()).content.decode()
    assert f"/bookings/evidence/{evidence.pk}/accept/" not in text
    assert f"/bookings/evidence/{evidence.pk}/dismiss/" in text and "Бронь закрыта" in text
    refused = client.post(f"/bookings/evidence/{evidence.pk}/accept/", follow=True)
    assert refused.status_code == 200
    evidence.refresh_from_db()
    assert evidence.decision == ""  # nothing half-written: the refused correction took the decision back
    client.post(f"/bookings/evidence/{evidence.pk}/dismiss/", {"reason": "Бронь закрыта, спор снят"})
    evidence.refresh_from_db()
    assert evidence.decision == "dismissed"


def test_a_pending_evidence_asks_again_until_the_tracker_answers():
    evidence = evidence_of(status="pending", fetched_at=None)
    client = client_of(evidence.booking.deal.manager)
    page = client.get(evidence.booking.get_absolute_url()).content.decode()
    assert f'hx-get="/bookings/evidence/{evidence.pk}/"' in page and "ждёт данных трекера" in page
    TripEvidence.objects.filter(pk=evidence.pk).update(status="ready", fetched_at=timezone.now())
    row = client.get(f"/bookings/evidence/{evidence.pk}/").content.decode()
    assert "hx-get" not in row and "11,2" in row


def _page_queries(evidences: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = evidence_of()
    booking = first.booking
    for day in range(1, evidences):
        waybill = waybill_record(
            booking=booking, data=sheet(booking, f"ПЛ-{day + 1}", hours="9"), by=booking.deal.manager
        ).waybill
        TripEvidence.objects.filter(waybill=waybill).update(
            status="ready",
            fetched_at=timezone.now(),
            engine_hours=D("9.1"),
            track=[[55.75, 37.61], [55.8, 37.5]],
        )
    client = client_of(booking.deal.manager)
    client.get(booking.get_absolute_url())  # warm the caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(booking.get_absolute_url()).status_code == 200
    return len(queries)


def test_the_booking_pages_queries_do_not_grow_with_the_trips_evidence():
    assert _page_queries(1) == _page_queries(4)
