"""The whole customer story in one real browser, as a manager and an accountant would live it
(docs/browser-tests.md): a lead from the website's webhook → qualified into a deal → the deal
lines → the КП link opened and accepted by the customer (an anonymous browser) → the bookings
→ reserved on the picker, and a second reserve of the same unit refused with its reason → the
prepayment invoice and its PDF → the accountant's bank statement pays it → the booking
confirmed → the order to the driver's (fake) Telegram and his «Принял» → the waybill with
overtime → the overtime invoice → the payroll and plates reports and an XLSX download.

SQLite only (CI runs the suite on PostgreSQL too; one run of this story is enough); needs the
``playwright`` package and Debian's ``chromium``, skips without them. On a failure every open
page is kept as a PNG and its HTML (tests/browser/artifacts.py).
"""

import re
import shutil
from datetime import datetime, time, timedelta
from decimal import Decimal

import httpx
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from arenda.billing.models import Invoice, Payment
from arenda.bookings.models import Booking, Waybill
from arenda.core.roles import Role
from arenda.crm.models import Deal, Lead
from arenda.integrations.messaging import outbox
from arenda.integrations.messaging.fake_telegram import FakeTelegram
from tests import factories as f
from tests.billing.test_statements import build, doc
from tests.browser.artifacts import Steps

sync_api = pytest.importorskip("playwright.sync_api")
openpyxl = pytest.importorskip("openpyxl")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (apt-get install chromium)"),
    pytest.mark.skipif(
        django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
        reason="the whole story runs once, on SQLite (CI runs the suite on PostgreSQL too)",
    ),
]

D = Decimal
PASSWORD = "pass-12345"  # tests/factories.py UserFactory
INTAKE_TOKEN = "story-intake-token-0123456789"
WEBHOOK_SECRET = "story-webhook-secret-0123456789"
DRIVER_CHAT = "7001"
CUSTOMER_INN = f.make_inn10(4242)
DESK = {"width": 1366, "height": 900}


# --- the one place a record is chosen in a form -------------------------------------------------
def choose(page, field_name: str, record, *, within: str = "") -> None:
    """Choose ``record`` in the form field ``field_name`` (a ``<select>``, or the picker's
    radio list). Only this function knows how a record is chosen: when a select becomes an
    autocomplete field, adapt it here."""
    scope = page.locator(within) if within else page
    select = scope.locator(f"select[name='{field_name}']")
    if select.count():
        select.select_option(value=str(record.pk))
    else:
        scope.locator(f"input[name='{field_name}'][value='{record.pk}']").check()


# --- fixtures -------------------------------------------------------------------------------------
@pytest.fixture
def telegram(settings, live_server):
    """The fake Telegram: the driver's chat receives the order and presses «Принял»; the
    button's callback comes to this live server's webhook as Telegram would send it."""
    server = FakeTelegram("127.0.0.1", 0)
    server.start()
    settings.PUBLIC_URL = live_server.url + "/"
    settings.TELEGRAM_API_URL = server.url
    settings.TELEGRAM_BOT_TOKEN = "123456:STORY"
    settings.TELEGRAM_TIMEOUT = 2
    settings.TELEGRAM_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.INTAKE_TOKEN = INTAKE_TOKEN
    call_command("telegram_webhook", f"{live_server.url}/integrations/telegram/webhook/")
    yield server
    server.stop()


@pytest.fixture
def browser(monkeypatch):
    # The test reads the database while Playwright's loop runs in this thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.django_db(transaction=True)
def test_the_whole_story_from_the_websites_lead_to_the_reports(
    live_server, telegram, browser, tmp_path, request
):
    steps = Steps(browser, request.node.name)
    try:
        story(live_server, telegram, browser, tmp_path, steps)
    finally:
        # Under Playwright's sync API the test's queries run on a connection of their own;
        # none is left open behind the live server.
        connections.close_all()


def test_a_failed_step_keeps_a_screenshot_and_the_html_of_every_open_page(
    browser, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("BROWSER_ARTIFACTS", str(tmp_path))
    steps = Steps(browser, "the story")
    page = browser.new_context().new_page()
    page.set_content("<h1>Счёт № 7</h1>")
    with pytest.raises(AssertionError), steps("the invoice"):
        raise AssertionError("the total is wrong")
    kept = tmp_path / "the_story"
    png, html = kept / "01-the_invoice-context0-page0.png", kept / "01-the_invoice-context0-page0.html"
    assert png.read_bytes().startswith(b"\x89PNG")
    assert "Счёт № 7" in html.read_text(encoding="utf-8")
    assert str(kept) in capsys.readouterr().out  # the path is printed next to the failure


# --- helpers --------------------------------------------------------------------------------------
def new_context(browser, errors: list):
    """A browser context in Russian whose pages' console errors (a CSP violation, a script
    failing) are collected into ``errors``."""
    context = browser.new_context(locale="ru-RU", viewport=DESK, accept_downloads=True)
    context.on(
        "console",
        lambda message: (
            message.type == "error"
            and "Failed to load resource" not in message.text  # the 409 of a refusal, a favicon
            and errors.append(f"{message.page.url if message.page else ''}: {message.text}")
        ),
    )
    return context


def sign_in(browser, live_server, user, errors):
    """A browser of its own for this person, in Russian, signed in through the login form."""
    context = new_context(browser, errors)
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    assert "/accounts/login/" not in page.url
    return page


def local(day, hour):
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def field_value(when):
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def submit(page, form_selector):
    with page.expect_navigation():
        page.click(f"{form_selector} button[type=submit]")


def seen(locator) -> str:
    """The text as a person reads it: any run of spaces (the narrow no-break space between
    thousands, the no-break one before «₽») as one space."""
    return re.sub(r"\s+", " ", locator.inner_text()).strip()


def status_of(page):
    """The status label in the page's heading, as a person reads it."""
    return seen(page.locator("h1 .status")).strip()


def add_line(page, type_, *, start, end, hours, rate, km="0", rate_km="0", capacity="", site):
    form = "#lines form[action$='/lines/']"
    if not page.locator(form).is_visible():
        page.click("#lines details.line-form summary")
    page.locator(f"{form} select[name=equipment_type]").select_option(value=str(type_.pk))
    values = {
        "min_capacity_t": capacity,
        "start": field_value(start),
        "end": field_value(end),
        "ordered_hours": hours,
        "min_hours": "4",
        "rate_per_hour": rate,
        "km": km,
        "rate_per_km": rate_km,
        "site_address": site,
    }
    for name, value in values.items():
        page.fill(f"{form} [name={name}]", str(value))
    rows = page.locator("#lines tbody tr").count()
    with page.expect_response(lambda r: r.url.endswith("/lines/") and r.request.method == "POST") as answer:
        page.click(f"{form} button[type=submit]")
    assert answer.value.status == 200, answer.value.text()
    sync_api.expect(page.locator("#lines tbody tr")).to_have_count(rows + 1)


def deliver_queued():
    """What the task worker does: send every message that is due now."""
    outbox.deliver_due()


def sent(server) -> list[dict]:
    return httpx.get(f"{server.url}/_sent").json()["messages"]


# --- the story ------------------------------------------------------------------------------------
def story(live_server, telegram, browser, tmp_path, steps):
    base = live_server.url
    # What the company has before the customer writes: our legal entity (its account receives
    # the payment), a manager, an accountant, two 25 t+ cranes and two drivers, one of them
    # with the Telegram chat the orders go to.
    ours = f.OrganizationFactory(name="ООО «Спецтехника»")
    manager = f.UserFactory(username="anna", full_name="Анна Смирнова", role=Role.MANAGER)
    accountant = f.UserFactory(username="olga", full_name="Ольга Бухова", role=Role.ACCOUNTANT)
    crane = f.EquipmentTypeFactory(name="Автокран")
    crane_25 = f.UnitFactory(
        equipment_type=crane, name="КС-55713 «Галичанин»", capacity_t=D("25"), plate="О119СО77"
    )
    crane_32 = f.UnitFactory(
        equipment_type=crane, name="КС-65713 «Галичанин»", capacity_t=D("32"), plate="У983КВ190"
    )
    ivanov = f.DriverFactory(full_name="Иванов Иван", telegram_chat_id=DRIVER_CHAT, hourly_pay=D("600.00"))
    petrov = f.DriverFactory(full_name="Петров Пётр", hourly_pay=D("550.00"))
    # Yesterday's job, 08:00–18:00 in the company's time zone: over before the test starts,
    # whatever the hour, so its waybill can be recorded today.
    day = timezone.localdate() - timedelta(days=1)
    start, end = local(day, 8), local(day, 18)
    connections.close_all()
    errors: list[str] = []

    # 1. The website's form posts the request to the intake webhook.
    with steps("the lead from the website"):
        answer = httpx.post(
            f"{base}/api/v1/intake/website/",
            json={
                "name": "Сергей Кузнецов",
                "phone": "8 (912) 345-67-89",
                "email": "snab@mostostroy.ru",
                "company": "ООО «Мостострой»",
                "inn": CUSTOMER_INN,
                "message": "Нужны два автокрана от 25 т на один день, Химки",
                "external_id": "form-4711",
            },
            headers={"X-Intake-Token": INTAKE_TOKEN},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        lead = Lead.objects.get(pk=answer.json()["lead"])
        assert (lead.status, lead.manager_id) == (Lead.Status.NEW, manager.pk)

    # 2. The manager finds it on the lead board and qualifies it into a deal.
    with steps("the lead qualified"):
        office = sign_in(browser, live_server, manager, errors)
        office.goto(f"{base}/deals/leads/")
        with office.expect_navigation():
            office.click(f"a.lead-card[href='/deals/leads/{lead.pk}/']")
        assert "Сергей Кузнецов" in seen(office.locator("h1"))
        office.fill("form[action$='/qualify/'] [name=title]", "Два автокрана, Химки")
        submit(office, "form[action$='/qualify/']")
        deal = Deal.objects.get(title="Два автокрана, Химки")
        assert office.url == f"{base}/deals/{deal.pk}/"
        lead.refresh_from_db()
        assert (lead.status, lead.deal_id) == (Lead.Status.QUALIFIED, deal.pk)
        assert (deal.counterparty.inn, deal.counterparty.name) == (CUSTOMER_INN, "ООО «Мостострой»")

    # 3. Two lines: a 25 t crane 8 h with 30 km of delivery, and a second one 8 h.
    with steps("the deal lines"):
        site = "Химки, ул. Заводская, 3"
        add_line(
            office,
            crane,
            start=start,
            end=end,
            hours="8",
            rate="3500",
            km="30",
            rate_km="100",
            capacity="25",
            site=site,
        )
        add_line(office, crane, start=start, end=end, hours="8", rate="3500", capacity="25", site=site)
        assert "59 000" in seen(office.locator("#lines .totals .grand"))  # 31 000 + 28 000

    # 4. The КП link: the manager makes it, the customer opens it (no login) and accepts.
    with steps("the КП accepted by the customer"):
        submit(office, "#proposal form[action$='/proposal/']:not(.inline-fields)")
        link = office.input_value("#public-link")
        assert link.startswith(f"{base}/p/")
        customer = new_context(browser, errors).new_page()
        customer.goto(link)
        assert "59 000" in seen(customer.locator("body"))
        submit(customer, "form.accept-form")
        customer.wait_for_selector(".proposal-accepted")
        customer.context.close()
        deal.refresh_from_db()
        assert deal.agreed_at is not None and deal.agreed_by_customer
        first, second = deal.bookings.order_by("planned_km").reverse()  # the line with the delivery first
        assert (first.planned_km, second.planned_km) == (D("30.00"), D("0.00"))
        assert {first.status, second.status} == {Booking.Status.DRAFT}

    # 5. The bookings are on the deal's page; the second one's picker opens in another tab
    # before the first booking takes the 25 t crane.
    with steps("the bookings on the deal"):
        office.goto(f"{base}/deals/{deal.pk}/")
        assert office.locator(f"#bookings a[href='/bookings/{first.pk}/']").count() >= 1
        assert office.locator(f"#bookings a[href='/bookings/{second.pk}/']").count() >= 1
        other_tab = office.context.new_page()
        other_tab.goto(office.url)
        with other_tab.expect_navigation():
            other_tab.click(f"#bookings a[href='/bookings/{second.pk}/']")
        with other_tab.expect_navigation():
            other_tab.click(f".head-actions a[href='/bookings/{second.pk}/reserve/']")
        assert other_tab.locator(f"input[name=unit][value='{crane_25.pk}']").is_enabled()  # still free

    with steps("the first booking reserved on the picker"):
        with office.expect_navigation():
            office.click(f"#bookings a[href='/bookings/{first.pk}/']")
        with office.expect_navigation():
            office.click(f".head-actions a[href='/bookings/{first.pk}/reserve/']")
        choose(office, "unit", crane_25, within="#picker")
        choose(office, "driver", ivanov, within="#picker")
        with office.expect_navigation(url=f"{base}/bookings/{first.pk}/"):
            office.click("#picker button[type=submit]")
        assert status_of(office) == "Зарезервировано"
        first.refresh_from_db()
        assert (first.status, first.unit_id, first.driver_id) == (
            Booking.Status.RESERVED,
            crane_25.pk,
            ivanov.pk,
        )

    with steps("the same crane refused for the second booking"):
        choose(other_tab, "unit", crane_25, within="#picker")
        choose(other_tab, "driver", petrov, within="#picker")
        with other_tab.expect_response(lambda r: r.url.endswith(f"/bookings/{second.pk}/reserve/")):
            other_tab.click("#picker button[type=submit]")
        refusal = other_tab.locator("#conflict")
        refusal.wait_for()
        # the reason names the booking in the way, with a link to it
        assert refusal.locator(f"a[href='/bookings/{first.pk}/']").count() == 1
        assert f"Техника {crane_25} на это время уже забронирована." in seen(refusal)
        assert other_tab.locator(f"input[name=unit][value='{crane_25.pk}']").is_disabled()  # busy now
        second.refresh_from_db()
        assert (second.status, second.unit_id) == (Booking.Status.DRAFT, None)
        # the 32 t crane is free: the second booking takes it
        choose(other_tab, "unit", crane_32, within="#picker")
        choose(other_tab, "driver", petrov, within="#picker")
        with other_tab.expect_navigation(url=f"{base}/bookings/{second.pk}/"):
            other_tab.click("#picker button[type=submit]")
        other_tab.close()
        second.refresh_from_db()
        assert (second.status, second.unit_id) == (Booking.Status.RESERVED, crane_32.pk)

    # 6. The prepayment invoice from the first booking: refused at first — the customer
    # made from the lead has no КПП — so the manager completes the counterparty's card.
    prepay = f"form[action='/invoices/booking/{first.pk}/prepayment/']"
    with steps("the prepayment invoice waits for the customer's КПП"):
        submit(office, prepay)
        assert office.url == f"{base}/bookings/{first.pk}/"
        told = seen(office.locator(".messages .message.error"))
        assert "У контрагента ООО «Мостострой» ещё не указаны: КПП." in told
        assert not Invoice.objects.exists()
        customer_card = deal.counterparty.get_absolute_url()
        with office.expect_navigation():
            office.click(f".detail-grid a[href='{customer_card}']")
        with office.expect_navigation():
            office.click(f"a[href='{reverse('directory:counterparty_update', args=[deal.counterparty_id])}']")
        office.fill("[name=kpp]", "504701001")
        submit(office, "main form[method=post]:has([name=kpp])")
        assert office.url == f"{base}{customer_card}"
        deal.counterparty.refresh_from_db()
        assert deal.counterparty.kpp == "504701001"

    with steps("the prepayment invoice and its PDF"):
        office.goto(f"{base}/bookings/{first.pk}/")
        submit(office, prepay)
        prepayment = Invoice.objects.filter(kind=Invoice.Kind.PREPAYMENT).get()
        assert office.url == f"{base}/invoices/{prepayment.pk}/"
        assert prepayment.status == Invoice.Status.ISSUED and prepayment.total == D("31000.00")
        assert status_of(office) == "Выставлен"
        assert prepayment.number in seen(office.locator("h1"))
        assert "31 000" in seen(office.locator(".totals .grand"))
        pdf_href = office.locator(f"a[href='/invoices/{prepayment.pk}/pdf/']").first.get_attribute("href")
        pdf = office.context.request.get(base + pdf_href)
        assert pdf.status == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.body().startswith(b"%PDF")

    with steps("no confirmation before the prepayment is paid"):
        office.goto(f"{base}/bookings/{first.pk}/")
        submit(office, f"form[action='/bookings/{first.pk}/confirm/']")
        refusal = seen(office.locator("#conflict"))
        assert "Клиент работает по предоплате, а счёт на предоплату по этой брони ещё не оплачен." in refusal
        assert status_of(office) == "Зарезервировано"

    # 7. The accountant imports the bank statement in which the customer paid it.
    with steps("the payment from the bank statement"):
        books = sign_in(browser, live_server, accountant, errors)
        on = prepayment.date.strftime("%d.%m.%Y")
        statement = build(
            doc(
                "501",
                f"{prepayment.total:.2f}",
                CUSTOMER_INN,
                f"Оплата по счету № {prepayment.number} от {on} за услуги автокрана",
                on=on,
                recipient=ours.account,
            ),
            account=ours.account,
        )
        books.goto(f"{base}/invoices/statements/")
        books.set_input_files(
            "input[type=file][name=file]",
            {"name": "kl_to_1c.txt", "mimeType": "text/plain", "buffer": statement},
        )
        with books.expect_navigation():
            books.click("form[enctype='multipart/form-data'] button[type=submit]")
        assert re.search(r"/invoices/statements/\d+/$", books.url)
        # the statement's page links the payment to the invoice it paid
        with books.expect_navigation():
            books.click(f"a[href='/invoices/{prepayment.pk}/']")
        assert status_of(books) == "Оплачен"
        prepayment.refresh_from_db()
        assert prepayment.status == Invoice.Status.PAID
        [payment] = Payment.objects.filter(invoice=prepayment)
        assert (payment.amount, payment.source) == (D("31000.00"), Payment.Source.BANK_STATEMENT)

    # 8. Paid: the manager confirms the booking.
    with steps("the booking confirmed"):
        office.goto(f"{base}/bookings/{first.pk}/")
        submit(office, f"form[action='/bookings/{first.pk}/confirm/']")
        assert status_of(office) == "Подтверждено"
        first.refresh_from_db()
        assert first.status == Booking.Status.CONFIRMED

    # 9. The order goes to the driver's Telegram; he presses «Принял».
    with steps("the order to the driver and his «Принял»"):
        submit(
            office, f"#dispatch form[action='/bookings/{first.pk}/dispatch/']:not(:has(input[name=manual]))"
        )
        deliver_queued()
        [order] = [m for m in sent(telegram) if str(m["chat"]["id"]) == DRIVER_CHAT]
        assert "О 119 СО 77" in order["text"] or "О119СО77" in order["text"]
        assert order["reply_markup"]["inline_keyboard"][0][0]["text"] == "Принял"
        pressed = httpx.post(
            f"{telegram.url}/_update", json={"press": order["message_id"]}, timeout=30
        ).json()
        assert pressed["status"] == 200
        first.refresh_from_db()
        assert (first.status, first.delivery_status) == (Booking.Status.DISPATCHED, "acknowledged")
        office.reload()
        assert status_of(office) == "Отправлено водителю"
        assert seen(office.locator("#dispatch-status .dl-acknowledged")) == "принят"

    # 10. The waybill: 10 h and 45 km against the 8 h and 30 km prepaid — overtime.
    with steps("the waybill with overtime"):
        with office.expect_navigation():
            office.click(f"a[href='/bookings/{first.pk}/waybill/']")
        office.fill("[name=number]", "ПЛ-101")
        office.fill("[name=started_at]", field_value(start))
        office.fill("[name=finished_at]", field_value(end))
        office.fill("[name=hours]", "10")
        office.fill("[name=km]", "45")
        submit(office, "form.form:has([name=hours])")
        assert office.url.startswith(f"{base}/bookings/{first.pk}/")
        waybill = Waybill.objects.get(booking=first)
        assert (waybill.number, waybill.hours, waybill.km) == ("ПЛ-101", D("10.00"), D("45.0"))
        overtime = Invoice.objects.get(booking=first, is_overtime=True)
        # 2 h × 3 500 + 15 km × 100
        assert (overtime.billed_hours, overtime.billed_km, overtime.total) == (
            D("2.00"),
            D("15.00"),
            D("8500.00"),
        )
        # the booking's settlement: all 10 h and 45 km are invoiced now
        done = seen(office.locator(".messages .message.success"))
        assert f"Переработка: Счёт № {overtime.number} за 2 ч." in done
        assert "Всё отработанное выставлено." in seen(office.locator("#settlement"))

    # 11. The overtime invoice, followed from the booking's invoices.
    with steps("the overtime invoice"):
        with office.expect_navigation():
            office.click(f"#invoices a[href='/invoices/{overtime.pk}/']")
        assert overtime.number in seen(office.locator("h1"))
        assert "8 500" in seen(office.locator(".totals .grand"))
        assert office.locator(".badge", has_text="переработка").count() >= 1
        invoiced = sum(i.total for i in Invoice.objects.filter(pk__in=[prepayment.pk, overtime.pk]))
        assert invoiced == D("10") * D("3500") + D("45") * D("100")  # 39 500 ₽

    # 12. The reports for yesterday, as the accountant sees them (with the drivers' pay).
    with steps("the payroll report and its XLSX"):
        books.goto(f"{base}/reports/payroll/")
        books.fill("form.report-filters input[name=start]", day.isoformat())
        books.fill("form.report-filters input[name=end]", day.isoformat())
        with books.expect_navigation():
            books.click("form.report-filters button[type=submit]")
        row = books.locator("table.report-table tbody tr", has_text="Иванов Иван").first
        assert "10" in seen(row) and "6 000" in seen(row)  # 10 h × 600 ₽
        with books.expect_download() as download:
            books.click(".exports a[href*='format=xlsx']")
        path = tmp_path / (download.value.suggested_filename or "payroll.xlsx")
        download.value.save_as(path)
        sheet = openpyxl.load_workbook(path, read_only=True).active
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        [trip] = [r for r in rows if "Иванов Иван" in r]  # the trip's row: its booking, 10 h, 6 000 ₽
        assert first.pk in trip and 10 in trip and 6000 in trip

    with steps("the plates report"):
        books.goto(f"{base}/reports/plates/")
        books.fill("form.report-filters input[name=start]", day.isoformat())
        books.fill("form.report-filters input[name=end]", day.isoformat())
        with books.expect_navigation():
            books.click("form.report-filters button[type=submit]")
        table = seen(books.locator("body"))
        assert "Мостострой" in table
        assert "39 500" in table  # the hours and km of the job, overtime included

    with steps("no console errors"):
        assert errors == []  # no page broke its Content-Security-Policy or failed a script
