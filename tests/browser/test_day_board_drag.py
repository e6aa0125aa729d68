"""The day board's drag-and-drop in a real browser (bookings/static/bookings/dayboard.js,
docs/day-board.md): a block dropped on a unit too small for it snaps back with the reason
where it was dropped; dropped on a free unit that fits, it moves there, as the reserve
service decided.

Needs the ``playwright`` package and Debian's ``chromium``; skips without them.
"""

import shutil
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from arenda.bookings import services
from arenda.bookings.models import Booking
from arenda.bookings.timeline import day_start
from arenda.core.roles import Role
from tests import factories as f

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (apt-get install chromium)")


def _drag(page, block, row):
    """Press on the block, move it over the row in small steps, let go."""
    box, target = block.bounding_box(), row.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + 40, target["y"] + 15, steps=8)
    page.mouse.move(box["x"] + 30, target["y"] + 12, steps=4)
    page.mouse.up()


@pytest.mark.django_db(transaction=True)
def test_a_refused_drag_snaps_back_with_its_reason_and_an_accepted_one_moves(live_server):
    f.UserFactory(username="dispatcher", role=Role.MANAGER)
    crane = f.EquipmentTypeFactory(name="Автокран")
    big = f.UnitFactory(equipment_type=crane, capacity_t=Decimal("25"), plate="О119СО77")
    small = f.UnitFactory(equipment_type=crane, capacity_t=Decimal("16"), plate="Х576АС150")
    other = f.UnitFactory(equipment_type=crane, capacity_t=Decimal("32"), plate="У983КВ190")
    day = timezone.localdate() + timedelta(days=2)
    booking = f.BookingFactory(
        equipment_type=crane,
        min_capacity_t=Decimal("25"),
        start=day_start(day) + timedelta(hours=8),
        end=day_start(day) + timedelta(hours=18),
    )
    services.booking_reserve(booking=booking, unit=big, driver=f.DriverFactory(), by=None)
    connections.close_all()  # the live server's thread and PostgreSQL: no connection held here

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_context(locale="ru-RU", viewport={"width": 1400, "height": 900}).new_page()
            page.goto(live_server.url + "/accounts/login/")
            page.fill("input[name=username]", "dispatcher")
            page.fill("input[name=password]", "pass-12345")
            with page.expect_navigation():
                page.press("input[name=password]", "Enter")
            page.goto(f"{live_server.url}/bookings/day-board/?day={day:%Y-%m-%d}")
            block = page.locator(f".db-block[data-booking='{booking.pk}']")

            def row(unit):
                return page.locator(f".db-row[data-row='{unit.pk}']")

            assert row(big).locator(".db-block").count() == 1
            with page.expect_response(lambda r: "/day-board/move/" in r.url) as refused:
                _drag(page, block, row(small))
            assert refused.value.status == 409
            # the reason, shown where the block was dropped, names the capacity the booking needs
            page.wait_for_selector(".db-refusal:has-text('25')")
            page.wait_for_selector(f".db-row[data-row='{big.pk}'] .db-block[data-booking='{booking.pk}']")
            assert row(big).locator(".db-block").count() == 1  # snapped back
            assert row(small).locator(".db-block").count() == 0

            with page.expect_response(lambda r: "/day-board/move/" in r.url) as accepted:
                _drag(page, page.locator(f".db-block[data-booking='{booking.pk}']"), row(other))
            assert accepted.value.status == 200
            page.wait_for_function(
                f"document.querySelector(\".db-row[data-row='{other.pk}'] .db-block\") !== null"
            )
        finally:
            browser.close()
    assert Booking.objects.get(pk=booking.pk).unit_id == other.pk
