"""Search everywhere: the header's field, the ``/search/`` page and ``GET /api/v1/search/``
read this one module (docs/search.md).

What a person types is matched by ``arenda/core/search.py`` (phones in any format, ИНН,
plates with Latin look-alikes, numbers «#12») over each kind's fields below; each kind
is one query (its relations joined), cut to ``limit`` rows, and shown only to the roles
that may view it (``core/roles.py``). It reads several apps, so it lives in the entry
layer (docs/architecture.md).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from arenda.billing.models import Act, Invoice
from arenda.bookings.models import Booking
from arenda.core import search as core_search
from arenda.core.formats import format_plate, phone_display
from arenda.core.roles import Action, can
from arenda.crm.models import Deal
from arenda.directory.models import Contact, Counterparty, Driver, Unit

MIN_LENGTH = 2
MAX_LENGTH = core_search.MAX_LENGTH
# rows per group: as you type in the header, and on the full page
HEADER_LIMIT = 5
PAGE_LIMIT = 20

# «№ 12», «#12», «12», «А-12»: what an invoice's or an act's number is typed as
_NUMBER_PREFIX = re.compile(r"^\s*(?:№|#|N\s*°?)\s*", re.IGNORECASE)


@dataclass
class Result:
    id: int
    title: str
    subtitle: str
    url: str


@dataclass
class Group:
    kind: str
    label: str
    results: list[Result]
    more: bool = False
    # the kind's own list, searched for the same text (the «all» link)
    list_url: str = ""


@dataclass(frozen=True)
class Kind:
    kind: str
    label: object  # a lazy translation
    resource: str  # the permission matrix's resource (core/roles.py)
    list_url_name: str
    queryset: Callable[[], QuerySet]
    match: Callable[[str], Q]
    title: Callable[[object], str]
    subtitle: Callable[[object], str]


def _document_number(text: str) -> Q:
    """An invoice's or an act's number as typed: exactly it, or its 1C number."""
    number = _NUMBER_PREFIX.sub("", core_search.clean(text)).strip()
    if not number:
        return core_search.NOTHING
    return Q(number__iexact=number) | Q(external_number__iexact=number)


def _join(*parts) -> str:
    return " · ".join(str(p) for p in parts if p)


def _date(value) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def _legal_entity(obj) -> str:
    return obj.organization.name if obj.organization_id else _("no legal entity")


COUNTERPARTY = core_search.Search(text=("name", "full_name"), phones=("phone",), inns=("inn",))
CONTACT = core_search.Search(text=("full_name", "email"), phones=("phone",))
DEAL = core_search.Search(text=("title",), numbers=("pk",))
BOOKING = core_search.Search(numbers=("pk",))
UNIT = core_search.Search(text=("name",), plates=("plate",))
DRIVER = core_search.Search(text=("full_name",), phones=("phone",))

KINDS: tuple[Kind, ...] = (
    Kind(
        kind="counterparty",
        label=gettext_lazy("Counterparties"),
        resource="counterparty",
        list_url_name="directory:counterparty_list",
        queryset=lambda: Counterparty.objects.order_by("name", "pk"),
        match=COUNTERPARTY.q,
        title=lambda c: c.name,
        subtitle=lambda c: _join(_("INN %(inn)s") % {"inn": c.inn} if c.inn else "", phone_display(c.phone)),
    ),
    Kind(
        kind="contact",
        label=gettext_lazy("Contacts"),
        resource="contact",
        list_url_name="directory:contact_list",
        queryset=lambda: Contact.objects.select_related("counterparty").order_by("full_name", "pk"),
        match=CONTACT.q,
        title=lambda c: c.full_name,
        subtitle=lambda c: _join(c.counterparty.name, phone_display(c.phone), c.email),
    ),
    Kind(
        kind="deal",
        label=gettext_lazy("Deals"),
        resource="deal",
        list_url_name="crm:deal_list",
        queryset=lambda: Deal.objects.select_related("counterparty").order_by("-created_at", "-pk"),
        match=DEAL.q,
        title=lambda d: _("Deal #%(id)s: %(title)s") % {"id": d.pk, "title": d.title},
        subtitle=lambda d: _join(d.counterparty.name, d.get_stage_display()),
    ),
    Kind(
        kind="booking",
        label=gettext_lazy("Bookings"),
        resource="booking",
        list_url_name="bookings:booking_list",
        queryset=lambda: Booking.objects.select_related(
            "deal__counterparty", "deal__organization", "unit"
        ).order_by("-start", "-pk"),
        match=BOOKING.q,
        title=str,
        subtitle=lambda b: _join(
            b.deal.counterparty.name,
            b.deal.organization.name if b.deal.organization_id else _("no legal entity"),
            _date(b.start.date() if b.start else None),
            format_plate(b.unit.plate) if b.unit_id else "",
            b.get_status_display(),
        ),
    ),
    Kind(
        kind="invoice",
        label=gettext_lazy("Invoices"),
        resource="invoice",
        list_url_name="billing:invoice_list",
        queryset=lambda: Invoice.objects.select_related("organization", "counterparty").order_by(
            "-date", "-sequence", "-pk"
        ),
        match=_document_number,
        title=str,
        subtitle=lambda i: _join(
            _legal_entity(i), _date(i.date), i.counterparty.name, i.get_status_display()
        ),
    ),
    Kind(
        kind="act",
        label=gettext_lazy("Acts"),
        resource="invoice",
        list_url_name="billing:act_list",
        queryset=lambda: Act.objects.select_related("organization", "counterparty").order_by(
            "-date", "-sequence", "-pk"
        ),
        match=_document_number,
        title=str,
        subtitle=lambda a: _join(
            _legal_entity(a), _date(a.date), a.counterparty.name, a.get_status_display()
        ),
    ),
    Kind(
        kind="unit",
        label=gettext_lazy("Units"),
        resource="unit",
        list_url_name="directory:unit_list",
        queryset=lambda: Unit.objects.select_related("equipment_type").order_by("plate", "pk"),
        match=UNIT.q,
        title=lambda u: _join(format_plate(u.plate), u.name),
        subtitle=lambda u: _join(
            u.equipment_type.name, _("%(t)s t") % {"t": u.capacity_t.normalize()} if u.capacity_t else ""
        ),
    ),
    Kind(
        kind="driver",
        label=gettext_lazy("Drivers"),
        resource="driver",
        list_url_name="directory:driver_list",
        queryset=lambda: Driver.objects.order_by("full_name", "pk"),
        match=DRIVER.q,
        title=lambda d: d.full_name,
        subtitle=lambda d: _join(phone_display(d.phone), d.get_employment_display()),
    ),
)


def clean(typed: str) -> str:
    """The text as searched: control characters dropped, spaces collapsed, cut to size."""
    return core_search.clean(typed or "")


def is_searchable(text: str) -> bool:
    return len(text) >= MIN_LENGTH


def kinds_for(user) -> list[Kind]:
    """The kinds this user may view."""
    return [k for k in KINDS if can(user, Action.VIEW, k.resource)]


def search(user, typed: str, *, limit: int = HEADER_LIMIT) -> list[Group]:
    """Groups that found something, in ``KINDS`` order, each at most ``limit`` rows (one
    query per kind the user may view). Text shorter than ``MIN_LENGTH`` finds nothing."""
    text = clean(typed)
    if not is_searchable(text):
        return []
    groups = []
    for kind in kinds_for(user):
        rows = list(kind.queryset().filter(kind.match(text))[: limit + 1])
        if not rows:
            continue
        groups.append(
            Group(
                kind=kind.kind,
                label=str(kind.label),
                results=[
                    Result(
                        id=r.pk, title=str(kind.title(r)), subtitle=kind.subtitle(r), url=r.get_absolute_url()
                    )
                    for r in rows[:limit]
                ],
                more=len(rows) > limit,
                list_url=f"{reverse(kind.list_url_name)}?{_query(text)}",
            )
        )
    return groups


def _query(text: str) -> str:
    return urlencode({"q": text})
