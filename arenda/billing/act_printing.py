"""The printed closing documents (docs/closing-forms.md): «Акт № N от DATE», the УПД
(status 1 or 2) and the correction document, as HTML and as an A4 PDF (WeasyPrint).

They are Russian accounting documents, so — like the invoice (``billing/printing.py``,
whose helpers they share) — they are printed in the company's language with the fixed
labels of the forms accountants know. A draft prints marked «ЧЕРНОВИК», without a number.
"""

from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from arenda.billing.models import Act
from arenda.billing.printing import _number, _party, _quantity, amount_in_words
from arenda.core.money import to_money, vat_included, vat_rate_percent
from arenda.crm.proposal import date_in_words

ZERO = Decimal("0.00")
# ОКЕИ codes of the units acts use (the УПД's column 2).
UNIT_CODES = {"ч": "356", "км": "008", "шт": "796", "усл. ед.": "876", "сут": "359", "мес": "362"}
DASH = "—"
TEMPLATES = {
    Act.Form.ACT: "billing/act_print.html",
    Act.Form.UPD: "billing/upd_print.html",
}
CORRECTION_TEMPLATE = "billing/act_correction_print.html"


def _requisites(party) -> str:
    """«ООО «Кран», ИНН …, КПП …, address, р/с … в банке …, БИК …, к/с …»: a party of an act
    as 1C prints it."""
    parts = [_party(party.full_name or party.name, party.inn, party.kpp, party.address)]
    if party.account:
        parts.append(f"р/с {party.account}")
    if party.bank_name:
        parts.append(f"в банке {party.bank_name}")
    if party.bik:
        parts.append(f"БИК {party.bik}")
    if party.corr_account:
        parts.append(f"к/с {party.corr_account}")
    return ", ".join(parts)


def _inn_kpp(party) -> str:
    return "/".join(value for value in (party.inn, party.kpp) if value) or DASH


def _signed(value) -> str:
    """A difference: «+7 000,00», «−3 500,00», «0,00»."""
    value = to_money(value)
    if value > 0:
        return f"+{_number(value)}"
    if value < 0:
        return f"−{_number(-value)}"
    return _number(value)


def _day(value) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def _document_name(act: Act) -> str:
    """How the corrected document is named in a correction's title."""
    if act.form == Act.Form.UPD:
        return "счёт-фактуре" if act.upd_status == 1 else "передаточному документу"
    return "акту"


def _vat(amount, rate: str) -> Decimal:
    return vat_included(amount, rate) or ZERO


def _line(n: int, line, rate: str, percent) -> dict:
    amount = to_money(line.amount)
    vat = _vat(amount, rate)
    net = amount - vat
    price_net = to_money(net / line.quantity) if line.quantity else to_money(line.price)
    return {
        "n": n,
        "description": line.description,
        "quantity": _quantity(line.quantity),
        "unit": line.unit,
        "unit_code": UNIT_CODES.get(line.unit, DASH),
        "price": _number(line.price),
        "amount": _number(amount),
        "price_net": _number(price_net),
        "amount_net": _number(net),
        "rate": "без НДС" if percent is None else f"{percent:g}%",
        "vat": "без НДС" if percent is None else _number(vat),
    }


def _correction_line(n: int, line, rate: str, percent) -> dict:
    before, after = to_money(line.amount_before or 0), to_money(line.amount)
    vat_before, vat_after = _vat(before, rate), _vat(after, rate)
    diff, vat_diff = after - before, vat_after - vat_before
    return {
        "n": n,
        "description": line.description,
        "unit": line.unit,
        "unit_code": UNIT_CODES.get(line.unit, DASH),
        "quantity_before": _quantity(line.quantity_before or Decimal("0")),
        "quantity_after": _quantity(line.quantity),
        "price_before": _number(line.price_before if line.price_before is not None else line.price),
        "price_after": _number(line.price),
        "amount_before": _number(before),
        "amount_after": _number(after),
        "vat_before": "без НДС" if percent is None else _number(vat_before),
        "vat_after": "без НДС" if percent is None else _number(vat_after),
        "increase": _number(diff) if diff > 0 else DASH,
        "decrease": _number(-diff) if diff < 0 else DASH,
        "vat_increase": _number(vat_diff) if percent is not None and vat_diff > 0 else DASH,
        "vat_decrease": _number(-vat_diff) if percent is not None and vat_diff < 0 else DASH,
        "diff": diff,
        "vat_diff": vat_diff,
    }


def act_context(act: Act) -> dict:
    """What the printed document shows, every figure formatted as printed."""
    org, customer = act.organization, act.counterparty
    lines = list(act.lines.order_by("position", "pk"))
    percent = vat_rate_percent(act.vat_rate)
    total, vat = to_money(act.total), to_money(act.vat_amount)
    draft = act.status == Act.Status.DRAFT
    context = {
        "act": act,
        "draft": draft,
        "org": org,
        "customer": customer,
        "executor": _requisites(org),
        "buyer": _requisites(customer),
        "seller_name": org.full_name or org.name,
        "buyer_name": customer.full_name or customer.name,
        "seller_inn_kpp": _inn_kpp(org),
        "buyer_inn_kpp": _inn_kpp(customer),
        "number": act.number,
        "date": _day(act.date),
        "title_date": date_in_words(act.date or timezone.localdate()),
        "period": f"{_day(act.period_start)}–{_day(act.period_end)}"
        if act.period_start != act.period_end
        else _day(act.period_start),
        "basis": act.basis,
        "upd_status": act.upd_status,
        "vat_percent": percent,
        "count": len(lines),
        "director": org.director,
        "accountant": org.accountant,
    }
    if act.is_correction:
        rows = [_correction_line(n, line, act.vat_rate, percent) for n, line in enumerate(lines, start=1)]
        original = act.corrects
        before = sum((to_money(line.amount_before or 0) for line in lines), ZERO)
        after = sum((to_money(line.amount) for line in lines), ZERO)
        increase = sum((row["diff"] for row in rows if row["diff"] > 0), ZERO)
        decrease = -sum((row["diff"] for row in rows if row["diff"] < 0), ZERO)
        vat_increase = sum((row["vat_diff"] for row in rows if row["vat_diff"] > 0), ZERO)
        vat_decrease = -sum((row["vat_diff"] for row in rows if row["vat_diff"] < 0), ZERO)
        context.update(
            lines=rows,
            original=original,
            original_name=_document_name(original),
            original_number=original.number,
            original_date=_day(original.date),
            upd_origin=original.form == Act.Form.UPD,
            total_before=_number(before),
            total_after=_number(after),
            vat_before=_number(_vat(before, act.vat_rate)),
            vat_after=_number(_vat(after, act.vat_rate)),
            increase=_number(increase) if increase else DASH,
            decrease=_number(decrease) if decrease else DASH,
            vat_increase=_number(vat_increase) if percent is not None and vat_increase else DASH,
            vat_decrease=_number(vat_decrease) if percent is not None and vat_decrease else DASH,
            difference=_signed(total),
            raised=total > 0,
            lowered=total < 0,
            vat_difference=_signed(vat),
            in_words=amount_in_words(abs(total)),
        )
    else:
        context.update(
            lines=[_line(n, line, act.vat_rate, percent) for n, line in enumerate(lines, start=1)],
            total=_number(total),
            total_net=_number(total - vat),
            vat_amount=_number(vat),
            in_words=amount_in_words(total),
        )
    return context


def act_template(act: Act) -> str:
    return CORRECTION_TEMPLATE if act.is_correction else TEMPLATES[act.form]


def render_act_html(act: Act) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(act_template(act), act_context(act))


def render_act_pdf(act: Act) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is made

    return HTML(string=render_act_html(act)).write_pdf()


def act_filename(act: Act) -> str:
    """«Akt-5-2026-7707083893.pdf», «UPD-…», «Korr-akt-…»: the kind, the number, its year and
    our legal entity's ИНН — each legal entity numbers its acts from 1 every year."""
    kind = "Korr-akt" if act.is_correction else ("UPD" if act.form == Act.Form.UPD else "Akt")
    if not act.number:
        return f"{kind}-draft-{act.pk}.pdf"
    return f"{kind}-{act.number}-{act.year}-{act.organization.inn}.pdf"
