"""The signature box of the trip page's sign-off (bookings/static/bookings/sign.js) in a real
browser: drawing fills the hidden field with a PNG, «Clear» empties it, and signing makes the
report. Needs the ``playwright`` package and Debian's ``chromium``; skips without them."""

import shutil

import pytest
from django.urls import reverse

from arenda.bookings.models import ShiftReport
from tests.bookings.test_shift_reports import make_trip

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (apt-get install chromium)")


def draw(page):
    pad = page.locator("canvas[data-sign-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 30)
    page.mouse.down()
    for step in range(1, 20):
        page.mouse.move(box["x"] + 20 + step * 12, box["y"] + 30 + (step % 5) * 15)
    page.mouse.up()


@pytest.mark.django_db(transaction=True)
def test_drawing_clearing_and_signing(live_server):
    booking, link = make_trip(phone="")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(locale="ru-RU", has_touch=True).new_page()
        errors = []
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and "Failed to load resource" not in message.text  # the 400 of a refused form
                and errors.append(message.text)
            ),
        )
        try:
            page.goto(live_server.url + reverse("trip:page", args=[link.token]))
            draw(page)
            assert page.input_value("#sign-signature").startswith("data:image/png;base64,")
            page.click("[data-sign-clear]")
            assert page.input_value("#sign-signature") == ""
            draw(page)
            with page.expect_navigation():  # no position: the page comes back with the drawing
                page.click("#sign button.primary[type=submit]")
            assert page.locator(".field-error").count() == 1
            assert page.input_value("#sign-signature").startswith("data:image/png;base64,")
            page.wait_for_timeout(300)  # the drawing is put back on the canvas
            page.fill("#sign-position", "прораб")
            with page.expect_navigation():
                page.click("#sign button.primary[type=submit]")
            assert "signed=" in page.url
            assert page.locator(".sign-done a").count() == 1
        finally:
            browser.close()
    assert errors == []
    report = ShiftReport.objects.get(booking=booking)
    assert report.signer_position == "прораб" and not report.code_confirmed
