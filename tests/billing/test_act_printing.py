"""The printed closing documents (``billing/act_printing.py``): the act, the УПД and the
correction, read back from the PDF with pypdf — both parties' requisites, each line with
its plate, totals, VAT 22 % or «Без НДС», the amount in words, the no-claims line, the
УПД's status box and a correction's figures before and after."""

import re
from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader

from arenda.billing import acts
from arenda.billing.act_printing import act_filename, render_act_html, render_act_pdf
from arenda.billing.models import Act
from arenda.directory.models import VatRate
from arenda.flows.trips import waybill_update
from tests.billing.test_acts import one_customer, worked
from tests.bookings.test_waybills import job

pytestmark = pytest.mark.django_db
D = Decimal


def pdf_text(act) -> str:
    data = render_act_pdf(act)
    assert data.startswith(b"%PDF")
    reader = PdfReader(BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def pages(act) -> list:
    return PdfReader(BytesIO(render_act_pdf(act))).pages


def closed(booking=None, *, form="act", vat=VatRate.NONE, hours="9", km="0", issue=True, **job_args):
    """A booking with its waybill and its act, our legal entity closing with ``form``."""
    booking = booking or job(**job_args)
    organization = booking.deal.organization
    organization.closing_form, organization.vat_rate = form, vat
    organization.save()
    worked(booking, hours=hours, km=km)
    act = Act.objects.get(booking_links__booking=booking)
    return acts.act_issue(act=act, by=None) if issue else act


def test_the_act_holds_both_parties_lines_totals_without_vat_and_the_no_claims_line():
    booking = job(min_hours="4", rate="3500.00", rate_km="120.00")
    act = closed(booking, form="act", vat=VatRate.NONE, hours="9", km="42")
    org, customer = act.organization, act.counterparty
    text = pdf_text(act)
    assert f"Акт № {act.number} от" in text
    assert f"ИНН {org.inn}" in text and f"КПП {org.kpp}" in text and org.account in text and org.bik in text
    assert f"ИНН {customer.inn}" in text and f"КПП {customer.kpp}" in text
    assert "Исполнитель:" in text and "Заказчик:" in text and "Основание:" in text
    plate = booking.unit.plate
    assert re.search(rf"1 Услуги .*{plate}.* 9 ч 3 500,00 31 500,00", text)
    assert re.search(r"2 .* 42 км 120,00 5 040,00", text)
    assert "Итого: 36 540,00" in text
    assert "Без НДС" in text and "В том числе НДС" not in text
    assert "Всего оказано услуг 2, на сумму 36 540,00 руб." in text
    assert "Тридцать шесть тысяч пятьсот сорок рублей 00 копеек" in text
    assert (
        "Вышеперечисленные услуги выполнены полностью и в срок. Заказчик претензий по объёму, "
        "качеству и срокам оказания услуг не имеет." in text
    )
    assert "ИСПОЛНИТЕЛЬ" in text and "ЗАКАЗЧИК" in text and text.count("М.П.") == 2
    assert org.director in text
    assert len(pages(act)) == 1


def test_an_act_with_vat_states_the_vat_included():
    act = closed(form="act", vat=VatRate.VAT22, hours="9")  # 9 h × 3 500,00
    text = pdf_text(act)
    assert "В том числе НДС 22 %: 5 680,33" in text
    assert "Без НДС" not in text
    assert "Тридцать одна тысяча пятьсот рублей 00 копеек" in text


def test_the_upd_with_vat_is_status_1_with_the_tax_columns():
    booking = job(min_hours="4", rate="3500.00", rate_km="120.00")
    act = closed(booking, form="upd", vat=VatRate.VAT22, hours="9", km="42")
    assert (act.form, act.upd_status) == (Act.Form.UPD, 1)
    org, customer = act.organization, act.counterparty
    text = pdf_text(act)
    assert "Универсальный передаточный документ" in text and "Статус: 1" in text
    assert f"Счёт-фактура № {act.number} от {act.date:%d.%m.%Y}" in text
    assert f"{org.inn}/{org.kpp}" in text and f"{customer.inn}/{customer.kpp}" in text
    assert "Российский рубль, 643" in text
    assert f"Документ об отгрузке: № п/п 1–2 № {act.number} от {act.date:%d.%m.%Y}" in text
    # 9 h: 31 500,00 with VAT, 5 680,33 of it the tax; the ОКЕИ code 356 «ч», 008 «км»
    assert re.search(
        rf"{booking.unit.plate}.* 356 ч 9 2 868,85 25 819,67 без акциза 22% 5 680,33 31 500,00", text
    )
    assert re.search(r"008 км 42 98,36 4 131,15 без акциза 22% 908,85 5 040,00", text)
    assert "Всего к оплате 29 950,82 X 6 589,18 36 540,00" in text
    assert "Тридцать шесть тысяч пятьсот сорок рублей 00 копеек" in text
    assert "Товар (груз) передал / услуги, результаты работ, права сдал" in text
    assert "Товар (груз) получил / услуги, результаты работ, права принял" in text
    assert org.director in text and org.accountant in text
    page = pages(act)[0]
    assert page.mediabox.width > page.mediabox.height  # landscape


def test_the_upd_without_vat_is_status_2_without_the_tax():
    act = closed(form="upd", vat=VatRate.NONE, hours="9")
    assert (act.form, act.upd_status) == (Act.Form.UPD, 2)
    text = pdf_text(act)
    assert "Статус: 2" in text
    assert "9 3 500,00 31 500,00 без акциза без НДС без НДС 31 500,00" in text
    assert "Всего к оплате 31 500,00 X без НДС 31 500,00" in text


def test_a_correction_prints_the_figures_before_and_after_and_the_difference():
    booking = job(min_hours="4", rate="3500.00")
    act = closed(booking, form="act", vat=VatRate.NONE, hours="8")
    waybill_update(waybill=booking.waybills.get(), data={"hours": D("10")}, by=booking.deal.manager)
    correction = acts.act_issue(act=Act.objects.get(corrects=act), by=None)
    text = pdf_text(correction)
    assert (
        f"Корректировочный акт № {correction.number} от {correction.date:%d.%m.%Y} "
        f"к акту № {act.number} от {act.date:%d.%m.%Y}"
    ) in text
    # quantity 8 → 10, price, amount 28 000 → 35 000, an increase of 7 000
    assert re.search(rf"{booking.unit.plate}.* ч 8 10 3 500,00 3 500,00 28 000,00 35 000,00 7 000,00 —", text)
    assert "Итого увеличение стоимости: +7 000,00" in text
    assert "Семь тысяч рублей 00 копеек" in text
    assert f"ИНН {act.organization.inn}" in text and f"ИНН {act.counterparty.inn}" in text


def test_a_correction_down_of_a_upd_with_vat():
    booking = job(min_hours="4", rate="3500.00")
    act = closed(booking, form="upd", vat=VatRate.VAT22, hours="10")
    waybill_update(waybill=booking.waybills.get(), data={"hours": D("8")}, by=booking.deal.manager)
    correction = Act.objects.get(corrects=act)
    text = pdf_text(correction)  # a draft prints, marked and without a number
    assert "ЧЕРНОВИК" in text
    assert f"Корректировочный счёт-фактура № (черновик) к счёт-фактуре № {act.number}" in text
    assert "Статус: 1" in text
    # 35 000 → 28 000: a decrease of 7 000, of it 1 262,30 VAT
    assert "ч 10 8 3 500,00 3 500,00 35 000,00 28 000,00 — 7 000,00 22 % 6 311,48 5 049,18 — 1 262,30" in text
    assert "Итого уменьшение стоимости: −7 000,00" in text
    assert "В том числе НДС 22 %: −1 262,30" in text


def test_a_draft_prints_marked_and_without_a_number():
    act = closed(form="act", vat=VatRate.NONE, issue=False)
    text = pdf_text(act)
    assert "ЧЕРНОВИК" in text and "Акт (черновик) от" in text
    assert act_filename(act) == f"Akt-draft-{act.pk}.pdf"


def test_the_monthly_act_prints_a_line_per_booking(time_machine):
    time_machine.move_to("2026-11-18 12:00+03:00", tick=False)
    bookings = one_customer(3)
    organization = bookings[0].deal.organization
    organization.closing_form, organization.vat_rate = "act", VatRate.NONE
    organization.save()
    for booking in bookings:
        worked(booking, number=f"ПЛ-{booking.pk}")
    [act] = acts.act_for_month(
        counterparty=bookings[0].deal.counterparty, month=bookings[0].start.date(), by=None
    )
    text = pdf_text(acts.act_issue(act=act, by=None))
    for booking in bookings:
        assert booking.unit.plate in text
    assert "Всего оказано услуг 3, на сумму 84 000,00 руб." in text


def test_file_names_and_the_html_is_in_the_companys_language():
    act = closed(form="upd", vat=VatRate.VAT22)
    assert act_filename(act) == f"UPD-{act.number}-{act.year}-{act.organization.inn}.pdf"
    html = render_act_html(act)  # the tests run in English outside requests
    assert 'lang="ru"' in html and "Статус" in html
