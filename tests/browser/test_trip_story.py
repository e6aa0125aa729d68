"""The whole trip in a real browser on a phone-sized screen (390×844), one story
(docs/trip-page.md, docs/shift-report.md): the order goes to the driver by Telegram with the
trip link; the driver opens exactly that link, marks the trip and sends the waybill with two
photos; the foreman signs on the same phone with a code by SMS; the manager confirms the
driver's report on the booking page; the booking is completed with its waybill and the
signed shift report reads back.

The 404s of a wrong, revoked or closed link are covered in tests/bookings/test_trip_page.py
(the page, its marks and report) and tests/bookings/test_shift_reports.py (the sign URLs).

Needs the ``playwright`` package and Debian's ``chromium``; skips without them. Saves
docs/screenshots/trip-sign.png and shift-report.png when ``TRIP_SCREENSHOTS=1`` (the latter
needs ``pdftoppm`` from poppler-utils).
"""

import os
import re
import shutil
import subprocess
import warnings
from datetime import timedelta

import httpx
import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from arenda.bookings import dispatch, shift_reports
from arenda.bookings.models import Booking, DriverReport, ShiftReport, SignCode, Waybill
from arenda.core.roles import Role
from arenda.integrations.messaging import fake_sms, outbox
from arenda.integrations.messaging.fake_sms import FakeSms
from arenda.integrations.messaging.fake_telegram import FakeTelegram
from arenda.integrations.messaging.models import OutboxMessage
from tests.browser.test_sign_pad import draw
from tests.browser.test_trip_page import PHONE, SHOTS, fill_waybill, phone
from tests.factories import (
    BookingFactory,
    CounterpartyFactory,
    DealFactory,
    DriverFactory,
    OrganizationFactory,
    UnitFactory,
    UserFactory,
)

sync_api = pytest.importorskip("playwright.sync_api")
Image = pytest.importorskip("PIL.Image")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (apt-get install chromium)")
FOREMAN_PHONE = "+79161234567"
DRIVER_CHAT = "5551"


@pytest.fixture
def fakes(settings, live_server):
    """The fake Telegram (the order to the driver) and the fake SMS gateway (the code)."""
    telegram = FakeTelegram("127.0.0.1", 0)
    telegram.start()
    sms = FakeSms()
    sms.start()
    settings.PUBLIC_URL = live_server.url + "/"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TELEGRAM_API_URL = telegram.url
    settings.TELEGRAM_BOT_TOKEN = "123456:TEST"
    settings.TELEGRAM_TIMEOUT = 2
    settings.SMS_GATEWAY = "smsru"
    settings.SMS_SMSRU_URL = sms.url
    settings.SMS_API_ID = fake_sms.API_ID
    settings.SMS_TIMEOUT = 2
    yield telegram, sms
    sms.stop()
    telegram.stop()


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


def deliver_queued():
    """What the task worker would do: send every queued message now."""
    for pk in OutboxMessage.objects.filter(status="queued").values_list("pk", flat=True):
        outbox.deliver(pk)


def sent(server) -> list[dict]:
    return httpx.get(f"{server.url}/_sent").json()["messages"]


def confirmed_booking() -> Booking:
    OrganizationFactory()  # ours
    unit = UnitFactory(name="КС-55713 «Галичанин»")
    start = (timezone.now() - timedelta(hours=4)).replace(second=0, microsecond=0)
    deal = DealFactory(
        organization=OrganizationFactory(),
        counterparty=CounterpartyFactory(name="ООО «СтройМонтаж»", email="buh@zakazchik.ru"),
        manager=UserFactory(full_name="Анна Смирнова", phone="+79031112233"),
    )
    return BookingFactory(
        deal=deal,
        equipment_type=unit.equipment_type,
        unit=unit,
        driver=DriverFactory(full_name="Иванов Иван", telegram_chat_id=DRIVER_CHAT),
        start=start,
        end=start + timedelta(hours=8),
        busy_until=start + timedelta(hours=8),
        status="confirmed",
        site_address="Москва, ул. Строителей, 5",
        site_contact_name="Петров Пётр",
        site_contact_phone=FOREMAN_PHONE,
    )


def shot_pdf(report: ShiftReport):
    """The first page of the signed PDF → docs/screenshots/shift-report.png."""
    pdftoppm = shutil.which("pdftoppm")
    if not pdftoppm:
        warnings.warn(
            "docs/screenshots/shift-report.png needs pdftoppm (apt-get install poppler-utils)", stacklevel=2
        )
        return
    pdf = SHOTS / "shift-report.pdf"
    with report.pdf.open("rb") as handle:
        pdf.write_bytes(handle.read())
    try:
        subprocess.run(
            [pdftoppm, "-png", "-r", "60", "-singlefile", str(pdf), str(SHOTS / "shift-report")],
            check=True,
            timeout=60,
        )
    finally:
        pdf.unlink()


@pytest.mark.django_db(transaction=True)
def test_the_whole_trip_from_the_order_to_the_signed_report(live_server, fakes, browser, tmp_path, make_user):
    try:
        story(live_server, fakes, browser, tmp_path, make_user)
    finally:
        # Under Playwright's sync API the test's queries run on a connection of their own
        # (another context than the fixtures'); left open, PostgreSQL cannot drop the test
        # database at the end.
        connections.close_all()


def story(live_server, fakes, browser, tmp_path, make_user):
    telegram, sms = fakes
    booking = confirmed_booking()

    # 1. The order goes to the driver's Telegram; its text carries the trip link.
    dispatch.dispatch(booking=booking, by=None)
    deliver_queued()
    [order] = [m for m in sent(telegram) if str(m["chat"]["id"]) == DRIVER_CHAT]
    links = re.findall(re.escape(live_server.url) + r"/t/[^/\s]+/", order["text"])
    assert len(links) == 1
    [trip_url] = links
    booking.refresh_from_db()
    assert booking.status == Booking.Status.DISPATCHED

    context = phone(browser)
    page = context.new_page()
    errors = []
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and "Failed to load resource" not in message.text
            and errors.append(message.text)
        ),
    )
    page.goto(trip_url)
    assert page.url == trip_url

    # 2. The status marks, in order.
    for mark in ("departed", "arrived", "finished"):
        with page.expect_navigation():
            page.click(f"[data-mark-button={mark}]")
    assert page.locator(".trip-step.done").count() == 3
    booking.refresh_from_db()
    assert booking.departed_at <= booking.arrived_at <= booking.work_finished_at
    # The marks were pressed seconds apart; spread them over the shift as on a real day, so
    # the waybill (which starts at the arrival) and the screenshots show a day in the past.
    now = timezone.now()
    Booking.objects.filter(pk=booking.pk).update(
        departed_at=now - timedelta(hours=3, minutes=50),
        arrived_at=now - timedelta(hours=3, minutes=20),
        work_finished_at=now - timedelta(minutes=15),
    )
    page.reload()

    # 3. The waybill with two photos; the report waits for the manager.
    page.fill("#id_number", "")
    fill_waybill(page, tmp_path, 2)
    page.click("#trip-report-form button[type=submit]")
    page.wait_for_selector("#trip-report-state[data-status=pending]", timeout=15000)
    report = DriverReport.objects.get(booking=booking)
    assert (report.status, report.number, report.photos.count()) == ("pending", "ПЛ-17", 2)
    first_photo = report.photos.order_by("pk").first()
    with first_photo.file.open("rb") as handle:
        first_photo_bytes = handle.read()

    # 4. The foreman signs on the same phone: the form shows once the report is in.
    page.reload()
    page.locator("#sign").scroll_into_view_if_needed()
    assert "ПЛ-17" in page.inner_text("#sign")
    page.fill("#sign-name", "Петров Пётр")
    page.fill("#sign-position", "прораб")
    draw(page)
    assert page.input_value("#sign-signature").startswith("data:image/png;base64,")
    with page.expect_navigation():
        page.click("button[formaction$='#sign']")  # «Send the code»
    [code_row] = SignCode.objects.filter(booking=booking)
    assert (code_row.channel, code_row.phone) == ("sms", FOREMAN_PHONE)
    deliver_queued()
    [text] = [m["text"] for m in sent(sms) if m["phone"].lstrip("+") == FOREMAN_PHONE.lstrip("+")]
    code = re.search(r"\b(\d{6})\b", text).group(1)
    assert code not in code_row.code_hash  # only a keyed hash is kept
    # The form came back with the name, position and the drawing.
    assert page.input_value("#sign-name") == "Петров Пётр"
    assert page.input_value("#sign-signature").startswith("data:image/png;base64,")
    page.fill("#sign-code", code)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # nothing wider than the screen
    # The smallest phones in use are 360 px wide: the page, the sign-off and its canvas fit.
    page.set_viewport_size({"width": 360, "height": 780})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.set_viewport_size(PHONE)
    if os.environ.get("TRIP_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(300)  # the drawing is put back on the canvas
        box = page.locator("#sign").bounding_box()  # the whole 390 px width, the sign-off card
        scroll = page.evaluate("window.scrollY")
        clip = {"x": 0, "y": box["y"] + scroll - 8, "width": PHONE["width"], "height": box["height"] + 16}
        page.screenshot(path=str(SHOTS / "trip-sign.png"), full_page=True, clip=clip)
    key = page.input_value("input[name=key]")
    shown = page.input_value("input[name=shown]")
    signature = page.input_value("#sign-signature")
    with page.expect_navigation():
        page.click("#sign button.primary[type=submit]")
    assert "signed=" in page.url
    signed_url = page.url
    assert page.locator(".sign-done").count() == 1
    assert page.locator(".sign-done a").count() == 1
    signed = ShiftReport.objects.get(booking=booking)
    assert signed.code_confirmed and signed.signer_name == "Петров Пётр"
    code_row.refresh_from_db()
    assert code_row.used_at is not None
    context.close()

    # 5. The manager confirms the driver's report on the booking page.
    manager = Client()
    manager.force_login(make_user(Role.MANAGER))
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    desk.add_cookies(
        [{"name": "sessionid", "value": manager.cookies["sessionid"].value, "url": live_server.url}]
    )
    office = desk.new_page()
    office.goto(live_server.url + reverse("bookings:booking_detail", args=[booking.pk]))
    confirm = reverse("bookings:driver_report_decide", args=[report.pk, "confirm"])
    with office.expect_navigation():
        office.click(f"form[action='{confirm}'] button[type=submit]")
    desk.close()

    # 6. The booking has its waybill from the report, and is completed.
    booking.refresh_from_db()
    assert booking.status == Booking.Status.COMPLETED
    waybill = Waybill.objects.get(booking=booking)
    assert (waybill.number, waybill.source, waybill.hours) == ("ПЛ-17", "driver", 3)
    assert (waybill.odometer_start, waybill.odometer_end, waybill.km) == (1000, 1042, 42)
    assert waybill.downtime_hours == 0.5
    with waybill.scan.open("rb") as handle:
        assert handle.read() == first_photo_bytes
    report.refresh_from_db()
    assert (report.status, report.waybill_id) == ("confirmed", waybill.pk)

    # The shift report: its PDF prints the hash that is stored and recomputed, with the signature image.
    signed.refresh_from_db()
    assert signed.code_confirmed and signed.driver_report_id == report.pk
    check = shift_reports.verify(signed)
    assert check.ok, check.problems
    assert check.printed == check.recomputed == signed.content_sha256
    assert check.images >= 1
    assert signed.content_sha256 == shift_reports.content_hash(shift_reports.report_content(signed))

    # The same submission again (a resent form): no second report.
    again = Client().post(
        reverse("trip:sign", args=[trip_url.rstrip("/").rsplit("/", 1)[1]]),
        {
            "key": key,
            "shown": shown,
            "name": "Петров Пётр",
            "position": "прораб",
            "signature": signature,
            "code": code,
        },
        HTTP_ORIGIN=live_server.url,
    )
    assert again.status_code == 302
    assert live_server.url + again["Location"] == signed_url  # the first answer, again
    assert ShiftReport.objects.filter(booking=booking).count() == 1
    assert errors == []

    if os.environ.get("TRIP_SCREENSHOTS"):
        shot_pdf(signed)
