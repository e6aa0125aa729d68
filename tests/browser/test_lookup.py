"""A record field's autocomplete in a real browser (front/static/front/lookup.js,
docs/autocomplete.md): typing into the invoice form's counterparty suggests both look-alike
counterparties with their ИНН, the arrows and Enter pick one, the form saves it.

Needs the ``playwright`` package and Debian's ``chromium``; skips without them.
"""

import shutil

import pytest

from arenda.billing.models import Invoice
from arenda.core.roles import Role
from tests import factories as f

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (apt-get install chromium)")

TWIN = "ООО «КровляДевелопмент-М»"


@pytest.mark.django_db(transaction=True)
def test_type_into_the_invoices_counterparty_pick_with_the_keyboard_and_save(live_server):
    f.UserFactory(username="picker", role=Role.MANAGER)
    f.OrganizationFactory(name="ООО «Кран-Север»")
    first = f.CounterpartyFactory(name=TWIN, inn=f.make_inn10(101), address="г. Мурманск")
    second = f.CounterpartyFactory(name=TWIN, inn=f.make_inn10(202), address="г. Сочи")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_context(locale="ru-RU").new_page()
            page.goto(live_server.url + "/accounts/login/")
            page.fill("input[name=username]", "picker")
            page.fill("input[name=password]", "pass-12345")
            with page.expect_navigation():
                page.press("input[name=password]", "Enter")
            page.goto(live_server.url + "/invoices/new/")
            field = page.locator("#id_counterparty")
            assert field.get_attribute("role") == "combobox"
            assert field.get_attribute("aria-expanded") == "false"
            listbox = field.get_attribute("aria-controls")
            field.click()
            page.keyboard.type("кровляразвит")  # nothing
            page.wait_for_selector(f"#{listbox} .lookup-empty")
            page.fill("#id_counterparty", "")
            page.keyboard.type("КровляДевелоп")
            page.wait_for_selector(f"#{listbox} [role=option] >> nth=1")
            assert field.get_attribute("aria-expanded") == "true"
            options = page.locator(f"#{listbox} [role=option]")
            assert options.count() == 2
            assert first.inn in options.nth(0).inner_text() + options.nth(1).inner_text()
            # the second suggestion, whichever it is, by the keyboard
            wanted = int(options.nth(1).get_attribute("data-value"))
            page.keyboard.press("ArrowDown")
            page.keyboard.press("ArrowDown")
            assert field.get_attribute("aria-activedescendant") == options.nth(1).get_attribute("id")
            assert options.nth(1).get_attribute("aria-selected") == "true"
            page.keyboard.press("Enter")  # picks, does not submit
            assert field.get_attribute("aria-expanded") == "false"
            assert page.input_value("input[type=hidden][name=counterparty]") == str(wanted)
            assert "ИНН" in page.input_value("#id_counterparty") or "INN" in page.input_value(
                "#id_counterparty"
            )
            page.fill("input[name='lines-0-description']", "Смена автокрана")
            page.fill("input[name='lines-0-quantity']", "8")
            page.fill("input[name='lines-0-price']", "3500")
            with page.expect_navigation():
                page.click("#invoice-form button[type=submit]")
            landed = page.url
        finally:
            browser.close()
    # the database is read outside the browser's event loop
    invoice = Invoice.objects.get()
    assert invoice.counterparty_id == wanted and wanted in (first.pk, second.pk)
    assert landed.endswith(invoice.get_absolute_url())


@pytest.mark.django_db(transaction=True)
def test_a_list_filter_refreshes_on_a_pick_not_on_leaving_half_typed_text(live_server):
    f.UserFactory(username="picker", role=Role.MANAGER)
    crane = f.UnitFactory(plate="А123ВС77", name="Liebherr LTM 1050")
    f.BookingFactory(unit=crane)
    f.BookingFactory(unit=f.UnitFactory(plate="Е456КХ77", name="Галичанин"))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_context(locale="ru-RU").new_page()
            page.goto(live_server.url + "/accounts/login/")
            page.fill("input[name=username]", "picker")
            page.fill("input[name=password]", "pass-12345")
            with page.expect_navigation():
                page.press("input[name=password]", "Enter")
            page.goto(live_server.url + "/bookings/")
            rows_before = page.locator("#results tbody tr").count()
            page.click("#lookup-unit")
            page.keyboard.type("a123")
            page.wait_for_selector("#lookup-unit-listbox [role=option]")
            page.keyboard.press("Escape")
            assert page.get_attribute("#lookup-unit", "aria-expanded") == "false"
            page.keyboard.press("Tab")  # leaves half-typed text: no refresh
            assert "unit=" not in page.url
            page.click("#lookup-unit")
            page.keyboard.press("ArrowDown")
            page.wait_for_selector("#lookup-unit-listbox [role=option][aria-selected=true]")
            page.keyboard.press("Enter")
            page.wait_for_url(f"**unit={crane.pk}**")
            page.wait_for_function("document.querySelectorAll('#results tbody tr').length === 1")
            shown = page.input_value("#lookup-unit")
        finally:
            browser.close()
    assert rows_before == 2 and "123" in shown
