"""The header's search in a real browser (front/static/front/search.js, docs/search.md):
«/» focuses it, results come as you type, the arrows and Enter open one, Esc closes.

Needs the ``playwright`` package and Debian's ``chromium``; skips without them.
"""

import shutil

import pytest

from arenda.core.roles import Role
from tests import factories as f

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (apt-get install chromium)")


@pytest.mark.django_db(transaction=True)
def test_slash_type_arrow_enter(live_server):
    f.UserFactory(username="searcher", role=Role.MANAGER)
    unit = f.UnitFactory(plate="А123ВС77", name="Liebherr LTM 1050")
    f.CounterpartyFactory(name="ООО «КровляДевелопмент-М»", phone="+79123456789")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_context(locale="ru-RU").new_page()
            page.goto(live_server.url + "/accounts/login/")
            page.fill("input[name=username]", "searcher")
            page.fill("input[name=password]", "pass-12345")
            with page.expect_navigation():
                page.press("input[name=password]", "Enter")
            page.keyboard.press("/")
            assert page.evaluate("document.activeElement.id") == "search-q"
            page.keyboard.type("а123вс77")
            page.wait_for_selector("#search-results .search-hit")
            assert page.is_visible("#search-results")
            page.keyboard.press("Escape")
            assert not page.is_visible("#search-results")
            page.fill("#search-q", "")
            page.keyboard.type("8 912 345")
            page.wait_for_selector("#search-results .search-hit >> text=КровляДевелопмент")
            page.fill("#search-q", "")
            page.keyboard.type("a123bc 77")
            page.wait_for_selector("#search-results .search-hit >> text=LTM")
            page.keyboard.press("ArrowDown")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page.url.endswith(unit.get_absolute_url())
        finally:
            browser.close()
