"""The behaviours pages declare with data attributes (front/static/front/arenda.js), in a real
browser: they replaced every inline handler the Content-Security-Policy refuses, so a page
that lost one would silently stop asking, copying or submitting.

Needs the ``playwright`` package and Debian's ``chromium``; skips without them.
"""

import shutil

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (apt-get install chromium)")

FIXTURE = """
<form id="confirm" method="get" action="/accounts/login/" data-confirm="Отменить счёт?">
  <input name="asked" value="1"><button id="go">Go</button>
</form>
<form id="report" method="get" action="/accounts/login/">
  <select name="period" data-period>
    <option value="month">month</option><option value="custom" selected>custom</option>
  </select>
  <input type="date" name="date_from" value="2026-11-01" data-period-date>
  <input type="date" name="date_to" value="2026-11-30" data-period-date>
  <select name="status" data-autosubmit><option value="">all</option><option value="paid">paid</option></select>
</form>
<input id="link" value="https://arenda.example.ru/p/token/" data-select-on-focus>
<button id="copy" type="button" data-copy="#link" data-done="Скопировано">Копировать</button>
<iframe id="sink" name="sink"></iframe>
<form id="slow" method="get" action="/accounts/login/" target="sink" data-busy="Проверяем файл…">
  <input name="slow" value="1"><button id="slow-go" name="step" value="check">Проверить</button>
</form>
<div id="bell" data-hold-while-open><details id="menu"><summary>3</summary></details><span id="child"></span></div>
"""


@pytest.fixture
def page(live_server):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(locale="ru-RU")
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
        page = context.new_page()
        page.goto(live_server.url + "/accounts/login/")  # a real page: arenda.js from static files
        page.evaluate("html => { document.body.innerHTML = html; }", FIXTURE)
        page.base = live_server.url
        try:
            yield page
        finally:
            browser.close()


@pytest.mark.django_db(transaction=True)
def test_data_confirm_asks_and_a_refusal_keeps_the_page(page):
    questions = []

    def refuse(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", refuse)
    page.click("#go")
    page.wait_for_timeout(200)
    assert questions == ["Отменить счёт?"]
    assert "asked=1" not in page.url

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#go")
    assert "asked=1" in page.url


@pytest.mark.django_db(transaction=True)
def test_a_period_preset_clears_the_dates_and_submits(page):
    with page.expect_navigation():
        page.select_option("select[name=period]", "month")
    assert "period=month" in page.url
    assert "date_from=&date_to=&" in page.url


@pytest.mark.django_db(transaction=True)
def test_typing_a_date_makes_the_period_custom(page):
    page.evaluate("document.querySelector('[name=period]').value = 'month'")
    page.fill("input[name=date_from]", "2026-10-01")
    page.dispatch_event("input[name=date_from]", "change")
    assert page.eval_on_selector("select[name=period]", "select => select.value") == "custom"


@pytest.mark.django_db(transaction=True)
def test_data_autosubmit_submits_on_change(page):
    with page.expect_navigation():
        page.select_option("select[name=status]", "paid")
    assert "status=paid" in page.url


@pytest.mark.django_db(transaction=True)
def test_data_copy_copies_the_link_and_says_so(page):
    page.click("#copy")
    page.wait_for_function("document.querySelector('#copy').textContent === 'Скопировано'")
    assert page.evaluate("navigator.clipboard.readText()") == "https://arenda.example.ru/p/token/"
    page.focus("#link")
    assert page.evaluate(
        "document.activeElement.selectionEnd - document.activeElement.selectionStart"
    ) == len("https://arenda.example.ru/p/token/")


@pytest.mark.django_db(transaction=True)
def test_an_open_menu_holds_the_htmx_refresh(page):
    cancelled = """() => {
        const event = new CustomEvent("htmx:beforeRequest", {bubbles: true, cancelable: true});
        document.querySelector("#child").dispatchEvent(event);
        return event.defaultPrevented;
    }"""
    assert page.evaluate(cancelled) is False
    page.evaluate("document.querySelector('#menu').open = true")
    assert page.evaluate(cancelled) is True


@pytest.mark.django_db(transaction=True)
def test_data_busy_disables_the_button_and_says_the_work_is_under_way(page):
    # the form answers into a frame, so the page itself stays to be looked at
    with page.expect_request(lambda request: "slow=1" in request.url) as sent:
        page.click("#slow-go")
    page.wait_for_function("document.querySelector('#slow-go').disabled")
    assert page.inner_text("#slow-go") == "Проверяем файл…"
    assert page.get_attribute("#slow", "aria-busy") == "true"
    assert "step=check" in sent.value.url, "the button's own name and value are sent"
