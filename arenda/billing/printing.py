"""The printable «Счёт на оплату»: its PDF, the amount in words and the payment QR code.

The invoice is a Russian accounting document, so it is in Russian whatever the user's
interface language, laid out as accountants know it from 1C's printed form. A draft prints
marked «ЧЕРНОВИК», without a number and without a QR code: nobody should pay it.
"""

import re
from decimal import Decimal

import segno
from django.template.loader import render_to_string
from django.utils import timezone, translation
from num2words import CONVERTER_CLASSES, num2words

from arenda.billing.models import Invoice
from arenda.bookings.telematics_paper import overtime_invoice_appendix
from arenda.core.formats import phone_display
from arenda.core.money import format_rub, to_money, vat_rate_percent
from arenda.crm.proposal import date_in_words

QR_HEADER = "ST00012"  # GOST R 56042-2014, version 0001, "2" = UTF-8
QR_LIMITS = {"Name": 160, "BankName": 45, "Purpose": 210}


def amount_in_words(amount) -> str:
    """1234.50 → «Одна тысяча двести тридцать четыре рубля 50 копеек»: roubles in words,
    kopecks in two digits, as Russian invoices write it."""
    amount = to_money(amount)
    rubles_part, _kopecks_words = num2words(amount, lang="ru", to="currency", currency="RUB").split(", ")
    kopecks = int(amount * 100) % 100
    converter = CONVERTER_CLASSES["ru"]
    kopeck_word = converter.pluralize(kopecks, converter.CURRENCY_FORMS["RUB"][1])
    return f"{rubles_part[:1].upper()}{rubles_part[1:]} {kopecks:02d} {kopeck_word}"


def _number(value) -> str:
    """«12 500,00» — money in a table, where the currency is in the header."""
    return format_rub(value).removesuffix("\u00a0₽")


def _quantity(value: Decimal) -> str:
    """8.000 → «8», 1.500 → «1,5»."""
    text = f"{value.normalize():f}"
    return text.replace(".", ",")


def _qr_value(value) -> str:
    """A field value: no separators, no line breaks (a value cannot carry them)."""
    return re.sub(r"\s+", " ", str(value or "").replace("|", " ")).strip()


def _payee_name(organization) -> str:
    full = _qr_value(organization.full_name)
    return full if full and len(full) <= QR_LIMITS["Name"] else _qr_value(organization.name)


def payment_purpose(invoice: Invoice) -> str:
    """What the payer's bank puts in the payment order: the invoice and its VAT (banks
    expect the VAT stated in a payment's purpose)."""
    base = invoice.purpose or f"Оплата по счёту № {invoice.number} от {invoice.date:%d.%m.%Y}"
    rate = vat_rate_percent(invoice.vat_rate)
    vat = "НДС не облагается" if rate is None else f"В т.ч. НДС ({rate} %) {_number(invoice.vat_amount)} руб."
    return f"{base.rstrip('. ')}. {vat}"


def payment_qr_payload(invoice: Invoice) -> str:
    """The GOST R 56042-2014 string a bank app reads to fill in the payment; empty when our
    legal entity has no bank account to pay to (or the invoice is a draft)."""
    org = invoice.organization
    if invoice.status == Invoice.Status.DRAFT or not (org.account and org.bik and org.bank_name):
        return ""
    fields = [
        ("Name", _payee_name(org)),
        ("PersonalAcc", org.account),
        ("BankName", org.bank_name),
        ("BIC", org.bik),
        ("CorrespAcc", org.corr_account or "0"),
        ("Sum", str(int(to_money(invoice.total) * 100))),
        ("Purpose", payment_purpose(invoice)),
        ("PayeeINN", org.inn),
        ("KPP", org.kpp),
    ]
    parts = [QR_HEADER]
    for name, value in fields:
        value = _qr_value(value)[: QR_LIMITS.get(name)]
        if value:
            parts.append(f"{name}={value}")
    return "|".join(parts)


def payment_qr(payload: str) -> segno.QRCode:
    # Level M as the standard asks; segno would otherwise raise it when it fits.
    return segno.make(payload, error="m", encoding="utf-8", boost_error=False, micro=False)


def _party(name, inn="", kpp="", address="", phone="") -> str:
    parts = [name]
    parts += [f"ИНН {inn}"] if inn else []
    parts += [f"КПП {kpp}"] if kpp else []
    parts += [address] if address else []
    parts += [f"тел.: {phone}"] if phone else []
    return ", ".join(parts)


def _basis(invoice: Invoice) -> str:
    if invoice.deal_id:
        deal = invoice.deal
        return f"Сделка № {deal.pk} от {timezone.localdate(deal.created_at):%d.%m.%Y} «{deal.title}»"
    if invoice.booking_id:
        return f"Заявка № {invoice.booking_id}"
    return ""


def invoice_context(invoice: Invoice) -> dict:
    org, customer = invoice.organization, invoice.counterparty
    lines = list(invoice.lines.all())
    payload = payment_qr_payload(invoice)
    return {
        "invoice": invoice,
        "draft": invoice.status == Invoice.Status.DRAFT,
        "org": org,
        "payee": org.full_name or org.name,
        "title_date": date_in_words(invoice.date or timezone.localdate()),
        "supplier": _party(org.name, org.inn, org.kpp, org.address, phone_display(org.phone)),
        "buyer": _party(customer.full_name or customer.name, customer.inn, customer.kpp, customer.address),
        "basis": _basis(invoice),
        "lines": [
            {
                "n": n,
                "description": line.description,
                "quantity": _quantity(line.quantity),
                "unit": line.unit,
                "price": _number(line.price),
                "amount": _number(line.amount),
            }
            for n, line in enumerate(lines, start=1)
        ],
        "total": _number(invoice.total),
        "vat_percent": vat_rate_percent(invoice.vat_rate),
        "vat_amount": _number(invoice.vat_amount),
        "count": len(lines),
        "in_words": amount_in_words(invoice.total),
        "qr": payment_qr(payload).svg_data_uri(border=0) if payload else "",
        "telematics": overtime_invoice_appendix(invoice),
    }


def render_invoice_html(invoice: Invoice) -> str:
    with translation.override("ru"):
        return render_to_string("billing/invoice_print.html", invoice_context(invoice))


def render_invoice_pdf(invoice: Invoice) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is made

    return HTML(string=render_invoice_html(invoice)).write_pdf()


def invoice_filename(invoice: Invoice) -> str:
    """«Schet-8-2026-7707083893.pdf»: the number, its year and our legal entity's ИНН — each
    legal entity numbers its invoices from 1 every year."""
    if not invoice.number:
        return f"Schet-draft-{invoice.pk}.pdf"
    return f"Schet-{invoice.number}-{invoice.year}-{invoice.organization.inn}.pdf"
