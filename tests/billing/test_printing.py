"""The printed «Счёт на оплату»: the PDF holds the requisites, lines, totals, VAT and the
amount in words; the GOST R 56042-2014 payment QR code says exactly what the bank app
needs and decodes, both as an image and from the printed page."""

import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from arenda.billing.printing import amount_in_words, payment_qr, payment_qr_payload, render_invoice_pdf
from arenda.billing.services import LineData, invoice_cancel, invoice_create, invoice_issue
from arenda.core.roles import Role
from arenda.directory.models import VatRate
from tests.factories import CounterpartyFactory, DealFactory, OrganizationFactory, make_inn12

pytestmark = pytest.mark.django_db

ON = date(2026, 11, 27)
HAS_ZBAR = shutil.which("zbarimg") is not None
HAS_PDFTOPPM = shutil.which("pdftoppm") is not None


def make_invoice(organization=None, lines=None, issue=True, **kwargs):
    organization = organization or OrganizationFactory(name="ООО «Кран-Сервис»", phone="+74951112233")
    counterparty = kwargs.pop("counterparty", None) or CounterpartyFactory(name="ООО «СтройМонтаж»")
    lines = lines or [LineData("Услуги автокрана 25 т с экипажем", Decimal("1"), Decimal("1234.50"))]
    invoice = invoice_create(
        kind="postpayment",
        counterparty=counterparty,
        organization=organization,
        lines=lines,
        by=None,
        **kwargs,
    )
    return invoice_issue(invoice=invoice, by=None, on=ON) if issue else invoice


def pdf_text(invoice) -> str:
    data = render_invoice_pdf(invoice)
    assert data.startswith(b"%PDF")
    reader = PdfReader(BytesIO(data))
    assert len(reader.pages) == 1
    return re.sub(r"[\s\u00a0\u202f]+", " ", reader.pages[0].extract_text())


def zbar(path) -> str:
    result = subprocess.run(
        ["zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", str(path)],
        capture_output=True,
        check=True,
    )
    return result.stdout.decode("utf-8").strip()


@pytest.mark.parametrize(
    "amount, words",
    [
        ("1234.50", "Одна тысяча двести тридцать четыре рубля 50 копеек"),
        ("120000", "Сто двадцать тысяч рублей 00 копеек"),
        ("1.01", "Один рубль 01 копейка"),
        ("21.22", "Двадцать один рубль 22 копейки"),
        ("11.11", "Одиннадцать рублей 11 копеек"),
        ("0.05", "Ноль рублей 05 копеек"),
        ("2000000.99", "Два миллиона рублей 99 копеек"),
    ],
)
def test_amount_in_words(amount, words):
    assert amount_in_words(Decimal(amount)) == words


def test_the_pdf_holds_requisites_lines_totals_vat_and_the_amount_in_words():
    deal = DealFactory(title="Аренда автокрана", counterparty=CounterpartyFactory(name="ООО «СтройМонтаж»"))
    invoice = make_invoice(deal=deal, counterparty=deal.counterparty)
    org, buyer = invoice.organization, invoice.counterparty
    text = pdf_text(invoice)
    assert f"Счёт на оплату № {invoice.number} от 27 ноября 2026 г." in text
    for requisite in (org.inn, org.kpp, org.bik, org.corr_account, org.account, org.bank_name, buyer.inn):
        assert requisite in text
    assert "Банк получателя" in text and "Получатель" in text
    assert "Поставщик (Исполнитель):" in text and "ООО «Кран-Сервис»" in text
    assert "Покупатель (Заказчик):" in text and "ООО «СтройМонтаж»" in text and buyer.kpp in text
    assert f"Основание: Сделка № {deal.pk}" in text
    assert "Товары (работы, услуги)" in text
    assert "Услуги автокрана 25 т с экипажем 1 ч 1 234,50 1 234,50" in text
    assert "Итого: 1 234,50" in text
    assert "В том числе НДС (22 %): 222,61" in text  # 1234.50 × 22/122
    assert "Всего к оплате: 1 234,50" in text
    assert "Всего наименований 1, на сумму 1 234,50 руб." in text
    assert "Одна тысяча двести тридцать четыре рубля 50 копеек" in text
    assert "Оплатить не позднее 02.12.2026" in text  # five days' terms
    assert "Руководитель" in text and "/ Иванов И. И. /" in text
    assert "Бухгалтер" in text and "/ Петрова А. А. /" in text
    assert "ЧЕРНОВИК" not in text


def test_a_seller_without_vat_prints_without_tax_and_in_russian_whatever_the_language():
    org = OrganizationFactory(vat_rate=VatRate.NONE)
    lines = [LineData(f"Услуга {n}", Decimal("2"), Decimal("1000")) for n in range(1, 4)]
    invoice = make_invoice(organization=org, lines=lines)
    with translation.override("en"):
        text = pdf_text(invoice)
    assert "Без налога (НДС)" in text
    assert "В том числе НДС" not in text
    assert "Всего наименований 3, на сумму 6 000,00 руб." in text
    assert "Шесть тысяч рублей 00 копеек" in text


def test_a_draft_prints_marked_without_number_and_qr():
    invoice = make_invoice(issue=False)
    text = pdf_text(invoice)
    assert "ЧЕРНОВИК" in text and "Счёт на оплату (черновик)" in text
    assert payment_qr_payload(invoice) == ""


def test_ten_lines_fit_one_page():
    lines = [
        LineData(f"Услуги автокрана 25 т с экипажем, {d:02d}.12.2026, Москва, ул. Строителей, 5", 8, 3500)
        for d in range(1, 11)
    ]
    invoice = make_invoice(lines=lines)
    text = pdf_text(invoice)
    assert "Всего наименований 10, на сумму 280 000,00 руб." in text


# --- the payment QR code -------------------------------------------------------------------
def test_the_qr_payload_is_exact():
    invoice = make_invoice()
    org = invoice.organization
    assert payment_qr_payload(invoice) == (
        f"ST00012|Name={org.full_name}|PersonalAcc={org.account}|BankName=ПАО Сбербанк"
        f"|BIC=044525225|CorrespAcc={org.corr_account}|Sum=123450"
        f"|Purpose={invoice.purpose}. В т.ч. НДС (22 %) 222,61 руб."
        f"|PayeeINN={org.inn}|KPP=770101001"
    )


def test_the_qr_payload_keeps_the_limits_and_drops_separators():
    org = OrganizationFactory(
        vat_rate=VatRate.NONE,
        name="ИП Иванов|Иван",
        full_name="Индивидуальный предприниматель " + "очень длинное имя " * 10,
        inn=make_inn12(77),
        kpp="",
        bank_name="Акционерное общество «Банк с очень длинным названием для проверки»",
    )
    lines = [LineData("Услуги", Decimal("3"), Decimal("333.33"))]
    invoice = make_invoice(organization=org, lines=lines)
    payload = payment_qr_payload(invoice)
    fields = payload.split("|")
    assert fields[0] == "ST00012"
    keys = [field.split("=", 1)[0] for field in fields[1:]]
    assert keys == ["Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc", "Sum", "Purpose", "PayeeINN"]
    values = dict(field.split("=", 1) for field in fields[1:])
    assert values["Name"] == "ИП Иванов Иван"  # the full name is over 160: the short one, no "|"
    assert len(values["BankName"]) == 45
    assert values["Sum"] == "99999"
    assert len(values["Purpose"]) <= 210 and values["Purpose"].endswith("НДС не облагается")


def test_no_bank_account_no_qr():
    invoice = make_invoice(
        organization=OrganizationFactory(account="", corr_account="", bik="", bank_name="")
    )
    assert payment_qr_payload(invoice) == ""
    assert "Счёт на оплату" in pdf_text(invoice)


@pytest.mark.skipif(not HAS_ZBAR, reason="zbarimg is not installed (apt-get install zbar-tools)")
def test_the_qr_image_decodes(tmp_path):
    invoice = make_invoice()
    payload = payment_qr_payload(invoice)
    payment_qr(payload).save(tmp_path / "qr.png", scale=10)
    assert zbar(tmp_path / "qr.png") == payload
    assert "|Sum=123450|" in payload


@pytest.mark.skipif(
    not (HAS_ZBAR and HAS_PDFTOPPM),
    reason="needs zbarimg and pdftoppm (apt-get install zbar-tools poppler-utils)",
)
def test_the_qr_on_the_printed_page_decodes(tmp_path):
    lines = [LineData(f"Услуги автокрана, смена {n}", Decimal("8"), Decimal("3500")) for n in range(1, 6)]
    invoice = make_invoice(lines=lines)
    (tmp_path / "invoice.pdf").write_bytes(render_invoice_pdf(invoice))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "200", "-singlefile", tmp_path / "invoice.pdf", tmp_path / "page"],
        check=True,
    )
    decoded = zbar(tmp_path / "page.png")
    assert decoded == payment_qr_payload(invoice)
    assert decoded.startswith("ST00012|Name=") and "|Sum=14000000|" in decoded


# --- the page -------------------------------------------------------------------------------
@pytest.mark.parametrize("role", [Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR, Role.ADMIN])
def test_every_role_gets_the_pdf(client, make_user, role):
    invoice = make_invoice()
    client.force_login(make_user(role))
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    name = f"Schet-{invoice.number}-{invoice.year}-{invoice.organization.inn}.pdf"  # which entity's № it is
    assert f'filename="{name}"' in response["Content-Disposition"]


def test_a_cancelled_invoice_does_not_print_and_strangers_are_sent_to_log_in(client, make_user):
    invoice = make_invoice()
    url = reverse("billing:invoice_pdf", args=[invoice.pk])
    assert client.get(url).status_code == 302
    invoice_cancel(invoice=invoice, reason="Ошибка в реквизитах", by=None)
    client.force_login(make_user(Role.ACCOUNTANT))
    assert client.get(url).status_code == 404
    assert client.get(reverse("billing:invoice_pdf", args=[invoice.pk + 1000])).status_code == 404


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR, Role.ADMIN])
def test_the_api_gives_the_pdf(api, role):
    invoice = make_invoice()
    response = api(role).get(f"/api/v1/invoices/{invoice.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_the_api_has_no_pdf_of_a_cancelled_invoice(api):
    invoice = invoice_cancel(invoice=make_invoice(), reason="Дубль", by=None)
    assert api(Role.MANAGER).get(f"/api/v1/invoices/{invoice.pk}/pdf/").status_code == 404
