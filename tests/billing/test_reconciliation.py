"""The reconciliation statement (``billing/reconciliation.py``): the arithmetic of a quarter,
its PDF and XLSX read back, the page, the API, the quarterly e-mail and the receivables
report's «act not signed» filter."""

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from pypdf import PdfReader

from arenda.billing import acts
from arenda.billing import reconciliation as recon
from arenda.billing.models import Act, Payment
from arenda.billing.services import credit_apply
from arenda.core.roles import Role
from arenda.flows.payments import payment_record
from arenda.flows.trips import waybill_update
from arenda.integrations.messaging.models import OutboxMessage
from arenda.reports.reconciliation import render_statement_xlsx
from tests import factories as f
from tests.billing.test_acts import worked
from tests.bookings.test_waybills import job

pytestmark = pytest.mark.django_db
D = Decimal
Q3 = (date(2026, 7, 1), date(2026, 9, 30))


@pytest.fixture(autouse=True)
def _own_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


def another_booking(first, hours="8"):
    """A booking of the same deal (customer and legal entity) as ``first``, its work done."""
    booking = job(min_hours="4", rate="3500.00")
    booking.deal = first.deal
    booking.save()
    return booking, worked(booking, hours=hours, number=f"ПЛ-{booking.pk}")


def act_of(booking) -> Act:
    return Act.objects.get(booking_links__booking=booking, booking_links__active=True, corrects__isnull=True)


def pay(invoice, amount, on, reference=""):
    return payment_record(
        invoice=invoice, amount=D(amount), on=on, source=Payment.Source.MANUAL, reference=reference
    ).payment


@pytest.fixture
def quarter(time_machine):
    """Before Q3 2026: an act of 28 000 and a payment of 10 000 (opening 18 000 owed to us).
    In Q3: an act of 35 000 (10 h), payments of 15 000 and 25 000 (the second overpays the
    invoice), a payment from the customer's credit (not money received), an act cancelled,
    and a correction of the 35 000 act down to 9 h (−3 500). Closing: 9 500 owed to us."""
    time_machine.move_to("2026-09-20 12:00+03:00", tick=False)
    first = job(min_hours="4", rate="3500.00")
    worked(first, hours="8")
    customer, org = first.deal.counterparty, first.deal.organization
    customer.email = "buh@customer.example"
    customer.save()
    acts.act_issue(act=act_of(first), by=None, on=date(2026, 6, 20))  # 28 000, before the period
    invoice = f.InvoiceFactory(counterparty=customer, organization=org, issued=True)  # 28 000
    pay(invoice, "10000.00", date(2026, 6, 25), reference="101")

    second, recorded = another_booking(first, hours="10")
    sold = acts.act_issue(act=act_of(second), by=None, on=date(2026, 8, 10))  # 35 000
    pay(invoice, "15000.00", date(2026, 8, 15), reference="102")
    pay(invoice, "25000.00", date(2026, 9, 10), reference="103")  # 3 000 pays it, 22 000 is credit
    other = f.InvoiceFactory(counterparty=customer, organization=org, issued=True, quantity=D("2"))  # 7 000
    moved = credit_apply(counterparty=customer, invoice=other, by=None).payment
    assert moved.source == Payment.Source.CREDIT and moved.date == date(2026, 9, 20)

    third, _recorded = another_booking(first)
    cancelled = acts.act_issue(act=act_of(third), by=None, on=date(2026, 8, 20))
    acts.act_cancel(act=cancelled, reason="wrong customer", by=None)

    waybill_update(waybill=recorded.waybill, data={"hours": D("9")}, by=second.deal.manager)
    correction = Act.objects.get(corrects=sold)
    correction = acts.act_issue(act=correction, by=None, on=date(2026, 9, 15))
    # another legal entity's act with the same customer is not in this statement
    elsewhere = job()
    elsewhere.deal.counterparty = customer
    elsewhere.deal.save()
    worked(elsewhere)
    acts.act_issue(act=act_of(elsewhere), by=None, on=date(2026, 8, 1))
    return {"customer": customer, "org": org, "sold": sold, "correction": correction}


def test_the_quarter_adds_up_to_the_closing_balance(quarter):
    s = recon.statement(quarter["customer"], quarter["org"], *Q3)
    assert s.opening == D("18000.00") and (s.opening_debit, s.opening_credit) == (D("18000.00"), 0)
    sold, correction = quarter["sold"], quarter["correction"]
    assert [(r.date, r.document, r.debit, r.credit) for r in s.rows] == [
        (date(2026, 8, 10), f"УПД № {sold.number} от 10.08.2026", D("35000.00"), 0),
        (date(2026, 8, 15), "Оплата (п/п № 102 от 15.08.2026)", 0, D("15000.00")),
        (date(2026, 9, 10), "Оплата (п/п № 103 от 10.09.2026)", 0, D("25000.00")),
        (
            date(2026, 9, 15),
            f"Корректировка № {correction.number} от 15.09.2026 к УПД № {sold.number} от 10.08.2026",
            D("-3500.00"),
            0,
        ),
    ]
    assert (s.turnover_debit, s.turnover_credit) == (D("31500.00"), D("40000.00"))
    assert s.closing == D("9500.00") and s.in_favour_of == "us"
    assert (s.closing_debit, s.closing_credit) == (D("9500.00"), 0)
    assert s.closing_text().startswith(
        f"По данным {quarter['org'].name} на 30.09.2026 задолженность в пользу"
    )
    assert "9\u202f500,00 руб." in s.closing_text()


def test_a_customer_that_paid_ahead_is_owed_and_nothing_owed_says_so(quarter):
    s = recon.statement(quarter["customer"], quarter["org"], date(2026, 9, 1), date(2026, 9, 12))
    # opening: 28 000 + 35 000 − 10 000 − 15 000 = 38 000; then 25 000 received
    assert (s.opening, s.closing, s.in_favour_of) == (D("38000.00"), D("13000.00"), "us")
    before = recon.statement(quarter["customer"], quarter["org"], date(2026, 1, 1), date(2026, 6, 19))
    assert (before.rows, before.closing, before.in_favour_of) == ([], 0, "none")
    assert before.closing_text().endswith("задолженность отсутствует.")
    ahead = f.InvoiceFactory(
        counterparty=quarter["customer"], organization=f.OrganizationFactory(), issued=True
    )
    pay(ahead, "50000.00", date(2026, 9, 1))
    s = recon.statement(quarter["customer"], ahead.organization, *Q3)
    assert (s.closing, s.closing_credit, s.in_favour_of) == (D("-50000.00"), D("50000.00"), "counterparty")
    assert quarter["customer"].name in s.closing_text()
    assert s.rows[0].document == "Оплата (от 01.09.2026)"  # no order number known


def test_the_statement_takes_four_queries_whatever_its_rows(quarter):
    with CaptureQueriesContext(connection) as few:
        recon.statement(quarter["customer"], quarter["org"], *Q3)
    for n in range(5):
        pay(f.InvoiceFactory(counterparty=quarter["customer"], organization=quarter["org"], issued=True),
            "100.00", date(2026, 9, 1 + n))  # fmt: skip
    with CaptureQueriesContext(connection) as more:
        s = recon.statement(quarter["customer"], quarter["org"], *Q3)
    assert len(s.rows) == 9
    assert len(few) == len(more) == 4


def _text(pdf: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def test_the_pdf_reads_back(quarter):
    s = recon.statement(quarter["customer"], quarter["org"], *Q3)
    text = _text(recon.render_statement_pdf(s))
    assert "Акт сверки" in text and "01.07.2026 — 30.09.2026" in text
    assert quarter["org"].name in text and quarter["customer"].name in text
    for figure in ("18 000,00", "35 000,00", "15 000,00", "25 000,00", "-3 500,00", "31 500,00", "40 000,00"):
        assert figure in text
    assert "Сальдо конечное 9 500,00" in text
    assert "задолженность в пользу" in text and "9 500,00 руб." in text
    assert quarter["org"].director in text and quarter["org"].accountant in text


def test_the_xlsx_reads_back_with_numbers(quarter):
    s = recon.statement(quarter["customer"], quarter["org"], *Q3)
    sheet = openpyxl.load_workbook(io.BytesIO(render_statement_xlsx(s))).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert "01.07.2026 — 30.09.2026" in rows[0][0]
    assert rows[3][:2] == ["Дата", "Документ"]
    opening = rows[4]
    assert opening[1] == "Сальдо начальное" and opening[2] == 18000 and opening[5] == "Сальдо начальное"
    act_row = rows[5]
    assert act_row[0].date() == date(2026, 8, 10) and act_row[2] == 35000 and act_row[3] is None
    assert sheet.cell(row=6, column=3).number_format == "#,##0.00"
    assert rows[7][3] == 25000 and rows[8][2] == -3500
    assert rows[9][1] == "Обороты за период" and (rows[9][2], rows[9][3]) == (31500, 40000)
    assert rows[10][1] == "Сальдо конечное" and rows[10][2] == 9500
    assert "задолженность в пользу" in rows[12][1]


# --- the page ---------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _russian_documents():
    """The statement's rows and closing text are a Russian accounting document's wording:
    checked in Russian (a request still renders in its own language)."""
    with translation.override("ru"):
        yield


def _ui(make_user, role):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(make_user(role))
    return client


def test_the_page_defaults_to_the_last_full_quarter_and_downloads(quarter, make_user):
    client = _ui(make_user, Role.ACCOUNTANT)
    customer = quarter["customer"]
    page = client.get(f"/directory/counterparties/{customer.pk}/")
    assert f'href="/invoices/reconciliation/{customer.pk}/"' in page.content.decode()
    html = client.get(f"/invoices/reconciliation/{customer.pk}/").content.decode()
    # 20.09.2026: the last full quarter is Q2, with the 28 000 act and the 10 000 payment
    assert 'value="2026-04-01"' in html and 'value="2026-06-30"' in html
    assert f'<option value="{quarter["org"].pk}" selected>' in html  # the one that dealt with it
    assert "UPD №" in html and "Payment (payment order № 101 of 25.06.2026)" in html  # the page's language
    query = f"?start=2026-07-01&end=2026-09-30&organization={quarter['org'].pk}"
    pdf = client.get(f"/invoices/reconciliation/{customer.pk}/pdf/{query}")
    assert pdf["Content-Type"] == "application/pdf" and "9 500,00" in _text(pdf.content)
    xlsx = client.get(f"/invoices/reconciliation/{customer.pk}/xlsx/{query}")
    assert openpyxl.load_workbook(io.BytesIO(xlsx.content)).active["C11"].value == 9500


def test_the_page_names_bad_fields(quarter, make_user):
    client = _ui(make_user, Role.DIRECTOR)
    url = f"/invoices/reconciliation/{quarter['customer'].pk}/"
    response = client.get(url + "?start=2026-09-30&end=2026-07-01")
    assert response.status_code == 400 and "The period ends before it starts." in response.content.decode()
    assert client.get(url + "?start=nonsense").status_code == 400
    assert client.get(url + "?start=2020-01-01&end=2026-01-01").status_code == 400
    assert client.get(url + "?organization=999999").status_code == 400


def test_anonymous_is_sent_to_log_in(quarter):
    response = Client().get(f"/invoices/reconciliation/{quarter['customer'].pk}/")
    assert response.status_code == 302 and "/login" in response["Location"]


# --- the API ----------------------------------------------------------------------------------
def test_the_api_gives_json_pdf_and_xlsx(quarter, api):
    client = api(Role.ACCOUNTANT)
    base = f"/api/v1/counterparties/{quarter['customer'].pk}/reconciliation/"
    query = f"?start=2026-07-01&end=2026-09-30&organization={quarter['org'].pk}"
    data = client.get(base + query).json()
    assert data["counterparty"] == quarter["customer"].pk and data["organization"] == quarter["org"].pk
    assert (data["start"], data["end"]) == ("2026-07-01", "2026-09-30")
    assert data["opening"] == {"debit": "18000.00", "credit": "0.00"}
    assert [r["debit"] for r in data["rows"]] == ["35000.00", "0.00", "0.00", "-3500.00"]
    assert data["rows"][1] == {
        "date": "2026-08-15",
        "document": "Оплата (п/п № 102 от 15.08.2026)",
        "debit": "0.00",
        "credit": "15000.00",
    }
    assert data["turnover"] == {"debit": "31500.00", "credit": "40000.00"}
    assert data["closing"] == {"debit": "9500.00", "credit": "0.00"}
    assert (data["balance"], data["in_favour_of"]) == ("9500.00", "us")
    pdf = client.get(base + query + "&format=pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "Сальдо конечное 9 500,00" in _text(pdf.content)
    xlsx = client.get(base + query + "&format=xlsx")
    assert openpyxl.load_workbook(io.BytesIO(xlsx.content)).active["C11"].value == 9500


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("end=2026-09-30", "start"),
        ("start=2026-07-01", "end"),
        ("start=2026-13-01&end=2026-09-30", "start"),
        ("start=2026-09-30&end=2026-07-01", "end"),
        ("start=2026-07-01&end=2026-09-30&organization=999999", "organization"),
        ("start=2026-07-01&end=2026-09-30&organization=x", "organization"),
        ("start=2026-07-01&end=2026-09-30&format=doc", "format"),
    ],
)
def test_the_api_names_a_bad_parameter(quarter, api, query, field):
    response = api(Role.DIRECTOR).get(
        f"/api/v1/counterparties/{quarter['customer'].pk}/reconciliation/?{query}"
    )
    assert response.status_code == 400 and field in response.json()


def test_the_api_refuses_a_user_without_a_role_and_an_unknown_counterparty(quarter, api):
    url = f"/api/v1/counterparties/{quarter['customer'].pk}/reconciliation/?start=2026-07-01&end=2026-09-30"
    assert api(user=f.UserFactory(role=Role.ACCOUNTANT, is_active=False)).get(url).status_code == 403
    assert api(Role.MANAGER).get(url).status_code == 200  # as the receivables report
    assert api(Role.ACCOUNTANT).get(url.replace(str(quarter["customer"].pk), "999999")).status_code == 404


# --- the quarterly e-mail ---------------------------------------------------------------------
def test_the_quarterly_statement_goes_once_after_the_quarter(quarter, time_machine):
    customer = quarter["customer"]
    customer.reconciliation_quarterly = True
    customer.save()
    assert recon.send_quarterly_statements(today=date(2026, 9, 30)) == 0  # Q3 not over; Q2 long past
    time_machine.move_to("2026-10-01 09:00+03:00", tick=False)
    assert recon.send_quarterly_statements() == 2  # each legal entity that dealt with it
    message = OutboxMessage.objects.get(
        idempotency_key=recon.quarterly_key(customer.pk, quarter["org"].pk, Q3[0])
    )
    assert message.channel == "email" and message.recipient == "buh@customer.example"
    [attachment] = message.attachments
    assert attachment["content_type"] == "application/pdf"
    from django.core.files.storage import default_storage

    with default_storage.open(attachment["name"], "rb") as handle:
        text = _text(handle.read())
    assert "01.07.2026 — 30.09.2026" in text and "9 500,00" in text
    time_machine.move_to("2026-10-02 09:00+03:00", tick=False)
    assert recon.send_quarterly_statements() == 0
    assert OutboxMessage.objects.filter(idempotency_key__startswith="reconciliation:").count() == 2
    assert recon.send_quarterly_statements(today=date(2026, 10, 20)) == 0  # the first days only


def test_no_quarterly_statement_without_the_setting_or_an_email(quarter):
    customer = quarter["customer"]
    assert recon.send_quarterly_statements(today=date(2026, 10, 1)) == 0  # not switched on
    customer.reconciliation_quarterly, customer.email = True, ""
    customer.save()
    assert recon.send_quarterly_statements(today=date(2026, 10, 1)) == 0
    assert not OutboxMessage.objects.exists()


def test_the_accountant_switches_it_on_and_the_manager_does_not_see_it(make_user):
    customer = f.CounterpartyFactory()
    manager = _ui(make_user, Role.MANAGER).get(f"/directory/counterparties/{customer.pk}/edit/")
    assert manager.status_code == 200 and 'name="reconciliation_quarterly"' not in manager.content.decode()
    accountant = _ui(make_user, Role.ACCOUNTANT).get(f"/directory/counterparties/{customer.pk}/edit/")
    assert 'name="reconciliation_quarterly"' in accountant.content.decode()


def test_an_act_of_an_entity_without_vat_is_a_sale_and_its_correction_names_the_act():
    act = Act(pk=1, form=Act.Form.ACT, number="7", date=date(2026, 8, 3))
    assert recon.act_document(act) == "Продажа (акт № 7 от 03.08.2026)"
    correction = Act(form=Act.Form.ACT, number="9", date=date(2026, 9, 1), corrects=act)
    assert recon.act_document(correction) == "Корректировка № 9 от 01.09.2026 к акту № 7 от 03.08.2026"


def test_quarters():
    assert recon.quarter_of(date(2026, 11, 5)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert recon.last_full_quarter(date(2026, 1, 3)) == (date(2025, 10, 1), date(2025, 12, 31))
    assert recon.last_full_quarter(date(2026, 5, 31)) == (date(2026, 1, 1), date(2026, 3, 31))


# --- the receivables report: «act not signed» -------------------------------------------------
def test_the_receivables_report_filters_debts_whose_act_is_not_signed(time_machine, api):
    time_machine.move_to("2026-09-20 12:00+03:00", tick=False)
    signed, unsigned = job(), job()
    for booking in (signed, unsigned):
        worked(booking)  # its invoice of 28 000 for the hours worked, and its act
        assert booking.invoices.get().is_open()
        acts.act_issue(act=act_of(booking), by=None)
    acts.act_mark_signed(act=act_of(signed), by=None, signer="Сидоров")
    url = "/api/v1/reports/receivables/?as_of=2026-09-20"
    everyone = {r["counterparty"] for r in api(Role.ACCOUNTANT).get(url).json()["results"]}
    assert everyone == {signed.deal.counterparty.name, unsigned.deal.counterparty.name}
    data = api(Role.ACCOUNTANT).get(url + "&act_unsigned=true").json()
    assert [r["counterparty"] for r in data["results"]] == [unsigned.deal.counterparty.name]
    assert data["totals"]["total"] == "28000.00"
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(f.UserFactory(role=Role.DIRECTOR))
    html = client.get("/reports/receivables/?as_of=2026-09-20&act_unsigned=on").content.decode()
    link = "counterparty={}&amp;act_unsigned=1"
    assert link.format(unsigned.deal.counterparty.pk) in html
    assert link.format(signed.deal.counterparty.pk) not in html
    assert 'name="act_unsigned" id="id_act_unsigned" checked' in html
