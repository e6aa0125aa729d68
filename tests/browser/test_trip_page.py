"""The driver's trip page on a phone-sized screen (390×844) in a real browser
(docs/trip-page.md): the status buttons, the waybill with two photos resized on the phone,
the report waiting on the booking page; and without a network: the submission waits on the
phone and goes once when the network is back — also when the first answer is lost.

Needs the ``playwright`` package and Debian's ``chromium``; skips without them. Saves the
screenshots of docs/screenshots/trip-*.png when ``TRIP_SCREENSHOTS=1``.
"""

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from arenda.bookings import trip_links
from arenda.bookings.models import Booking, DriverReport
from arenda.core.roles import Role
from tests.factories import BookingFactory, DriverFactory, UnitFactory, UserFactory

sync_api = pytest.importorskip("playwright.sync_api")
Image = pytest.importorskip("PIL.Image")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (apt-get install chromium)")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}


def shot(page, name, **kwargs):
    if os.environ.get("TRIP_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"trip-{name}.png"), **kwargs)


def photo(tmp_path, name, color, size=(2400, 1800)) -> str:
    path = tmp_path / name
    Image.new("RGB", size, color).save(path, "JPEG", quality=70)
    return str(path)


def make_booking() -> Booking:
    unit = UnitFactory(name="КС-55713 «Галичанин»")
    start = (timezone.now() - timedelta(hours=4)).replace(second=0, microsecond=0)
    return BookingFactory(
        deal__manager=UserFactory(full_name="Анна Смирнова", phone="+79031112233"),
        deal__counterparty__name="ООО «СтройМонтаж»",
        equipment_type=unit.equipment_type,
        unit=unit,
        driver=DriverFactory(full_name="Иванов Иван"),
        start=start,
        end=start + timedelta(hours=8),
        busy_until=start + timedelta(hours=8),
        status="dispatched",
        site_address="Москва, ул. Строителей, 5",
        site_contact_name="Прораб Петров",
        site_contact_phone="+79161234567",
    )


@pytest.fixture
def browser(monkeypatch):
    # The test reads and writes the database while Playwright's loop runs in this thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()
            # The test's queries ran on a connection of Playwright's thread context: left
            # open, PostgreSQL cannot drop the test database at the end.
            connections.close_all()


def phone(browser):
    return browser.new_context(viewport=PHONE, locale="ru-RU", has_touch=True, is_mobile=True)


def fill_waybill(page, tmp_path, n_photos):
    page.fill("#id_number", "ПЛ-17")
    page.fill("#id_hours", "3")
    page.fill("#id_odometer_start", "1000")
    page.fill("#id_odometer_end", "1042")
    page.fill("#id_downtime_hours", "0.5")
    files = [photo(tmp_path, f"p{i}.jpg", (40 * i, 90, 160)) for i in range(n_photos)]
    page.set_input_files("#id_photos", files)
    page.locator("#trip-thumbs img").nth(n_photos - 1).wait_for()
    assert page.locator("#trip-thumbs img").count() == n_photos
    # The work took the 3 hours up to now (company time: the form's fields are local times;
    # a finish later than now is refused).
    finish = timezone.localtime(timezone.now()).replace(second=0, microsecond=0)
    page.fill("#id_started_at", (finish - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_finished_at", finish.strftime("%Y-%m-%dT%H:%M"))


@pytest.mark.django_db(transaction=True)
def test_the_driver_marks_the_trip_and_sends_the_waybill(live_server, browser, tmp_path, make_user):
    booking = make_booking()
    path = trip_links.path(trip_links.issue(booking=booking))
    context = phone(browser)
    page = context.new_page()
    page.goto(live_server.url + path)
    shot(page, "page")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # one column, nothing wider than the screen
    for mark in ("departed", "arrived", "finished"):
        button = page.locator(f"[data-mark-button={mark}]")
        assert button.bounding_box()["height"] >= 48
        if mark == "arrived":
            shot(page, "status")
        with page.expect_navigation():
            button.click()
    assert page.locator(".trip-step.done").count() == 3
    booking.refresh_from_db()
    assert booking.departed_at and booking.arrived_at and booking.work_finished_at

    page.fill("#id_number", "")
    fill_waybill(page, tmp_path, 2)
    shot(page, "waybill", full_page=True)
    page.click("#trip-report-form button[type=submit]")
    page.wait_for_selector("#trip-report-state[data-status=pending]", timeout=15000)
    shot(page, "waiting")
    report = DriverReport.objects.get()
    assert (report.source, report.number, report.photos.count()) == ("trip", "ПЛ-17", 2)
    for stored in report.photos.all():  # resized on the phone: 1600 px on the long side
        with stored.file.open("rb") as handle, Image.open(handle) as image:
            assert max(image.size) == 1600 and image.format == "JPEG"

    # The report waits on the booking page, figures and photos.
    manager = Client()
    manager.force_login(make_user(Role.MANAGER))
    detail = manager.get(reverse("bookings:booking_detail", args=[booking.pk])).content.decode()
    assert "ПЛ-17" in detail and 'id="driver-report"' in detail
    if os.environ.get("TRIP_SCREENSHOTS"):
        desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
        desk.add_cookies(
            [{"name": "sessionid", "value": manager.cookies["sessionid"].value, "url": live_server.url}]
        )
        office = desk.new_page()
        office.goto(live_server.url + reverse("bookings:booking_detail", args=[booking.pk]) + "#dispatch")
        office.locator("#dispatch").screenshot(path=str(SHOTS / "trip-manager.png"))
        desk.close()
    context.close()


@pytest.mark.django_db(transaction=True)
def test_offline_the_waybill_waits_on_the_phone_and_goes_once(live_server, browser, tmp_path):
    booking = make_booking()
    path = trip_links.path(trip_links.issue(booking=booking))
    context = phone(browser)
    page = context.new_page()
    page.goto(live_server.url + path)
    fill_waybill(page, tmp_path, 1)

    context.set_offline(True)
    page.click("[data-mark-button=departed]")  # no network: a message, not the browser's error page
    page.wait_for_selector("#trip-mark-error")
    assert page.url.endswith(path)
    booking.refresh_from_db()
    assert booking.departed_at is None
    page.click("#trip-report-form button[type=submit]")
    page.wait_for_selector("#trip-queue:not([hidden])")
    shot(page, "offline")
    assert "когда появится сеть" in page.inner_text("#trip-queue")
    assert DriverReport.objects.count() == 0
    assert page.evaluate(f"JSON.parse(localStorage.getItem('trip:{path.split('/')[2]}:queue')).length") == 1

    # The first answer is lost on the way back: the phone sends it again with the same key.
    lost = {"n": 0}

    def lose_first_answer(route):
        if lost["n"] == 0:
            lost["n"] += 1
            route.fetch()  # the server makes the report…
            route.abort()  # …the phone never hears of it
        else:
            route.continue_()

    page.route("**/report/", lose_first_answer)
    context.set_offline(False)
    page.wait_for_selector("#trip-report-state[data-status=pending]", timeout=30000)
    assert lost["n"] == 1
    assert DriverReport.objects.count() == 1
    assert page.evaluate(f"JSON.parse(localStorage.getItem('trip:{path.split('/')[2]}:queue')).length") == 0
    context.close()
