"""Bank statements: every real sample parses; the parser survives what real files do; the
matching rules on constructed statements; bad uploads are a clear 400 with nothing
recorded; the accountant's page; who may do what."""

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from arenda.billing import statements
from arenda.billing.models import BankStatement, Invoice, Payment, StatementPayment
from arenda.billing.services import LineData, credit_balance, invoice_create, invoice_issue, payment_record
from arenda.billing.statements import StatementError, parse_statement, statement_import
from arenda.core.money import format_rub
from arenda.core.roles import Role
from arenda.flows import payments
from tests.factories import CounterpartyFactory, OrganizationFactory, make_account, make_inn10

DATA = Path(__file__).parent / "data"
State = StatementPayment.State

# --- the real samples -------------------------------------------------------------------------

# file → (encoding read, documents, balance sections, (document index, number, amount))
SAMPLES = {
    "Xini1__sample1.txt": ("utf-8", 2, 2, (0, "1", "10.10")),
    "Xini1__sample2.txt": ("utf-8", 1, 0, (0, "119", "0.01")),
    "Xini1__sample3.txt": ("utf-8", 1, 0, (0, "288", "0.01")),
    "Xini1__sample4.txt": ("utf-8", 1, 0, (0, "23720", "0.01")),
    "Xini1__sample5.txt": ("utf-8", 6, 0, (5, "2930", "0.01")),
    "kilylabs__one_day.txt": ("cp1251", 13, 1, (12, "1", "20000.00")),
    "kilylabs__one_day_utf8.txt": ("utf-8", 13, 1, (9, "4", "14121.20")),
    "odoo-ru__kl_to_1c.txt": ("cp1251", 1, 1, (0, "3", "108159.12")),
    "odoo-ru__1c_to_kl-win-min-example.txt": ("cp1251", 0, 0, None),
}


def test_every_sample_file_is_covered():
    assert {p.name for p in DATA.glob("*.txt")} == set(SAMPLES)
    assert "kilylabs" in (DATA / "SOURCES.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_parses(name):
    encoding, documents, sections, known = SAMPLES[name]
    parsed = parse_statement((DATA / name).read_bytes())
    assert parsed.encoding == encoding
    assert len(parsed.documents) == documents
    assert len(parsed.accounts) == sections
    assert parsed.warnings == []
    if known:
        index, number, amount = known
        assert parsed.documents[index].number == number
        assert parsed.documents[index].amount == Decimal(amount)
        assert all(d.date and d.amount is not None for d in parsed.documents)


def test_kilylabs_documents_add_up_to_the_balances_in_both_encodings():
    cp1251 = parse_statement((DATA / "kilylabs__one_day.txt").read_bytes())
    utf8 = parse_statement((DATA / "kilylabs__one_day_utf8.txt").read_bytes())
    section = cp1251.accounts[0]
    received = sum(d.amount for d in cp1251.documents if d.received_on)
    written_off = sum(d.amount for d in cp1251.documents if d.written_off_on)
    assert (
        (received, written_off)
        == (section.received, section.written_off)
        == (Decimal("40000.00"), Decimal("41184.00"))
    )
    assert section.opening - written_off + received == section.closing == Decimal("44145.91")
    assert [d.fields.values for d in cp1251.documents] == [d.fields.values for d in utf8.documents]
    assert cp1251.documents[0].kind == "Банковский ордер"
    assert cp1251.documents[0].fields.values["ВидПлатежа"] == [""]


def test_odoo_file_blank_header_line_padded_values_and_invoice_reference():
    parsed = parse_statement((DATA / "odoo-ru__kl_to_1c.txt").read_bytes())
    document = parsed.documents[0]
    assert parsed.period_start == date(2023, 1, 1) and parsed.period_end == date(2023, 1, 31)
    assert document.fields.get("ПлательщикБанк1") == "Банк ГПБ (АО)"
    assert document.payer_name == "ООО Плательщик"
    assert statements.invoice_refs(document.purpose) == [("1024", date(2023, 1, 1))]
    minimal = parse_statement((DATA / "odoo-ru__1c_to_kl-win-min-example.txt").read_bytes())
    assert minimal.header.get("Поле") == "Значение"


# --- the parser on what real files do -------------------------------------------------------


def build(*documents, account="40702810900000000001", newline="\r\n", encoding="utf-8", end=True, header=()):
    lines = [
        "1CClientBankExchange",
        "ВерсияФормата=1.03",
        "Кодировка=Windows",
        "ДатаНачала=01.02.2026",
        "ДатаКонца=28.02.2026",
        f"РасчСчет={account}",
        *header,
        "СекцияРасчСчет",
        f"РасчСчет={account}",
        "НачальныйОстаток=0.00",
        "КонецРасчСчет",
    ]
    for fields in documents:
        lines.append("СекцияДокумент=Платежное поручение")
        lines += [f"{key}={value}" for key, value in fields.items()]
        lines.append("КонецДокумента")
    if end:
        lines.append("КонецФайла")
    return (newline.join(lines) + newline).encode(encoding)


def doc(
    number, amount, inn, purpose, *, on="05.02.2026", payer_account=None, recipient="40702810900000000001"
):
    return {
        "Номер": number,
        "Дата": on,
        "Сумма": amount,
        "ПлательщикСчет": payer_account or make_account("044525225", int(inn[-4:])),
        "ПлательщикИНН": inn,
        "Плательщик1": "ООО Заказчик",
        "ПолучательСчет": recipient,
        "ДатаПоступило": on,
        "НазначениеПлатежа": purpose,
    }


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251", "cp866"])
def test_any_encoding_and_line_end_whatever_the_header_says(encoding, newline):
    data = build(
        doc("17", "1 234,50", "7707083893", "Оплата по счёту № 5"), newline=newline, encoding=encoding
    )
    parsed = parse_statement(data)
    assert parsed.encoding == {"utf-8-sig": "utf-8"}.get(encoding, encoding)
    [document] = parsed.documents
    assert (document.number, document.amount, document.date) == ("17", Decimal("1234.50"), date(2026, 2, 5))
    assert document.purpose == "Оплата по счёту № 5"


def test_padding_blank_lines_repeated_unknown_keys_packed_payer_split_purpose():
    data = "\n".join(
        [
            "\ufeff",
            "  1CClientBankExchange  ",
            "",
            "РасчСчет=40702810900000000001",
            "РасчСчет=40702810900000000002",
            "Новинка=что-то",
            "СекцияДокумент = Платежное требование",
            "  Номер =  42 ",
            "Дата=1.2.2026",
            "Сумма=10 000.5",
            "Плательщик=ИНН 7719617469 ОАО «Ромашка»",
            "ПлательщикИНН=",
            "ПлательщикРасчСчет=40702810400000000003",
            "Пустое=",
            "НазначениеПлатежа=",
            "НазначениеПлатежа1=Оплата по сч. 12",
            "НазначениеПлатежа2=от 01.02.2026",
            "КонецДокумента",
            "",
            "КонецФайла",
            "after the end is ignored",
        ]
    ).encode()
    parsed = parse_statement(data)
    assert parsed.own_accounts == ["40702810900000000001", "40702810900000000002"]
    assert parsed.header.get("Новинка") == "что-то"
    [document] = parsed.documents
    assert document.kind == "Платежное требование"
    assert (document.number, document.date, document.amount) == ("42", date(2026, 2, 1), Decimal("10000.50"))
    assert (document.payer_inn, document.payer_name) == ("7719617469", "ОАО «Ромашка»")
    assert document.payer_account == "40702810400000000003"
    assert statements.invoice_refs(document.purpose) == [("12", date(2026, 2, 1))]


def test_missing_end_marker_warns_and_a_cut_document_is_dropped():
    whole = build(doc("1", "100.00", "7707083893", "x"), end=False)
    assert len(parse_statement(whole).documents) == 1
    assert "КонецФайла" in parse_statement(whole).warnings[0]
    cut = whole + "СекцияДокумент=Платежное поручение\nНомер=2\nСумма=5".encode()
    parsed = parse_statement(cut)
    assert len(parsed.documents) == 1
    assert any("№ 2" in w for w in parsed.warnings)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "empty"),
        (b"  \r\n\r\n ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (bytes(range(1, 256)) * 40, "1CClientBankExchange"),
        ("Дата;Сумма;Плательщик\n05.02.2026;1000,00;ООО Ромашка\n".encode("cp1251"), "1CClientBankExchange"),
        ("<html><body>Выписка</body></html>".encode(), "1CClientBankExchange"),
        (b"1CClientBankExchange" + b"x" * statements.MAX_BYTES, "10 MB"),
    ],
    ids=["empty", "blank", "binary", "random", "csv", "html", "too-big"],
)
def test_not_a_statement(data, says):
    with pytest.raises(StatementError) as caught:
        parse_statement(data)
    assert says in caught.value.message


def test_invoice_references_in_purposes():
    refs = statements.invoice_refs
    assert refs("Оплата по счету № 123 от 01.02.2026 за аренду") == [("123", date(2026, 2, 1))]
    assert refs("опл. сч. 123, в т.ч. НДС") == [("123", None)]
    assert refs("Оплата счет №123") == [("123", None)]
    assert refs("по с/ф 00123 от 1.2.26") == [("123", date(2026, 2, 1))]
    assert refs("по счетам № 7 и счет N 8") == [("7", None), ("8", None)]
    assert refs("Расчет по договору N 0320 от 21.06.2021, р/сч 40702810900000000001") == []
    assert refs("Оплата за счет средств бюджета") == []


# --- matching -------------------------------------------------------------------------------

OUR_ACCOUNT = "40702810900000000001"


@pytest.fixture
def org(db):
    return OrganizationFactory(account=OUR_ACCOUNT, bik="044525225")


@pytest.fixture
def customer(db):
    return CounterpartyFactory(inn="7707083893")


def issue(org, counterparty, amount, on=date(2026, 2, 2)):
    invoice = invoice_create(
        kind=Invoice.Kind.POSTPAYMENT,
        counterparty=counterparty,
        organization=org,
        lines=[LineData("Услуги автокрана 25 т с экипажем", Decimal("1"), Decimal(amount))],
        by=None,
    )
    return invoice_issue(invoice=invoice, by=None, on=on)


def imported(*documents, by=None, **kwargs):
    return statement_import(file_name="kl_to_1c.txt", data=build(*documents, **kwargs), by=by)


def test_number_and_inn_match_and_pay_the_invoice(org, customer):
    invoice = issue(org, customer, "28000.00")
    result = imported(
        doc("501", "28000.00", customer.inn, f"Оплата по счету № {invoice.number} от 02.02.2026")
    )
    [row] = result.matched
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert row.payment.invoice == invoice
    assert row.payment.source == Payment.Source.BANK_STATEMENT
    assert row.payment.reference == row.key == f"501|05.02.2026|28000.00|{customer.inn}|{row.payer_account}"
    assert row.payment.date == date(2026, 2, 5)
    assert result.statement.account == OUR_ACCOUNT and result.statement.documents == 1


def test_partial_payments_add_up(org, customer):
    invoice = issue(org, customer, "30000.00")
    first = imported(doc("1", "10000,00", customer.inn, f"Аванс по сч. {invoice.number}"))
    invoice.refresh_from_db()
    assert len(first.matched) == 1 and invoice.status == Invoice.Status.PARTIALLY_PAID
    second = imported(
        doc("2", "20000.00", customer.inn, f"Доплата по счету №{invoice.number}", on="06.02.2026")
    )
    invoice.refresh_from_db()
    assert len(second.matched) == 1
    assert (invoice.status, invoice.paid_amount) == (Invoice.Status.PAID, Decimal("30000.00"))


def test_same_number_in_two_years_the_date_decides(org, customer):
    old = issue(org, customer, "5000.00", on=date(2025, 12, 20))
    new = issue(org, customer, "5000.00", on=date(2026, 1, 15))
    assert old.number == new.number == "1"
    dated = imported(doc("7", "5000.00", customer.inn, "Оплата по счету № 1 от 15.01.2026"))
    assert dated.matched[0].payment.invoice == new
    # The new one is paid: «№ 1» without a date now names only the old one.
    undated = imported(doc("8", "3000.00", customer.inn, "Оплата по счету № 1"))
    assert undated.matched[0].payment.invoice == old


def test_two_open_invoices_with_the_same_number_and_no_date_are_ambiguous(org, customer):
    old = issue(org, customer, "5000.00", on=date(2025, 12, 20))
    new = issue(org, customer, "5000.00", on=date(2026, 1, 15))
    [row] = imported(doc("9", "100.00", customer.inn, "Оплата по сч 1")).waiting
    assert row.state == State.AMBIGUOUS and set(row.candidates.all()) == {old, new}
    assert Payment.objects.count() == 0


def test_wrong_inn_is_unmatched_with_the_named_invoice_as_a_hint(org, customer):
    invoice = issue(org, customer, "28000.00")
    [row] = imported(doc("3", "28000.00", make_inn10(7777), f"Оплата по счету № {invoice.number}")).waiting
    assert row.state == State.UNMATCHED and list(row.candidates.all()) == [invoice]
    assert Payment.objects.count() == 0


def test_inn_and_exact_amount_without_a_number(org, customer):
    issue(org, customer, "12000.00")
    invoice = issue(org, customer, "28000.00")
    result = imported(doc("4", "28000.00", customer.inn, "Оплата за услуги крана, в т.ч. НДС 22%"))
    assert result.matched[0].payment.invoice == invoice
    [row] = imported(doc("5", "500.00", customer.inn, "Оплата за услуги крана")).waiting
    assert row.state == State.UNMATCHED


def test_overpayment_waits_for_a_person(org, customer):
    invoice = issue(org, customer, "28000.00")
    [row] = imported(doc("6", "30000.00", customer.inn, f"Оплата по счету № {invoice.number}")).waiting
    assert row.state == State.AMBIGUOUS and list(row.candidates.all()) == [invoice]
    invoice.refresh_from_db()
    assert invoice.paid_amount == 0


def test_outgoing_payments_are_not_ours_to_match(org, customer):
    issue(org, customer, "100.00")
    outgoing = doc("10", "100.00", customer.inn, "Оплата по счету № 1", payer_account=OUR_ACCOUNT)
    outgoing.update(
        {"ПолучательСчет": make_account("044525225", 55), "ДатаПоступило": "", "ДатаСписано": "05.02.2026"}
    )
    result = imported(outgoing)
    assert (result.payments, result.outgoing) == ([], 1)


def test_reimport_records_nothing_twice(org, customer):
    invoice = issue(org, customer, "28000.00")
    documents = [
        doc("11", "28000.00", customer.inn, f"Оплата по счету № {invoice.number}"),
        doc("12", "999.00", customer.inn, "Непонятный платёж"),
    ]
    first = imported(*documents)
    again = imported(*documents)
    assert not again.created and again.statement == first.statement
    assert sorted(p.pk for p in again.payments) == sorted(p.pk for p in first.payments)
    # The same payments in another file (a wider period, another line ending) are known.
    wider = imported(*documents, doc("13", "1.00", customer.inn, "x"), newline="\n", encoding="cp1251")
    assert wider.created and wider.known == 2 and len(wider.payments) == 1
    assert Payment.objects.count() == 1 and StatementPayment.objects.count() == 3
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("28000.00")


def test_a_document_without_a_valid_amount_is_skipped_with_a_warning(org, customer):
    result = imported(doc("18", "сто рублей", customer.inn, "?"), doc("19", "100.00", customer.inn, "?"))
    assert [p.number for p in result.payments] == ["19"]
    assert any("№ 18" in w for w in result.warnings)


def test_a_payment_already_brought_by_1c_is_not_counted_again(org, customer):
    invoice = issue(org, customer, "28000.00")
    from_1c = payment_record(
        invoice=invoice, amount="28000.00", on=date(2026, 2, 5), source=Payment.Source.ONEC, reference="ref|1"
    ).payment
    result = imported(doc("14", "28000.00", customer.inn, f"Оплата по счету № {invoice.number}"))
    assert result.matched[0].payment == from_1c
    assert Payment.objects.count() == 1


def test_a_failure_midway_records_nothing(org, customer, monkeypatch):
    invoice = issue(org, customer, "28000.00")
    calls = []

    def failing(**kwargs):
        calls.append(kwargs)
        raise RuntimeError("database went away")

    monkeypatch.setattr(statements, "payment_record", failing)
    with pytest.raises(RuntimeError):
        imported(doc("15", "28000.00", customer.inn, f"Оплата по счету № {invoice.number}"))
    assert calls
    assert (BankStatement.objects.count(), StatementPayment.objects.count(), Payment.objects.count()) == (
        0,
        0,
        0,
    )


def test_accountant_assigns_and_ignores(org, customer, make_user):
    invoice = issue(org, customer, "28000.00")
    result = imported(
        doc("16", "30000.00", customer.inn, "по сч 1"), doc("17", "50.00", customer.inn, "возврат")
    )
    over, stray = sorted(result.waiting, key=lambda r: r.number)
    accountant = make_user(Role.ACCOUNTANT)
    row = payments.statement_payment_assign(statement_payment=over, invoice=invoice, by=accountant)
    invoice.refresh_from_db()
    assert row.state == State.ASSIGNED and row.payment.created_by == accountant
    # 2 000 ₽ beyond the invoice: the customer's credit, not an invoice paid above its total
    assert invoice.status == Invoice.Status.PAID and invoice.paid_amount == Decimal("28000.00")
    assert (row.payment.amount, credit_balance(customer)) == (Decimal("30000.00"), Decimal("2000.00"))
    assert statements.statement_payment_ignore(statement_payment=stray, by=accountant).state == State.IGNORED
    with pytest.raises(statements.BillingRefused):
        payments.statement_payment_assign(statement_payment=over, invoice=invoice, by=accountant)


def test_a_waiting_payment_1c_brought_meanwhile_is_not_recorded_on_another_invoice(org, customer):
    """An overpayment waits for the accountant; meanwhile the 1C pull records the same money
    on the invoice. Assigning the waiting line to another invoice of the customer recorded it
    a second time (found by tests/billing/test_ledger_state_machine.py); to the 1C invoice it
    links the 1C payment, as before."""
    first, second = issue(org, customer, "28000.00"), issue(org, customer, "50000.00")
    [waiting] = imported(doc("21", "30000.00", customer.inn, f"Оплата по счету № {first.number}")).waiting
    from_1c = payment_record(
        invoice=first, amount="30000.00", on=date(2026, 2, 5), source=Payment.Source.ONEC, reference="ref|9"
    ).payment
    with pytest.raises(statements.BillingRefused) as refused:
        payments.statement_payment_assign(statement_payment=waiting, invoice=second, by=None)
    assert refused.value.code == "recorded_from_1c" and refused.value.extra == {"invoice": first.pk}
    assert Payment.objects.count() == 1
    row = payments.statement_payment_assign(statement_payment=waiting, invoice=first, by=None)
    assert row.payment == from_1c and Payment.objects.count() == 1


# --- the API --------------------------------------------------------------------------------

URL = "/api/v1/bank-statements/"


def upload(client, data, name="kl_to_1c.txt"):
    return client.post(URL, {"file": SimpleUploadedFile(name, data)}, format="multipart")


def test_api_import_answers_matched_and_unmatched(api, org, customer):
    invoice = issue(org, customer, "28000.00")
    client = api(Role.ACCOUNTANT)
    data = build(
        doc("21", "28000.00", customer.inn, f"Оплата по счету № {invoice.number} от 02.02.2026"),
        doc("22", "10.00", make_inn10(4242), "Оплата по счету № 99"),
        encoding="cp1251",
    )
    answer = upload(client, data)
    assert answer.status_code == 201, answer.data
    body = answer.json()
    assert [(p["number"], p["invoice"], p["amount"]) for p in body["matched"]] == [
        ("21", invoice.pk, "28000.00")
    ]
    assert [(p["number"], p["state"]) for p in body["unmatched"]] == [("22", "unmatched")]
    assert body["already_imported"] is False and body["statement"]["documents"] == 2

    again = upload(client, data)
    assert again.status_code == 200 and again.json()["already_imported"] is True
    assert len(again.json()["matched"]) == 1 and Payment.objects.count() == 1

    assert client.get(URL).json()["count"] == 1
    waiting = client.get("/api/v1/statement-payments/?state=ambiguous,unmatched").json()
    assert [p["number"] for p in waiting["results"]] == ["22"]


def test_api_assign_and_ignore(api, org, customer):
    invoice = issue(org, customer, "28000.00")
    client = api(Role.ACCOUNTANT)
    imported(
        doc("23", "28000.00", customer.inn, "Оплата за услуги крана"), doc("24", "1.00", customer.inn, "?")
    )
    rows = {r.number: r for r in StatementPayment.objects.all()}
    base = "/api/v1/statement-payments/"
    assert rows["23"].state == State.MATCHED
    refused = client.post(f"{base}{rows['23'].pk}/assign/", {"invoice": invoice.pk})
    assert refused.status_code == 409 and refused.json()["code"] == "already_recorded"
    bad = client.post(f"{base}{rows['24'].pk}/assign/", {"invoice": 999999})
    assert bad.status_code == 400 and "invoice" in bad.json()
    ignored = client.post(f"{base}{rows['24'].pk}/ignore/")
    assert ignored.status_code == 200 and ignored.json()["state"] == "ignored"
    assigned = client.post(f"{base}{rows['24'].pk}/assign/", {"invoice": invoice.pk})
    assert assigned.status_code == 200 and assigned.json()["state"] == "assigned"
    assert assigned.json()["invoice"] == invoice.pk


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (os.urandom(64 * 1024), "binary"),
        (b"date,amount,payer\n2026-02-05,1000.00,Romashka\n", "1CClientBankExchange"),
        (b"", "empty"),
        (b"1CClientBankExchange\r\n" + b"0" * (50 * 1024 * 1024), "10 MB"),
    ],
    ids=["garbage", "csv", "empty", "50MB"],
)
def test_api_bad_files_are_a_clear_400_and_record_nothing(api, org, data, says):
    client = api(Role.ACCOUNTANT)
    client.credentials(HTTP_ACCEPT_LANGUAGE="en")
    answer = upload(client, data)
    assert answer.status_code == 400
    assert says in answer.json()["file"][0]
    assert BankStatement.objects.count() == StatementPayment.objects.count() == 0


def test_api_without_a_file(api):
    answer = api(Role.ACCOUNTANT).post(URL, {}, format="multipart")
    assert answer.status_code == 400 and answer.json()["file"]


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        (Role.ADMIN, 200, 201),
        (Role.ACCOUNTANT, 200, 201),
        (Role.DIRECTOR, 200, 403),
        (Role.MANAGER, 403, 403),
    ],
)
def test_api_permissions(api, org, customer, role, read, write):
    client = api(role)
    assert client.get(URL).status_code == read
    assert client.get("/api/v1/statement-payments/").status_code == read
    assert upload(client, build(doc("31", "5.00", customer.inn, "?"))).status_code == write
    row = StatementPayment.objects.first() or imported(doc("32", "6.00", customer.inn, "?")).payments[0]
    assert client.post(f"/api/v1/statement-payments/{row.pk}/ignore/").status_code == (
        200 if write == 201 else 403
    )


# --- the pages ------------------------------------------------------------------------------


@pytest.fixture
def browser(client, make_user):
    def login(role):
        client.force_login(make_user(role))
        return client

    return login


def test_page_upload_shows_the_result_and_a_bad_file_as_a_form_error(browser, org, customer):
    invoice = issue(org, customer, "28000.00")
    page = browser(Role.ACCOUNTANT)
    url = reverse("billing:statement_list")
    assert page.get(url).status_code == 200
    bad = page.post(url, {"file": SimpleUploadedFile("x.csv", b"a;b\n1;2\n")})
    assert bad.status_code == 400
    assert "1CClientBankExchange" in bad.context["form"].errors["file"][0]
    good = page.post(
        url,
        {
            "file": SimpleUploadedFile(
                "kl_to_1c.txt", build(doc("41", "28000.00", customer.inn, f"сч. {invoice.number}"))
            )
        },
        follow=True,
    )
    statement = BankStatement.objects.get()
    assert good.redirect_chain[-1][0] == reverse("billing:statement_detail", args=[statement.pk])
    assert format_rub(Decimal("28000")) in good.content.decode() and str(invoice) in good.content.decode()
    assert BankStatement.objects.count() == 1


def test_waiting_page_assign_by_number_and_set_aside(browser, org, customer):
    invoice = issue(org, customer, "28000.00")
    imported(
        doc("51", "30000.00", customer.inn, "по сч 1"), doc("52", "5.00", make_inn10(4343), "возврат займа")
    )
    rows = {r.number: r for r in StatementPayment.objects.all()}
    page = browser(Role.ACCOUNTANT)
    page.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    shown = page.get(reverse("billing:statement_waiting")).content.decode()
    assert "возврат займа" in shown and f'value="{invoice.pk}"' in shown
    wrong = page.post(
        reverse("billing:statement_payment_assign", args=[rows["52"].pk]), {f"p{rows['52'].pk}-number": "777"}
    )
    assert wrong.status_code == 400 and "No open invoice" in wrong.content.decode()
    done = page.post(
        reverse("billing:statement_payment_assign", args=[rows["51"].pk]), {f"p{rows['51'].pk}-number": "1"}
    )
    assert done.status_code == 302
    flash = page.get(done.url).content.decode()
    assert format_rub(Decimal("30000.00")) in flash and "30000.00" not in flash
    assert page.post(reverse("billing:statement_payment_ignore", args=[rows["52"].pk])).status_code == 302
    assert {r.number: r.state for r in StatementPayment.objects.all()} == {
        "51": State.ASSIGNED,
        "52": State.IGNORED,
    }
    assert "Nothing waits" in page.get(reverse("billing:statement_waiting")).content.decode()


@pytest.mark.parametrize(("role", "read", "write"), [(Role.DIRECTOR, 200, 403), (Role.MANAGER, 403, 403)])
def test_page_permissions(browser, org, customer, role, read, write):
    imported(doc("61", "5.00", customer.inn, "?"))
    row = StatementPayment.objects.get()
    page = browser(role)
    assert page.get(reverse("billing:statement_list")).status_code == read
    assert page.get(reverse("billing:statement_waiting")).status_code == read
    assert (
        page.post(
            reverse("billing:statement_list"), {"file": SimpleUploadedFile("a.txt", build())}
        ).status_code
        == write
    )
    assert page.post(reverse("billing:statement_payment_ignore", args=[row.pk])).status_code == write
    assert BankStatement.objects.count() == 1 and StatementPayment.objects.get().state == State.UNMATCHED
