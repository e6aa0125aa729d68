"""The commercial proposal (КП): what it says (``proposal_context``) and its PDF.

The КП is a Russian business document sent to the customer, so its wording is Russian
whatever the manager's interface language; the page around it (buttons, notices) is
translated as usual.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone, translation

from arenda.core.money import to_money, vat_included, vat_rate_percent
from arenda.crm.models import Deal, DealLine, ProposalResponse
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


def company_today() -> date:
    """Today in the company's time zone (``TIME_ZONE``, Europe/Moscow), whoever asks."""
    return timezone.localdate(timezone=timezone.get_default_timezone())


def valid_until(deal: Deal) -> date:
    """The deal's own date; without one, VALID_DAYS from the day its link was made (from
    today while there is no link yet)."""
    if deal.proposal_valid_until:
        return deal.proposal_valid_until
    if deal.proposal_sent_at:
        sent = timezone.localdate(deal.proposal_sent_at, timezone=timezone.get_default_timezone())
    else:
        sent = company_today()
    return sent + timedelta(days=VALID_DAYS)


def is_expired(deal: Deal) -> bool:
    """The last day of validity is over, in the company's time zone."""
    return company_today() > valid_until(deal)


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


def _number(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def _moment(value) -> str:
    return value.astimezone(UTC).isoformat()


def _version(deal: Deal, lines: list[DealLine], organization: Organization | None, total: Totals) -> str:
    """A hash of what the КП states: the lines, the totals, our legal entity, the validity.
    Not what only decorates it (the date it is printed, the manager's phone)."""
    stated = {
        "lines": [
            [
                line.equipment_type_id,
                str(line.equipment_type),
                _number(line.min_capacity_t),
                _moment(line.start),
                _moment(line.end),
                _number(line.ordered_hours),
                _number(line.min_hours),
                _number(line.rate_per_hour),
                _number(line.km),
                _number(line.rate_per_km),
                line.site_address,
                line.notes,
            ]
            for line in lines
        ],
        "totals": [str(total.total), str(total.vat), str(total.vat_percent)],
        "organization": [organization.pk, organization.name, organization.inn, organization.vat_rate]
        if organization
        else None,
        "valid_until": valid_until(deal).isoformat(),
    }
    text = json.dumps(stated, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _stated(deal: Deal):
    organization, guessed = organization_for(deal)
    lines = list(deal.lines.select_related("equipment_type"))
    total = totals(lines, organization.vat_rate if organization else None)
    return organization, guessed, lines, total


def proposal_version(deal: Deal) -> str:
    """The version of the КП as it stands: the customer's page sends it back with the
    acceptance, and the agreement is refused when it no longer matches
    (``crm.services.proposal_check``)."""
    organization, _guessed, lines, total = _stated(deal)
    return _version(deal, lines, organization, total)


def proposal_context(deal: Deal) -> dict:
    """What the document shows, and its ``version`` — computed from the same reading, so a
    page states exactly the version it sends back."""
    organization, guessed, lines, total = _stated(deal)
    return {
        "deal": deal,
        "org": organization,
        "org_guessed": guessed,
        "customer": deal.counterparty,
        "contact": deal.contact,
        "manager": deal.manager,
        "lines": lines,
        "totals": total,
        "issued": date_in_words(timezone.localdate()),
        "valid_until": date_in_words(valid_until(deal)),
        "version": _version(deal, lines, organization, total),
    }


def render_proposal_html(deal: Deal, template: str = "crm/proposal.html", context: dict | None = None) -> str:
    """The whole document, or (``crm/proposal_body.html``) the part a web page embeds;
    ``context`` when the caller has read it already (``proposal_context``)."""
    with translation.override("ru"):
        return render_to_string(template, context or proposal_context(deal))


def render_proposal_pdf(deal: Deal) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is made

    return HTML(string=render_proposal_html(deal)).write_pdf()


def proposal_filename(deal: Deal) -> str:
    return f"KP-{deal.pk}.pdf"


@dataclass(frozen=True)
class ProposalState:
    """Where the КП stands for the customer's page and the deal page."""

    version: str
    valid_until: date
    # past its validity while there is still something to accept
    expired: bool
    # the customer's latest decline, of whichever version
    declined: ProposalResponse | None
    # the customer's latest request for a new КП, while the КП is still the one it asked about
    renewal: ProposalResponse | None

    @property
    def declined_now(self) -> bool:
        """The decline is of the КП as it stands (not of one changed since)."""
        return self.declined is not None and self.declined.version == self.version


def proposal_state(deal: Deal, version: str | None = None) -> ProposalState:
    version = version or proposal_version(deal)
    latest = {}
    kinds = [ProposalResponse.Kind.DECLINED, ProposalResponse.Kind.RENEWAL]
    for response in deal.proposal_responses.filter(kind__in=kinds).order_by("-created_at", "-id")[:20]:
        latest.setdefault(response.kind, response)
    renewal = latest.get(ProposalResponse.Kind.RENEWAL)
    return ProposalState(
        version=version,
        valid_until=valid_until(deal),
        expired=deal.is_editable() and is_expired(deal),
        declined=latest.get(ProposalResponse.Kind.DECLINED),
        renewal=renewal if renewal is not None and renewal.version == version else None,
    )
