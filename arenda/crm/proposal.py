"""The commercial proposal (КП): what it says (``proposal_context``) and its PDF.

The КП is a Russian business document sent to the customer, so its wording is Russian
whatever the manager's interface language; the page around it (buttons, notices) is
translated as usual.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone, translation

from arenda.core.money import to_money, vat_included, vat_rate_percent
from arenda.crm.models import Deal, DealLine
from arenda.directory.models import Organization

VALID_DAYS = 7
MONTHS = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip


def date_in_words(day: date) -> str:
    """«5 марта 2026 г.» — the date as Russian documents write it."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year} г."


def organization_for(deal: Deal) -> tuple[Organization | None, bool]:
    """Our legal entity of the deal; without one, the first active — and say it was guessed."""
    if deal.organization_id:
        return deal.organization, False
    return Organization.objects.default(), True


def valid_until(deal: Deal) -> date:
    return deal.proposal_valid_until or timezone.localdate() + timedelta(days=VALID_DAYS)


@dataclass(frozen=True)
class Totals:
    total: Decimal
    vat: Decimal | None
    vat_percent: Decimal | None


def totals(lines: list[DealLine], vat_rate: str | None) -> Totals:
    """Sum of the lines, each rounded to kopecks; VAT is inside the prices."""
    total = to_money(sum((line.amount for line in lines), Decimal(0)))
    rate = vat_rate or "none"
    return Totals(total, vat_included(total, rate), vat_rate_percent(rate))


def proposal_context(deal: Deal) -> dict:
    organization, guessed = organization_for(deal)
    lines = list(deal.lines.select_related("equipment_type"))
    return {
        "deal": deal,
        "org": organization,
        "org_guessed": guessed,
        "customer": deal.counterparty,
        "contact": deal.contact,
        "manager": deal.manager,
        "lines": lines,
        "totals": totals(lines, organization.vat_rate if organization else None),
        "issued": date_in_words(timezone.localdate()),
        "valid_until": date_in_words(valid_until(deal)),
    }


def render_proposal_html(deal: Deal, template: str = "crm/proposal.html") -> str:
    """The whole document, or (``crm/proposal_body.html``) the part a web page embeds."""
    with translation.override("ru"):
        return render_to_string(template, proposal_context(deal))


def render_proposal_pdf(deal: Deal) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is made

    return HTML(string=render_proposal_html(deal)).write_pdf()


def proposal_filename(deal: Deal) -> str:
    return f"KP-{deal.pk}.pdf"
