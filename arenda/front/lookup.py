"""Autocomplete for a choice among records whose list can grow (docs/autocomplete.md).

``LookupField`` is a ``ModelChoiceField`` whose ``LookupWidget`` is a text input, not a
``<select>`` of every record. What is posted is read two ways:

- the primary key (``counterparty=12``), what ``front/lookup.js`` sets in the hidden input
  when a suggestion is picked, and what a script or a test posts;
- the text typed (``counterparty__text=кровля``), when JavaScript is off: it is matched by
  the header search's matcher (``arenda/front/search.py``, itself ``arenda/core/search.py``)
  over the field's own queryset. One record found is the choice; none or several is an
  error on the field, the several listed with what tells them apart (ИНН, address, phone,
  number, dates), asking for more precise text.

``GET /lookup/<kind>/?q=`` (``arenda/front/lookup_views.py``) suggests records as you type,
from the same queryset the field validates against (``KINDS[kind].queryset(scope)``), to
the roles that may view that kind (``core/roles.py``).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from arenda.bookings.models import Booking
from arenda.core import search as core_search
from arenda.core.formats import format_number, format_plate, phone_display
from arenda.core.roles import Action, can
from arenda.directory.models import Supplier
from arenda.front import search

# suggestions shown as you type; candidates listed in a «several found» error
LIMIT = 10
ERROR_LIMIT = 5
# The POST key of the text typed beside the field's own (the primary key).
TEXT_SUFFIX = "__text"

_join = search._join
_date = search._date

SUPPLIER = core_search.Search(text=("name", "contact_person"), phones=("phone",), inns=("inn",))


@dataclass(frozen=True)
class LookupKind:
    kind: str
    resource: str  # the permission matrix's resource (core/roles.py)
    base: Callable[[], QuerySet]
    match: Callable[[str], Q]
    # what the input shows once a record is chosen (short, and unique enough to read)
    text: Callable[[object], str]
    # what else tells look-alikes apart, under the suggestion and in a «several found» error
    detail: Callable[[object], str]
    # named restrictions a form may put on the choice: the field and the endpoint both apply it
    scopes: dict[str, Callable[[QuerySet], QuerySet]] = field(default_factory=dict)
    # GET parameters that narrow the suggestions to another field's choice (the deal's
    # contacts to its counterparty's): parameter → lookup. Suggestions only: the field
    # still accepts what its queryset holds, and the model's clean() says the rest.
    narrowing: dict[str, str] = field(default_factory=dict)

    def queryset(self, scope: str = "") -> QuerySet:
        qs = self.base()
        if scope:
            qs = self.scopes[scope](qs)
        return qs

    def narrow(self, qs: QuerySet, params) -> QuerySet:
        for param, lookup in self.narrowing.items():
            value = str(params.get(param) or "")
            if value.isdigit():
                qs = qs.filter(**{lookup: int(value)})
        return qs

    def find(self, qs: QuerySet, typed: str, limit: int) -> list:
        """Up to ``limit`` records of ``qs`` the text finds (one query)."""
        text = search.clean(typed)
        if not search.is_searchable(text):
            return []
        return list(qs.filter(self.match(text))[:limit])


def _search_kind(name: str) -> search.Kind:
    return next(k for k in search.KINDS if k.kind == name)


def _inn(obj) -> str:
    return _("INN %(inn)s") % {"inn": obj.inn} if obj.inn else ""


def _kpp(obj) -> str:
    return _("KPP %(kpp)s") % {"kpp": obj.kpp} if obj.kpp else ""


def _capacity(unit) -> str:
    return _("%(t)s t") % {"t": format_number(unit.capacity_t)} if unit.capacity_t else ""


def _period(booking) -> str:
    start = _date(booking.start.date()) if booking.start else ""
    end = _date(booking.end.date()) if booking.end else ""
    return start if start == end else f"{start} – {end}"


def _active(qs: QuerySet) -> QuerySet:
    return qs.filter(is_active=True)


_COUNTERPARTY, _CONTACT, _DEAL, _BOOKING, _UNIT, _DRIVER = (
    _search_kind(k) for k in ("counterparty", "contact", "deal", "booking", "unit", "driver")
)

KINDS: dict[str, LookupKind] = {
    k.kind: k
    for k in (
        LookupKind(
            kind="counterparty",
            resource="counterparty",
            base=_COUNTERPARTY.queryset,
            match=_COUNTERPARTY.match,
            text=lambda c: _join(c.name, _inn(c)),
            detail=lambda c: _join(_kpp(c), c.address, phone_display(c.phone)),
        ),
        LookupKind(
            kind="contact",
            resource="contact",
            base=_CONTACT.queryset,
            match=_CONTACT.match,
            text=lambda c: _join(c.full_name, c.counterparty.name),
            detail=lambda c: _join(phone_display(c.phone), c.email),
            narrowing={"counterparty": "counterparty_id"},
        ),
        LookupKind(
            kind="deal",
            resource="deal",
            base=_DEAL.queryset,
            match=_DEAL.match,
            text=lambda d: _("Deal #%(id)s: %(title)s") % {"id": d.pk, "title": d.title},
            detail=lambda d: _join(d.counterparty.name, _date(d.created_at.date()), d.get_stage_display()),
            narrowing={"counterparty": "counterparty_id"},
        ),
        LookupKind(
            kind="booking",
            resource="booking",
            base=lambda: Booking.objects.select_related(
                "deal__counterparty", "equipment_type", "unit"
            ).order_by("-start", "-pk"),
            match=_BOOKING.match,
            text=lambda b: _join(str(b), b.deal.counterparty.name),
            detail=lambda b: _join(
                format_plate(b.unit.plate) if b.unit_id else b.equipment_type.name,
                _period(b),
                b.get_status_display(),
            ),
            narrowing={"deal": "deal_id"},
        ),
        LookupKind(
            kind="unit",
            resource="unit",
            base=_UNIT.queryset,
            match=_UNIT.match,
            text=lambda u: _join(format_plate(u.plate), u.name),
            detail=lambda u: _join(u.equipment_type.name, _capacity(u)),
            scopes={"active": _active},
        ),
        LookupKind(
            kind="driver",
            resource="driver",
            base=_DRIVER.queryset,
            match=_DRIVER.match,
            text=lambda d: d.full_name,
            detail=lambda d: _join(phone_display(d.phone), d.get_employment_display()),
            scopes={"active": _active},
        ),
        LookupKind(
            kind="supplier",
            resource="supplier",
            base=lambda: Supplier.objects.order_by("name", "pk"),
            match=SUPPLIER.q,
            text=lambda s: _join(s.name, _inn(s)),
            detail=lambda s: _join(s.contact_person, phone_display(s.phone)),
            scopes={"active": _active},
        ),
    )
}


def may_view(user, kind: LookupKind) -> bool:
    return can(user, Action.VIEW, kind.resource)


def same_text(a: str, b: str) -> bool:
    return search.clean(a).casefold() == search.clean(b).casefold()


@dataclass(frozen=True)
class Typed:
    """What the widget read from the form: the primary key and, when the form posted it,
    the text in the visible input (None: not posted, as a script posting a pk does)."""

    pk: str
    text: str | None

    def __str__(self):
        return self.pk if self.text is None else self.text


class LookupWidget(forms.TextInput):
    template_name = "front/widgets/lookup.html"

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.kind: LookupKind | None = None
        self.scope = ""
        self.queryset: QuerySet | None = None

    def value_from_datadict(self, data, files, name):
        text = data.get(name + TEXT_SUFFIX)
        return Typed(pk=str(data.get(name) or "").strip(), text=text)

    def value_omitted_from_data(self, data, files, name):
        return name not in data and name + TEXT_SUFFIX not in data

    def url(self) -> str:
        url = reverse("lookup", args=[self.kind.kind])
        return f"{url}?{urlencode({'scope': self.scope})}" if self.scope else url

    def shown(self, value) -> tuple[str, str]:
        """The (primary key, text) the inputs show for a value: the record's own text
        when the value names one, else what was typed."""
        chosen = resolve(self.kind, self.queryset, value) if value not in (None, "") else None
        if chosen is not None:
            return str(chosen.pk), self.kind.text(chosen)
        if isinstance(value, Typed):
            return "", value.text if value.text is not None else value.pk
        return "", ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        pk, text = self.shown(value)
        widget = context["widget"]
        widget["value"] = text
        widget.update(pk=pk, text_name=name + TEXT_SUFFIX, url=self.url())
        widget["attrs"].setdefault("autocomplete", "off")
        widget["attrs"]["data-lookup-text"] = ""
        return context


def resolve(kind: LookupKind, qs: QuerySet, value):
    """The record a value names (a primary key, a ``Typed``), if it names exactly one;
    otherwise None. The form's field gives the reason (``LookupField.to_python``)."""
    try:
        return _resolve(kind, qs, value, label="")
    except ValidationError:
        return None


def _resolve(kind: LookupKind, qs: QuerySet, value, *, label: str):
    typed = value if isinstance(value, Typed) else Typed(pk=str(value), text=None)
    by_pk = None
    if typed.pk:
        try:
            by_pk = qs.filter(pk=typed.pk).first()
        except (ValueError, TypeError, ValidationError):
            by_pk = None
    if typed.text is None:
        if by_pk is None and typed.pk:
            raise ValidationError(_("Select a valid choice."), code="invalid_choice")
        return by_pk
    if not search.clean(typed.text):
        return None
    if by_pk is not None and same_text(typed.text, kind.text(by_pk)):
        return by_pk
    text = search.clean(typed.text)
    if not search.is_searchable(text):
        raise ValidationError(
            _("%(field)s: type at least %(n)s characters.") % {"field": label, "n": search.MIN_LENGTH},
            code="lookup_short",
        )
    found = kind.find(qs, text, ERROR_LIMIT + 1)
    if len(found) == 1:
        return found[0]
    if not found:
        raise ValidationError(
            _("%(field)s: nothing found for “%(text)s”.") % {"field": label, "text": text}, code="lookup_none"
        )
    listed = "; ".join(
        f"{kind.text(r)} ({kind.detail(r)})" if kind.detail(r) else kind.text(r) for r in found[:ERROR_LIMIT]
    )
    if len(found) > ERROR_LIMIT:
        listed += "; …"
    raise ValidationError(
        _(
            "%(field)s: several match “%(text)s”: %(found)s. Type more precisely (the INN, the phone, the number)."
        )
        % {"field": label, "text": text, "found": listed},
        code="lookup_several",
    )


class LookupField(forms.ModelChoiceField):
    """A choice of one record of ``kind`` (a key of ``KINDS``), restricted by ``scope``."""

    widget = LookupWidget

    def __init__(self, kind: str, *, scope: str = "", queryset=None, **kwargs):
        self.kind = KINDS[kind]
        self.scope = scope
        kwargs.setdefault("empty_label", None)
        super().__init__(queryset=self.kind.queryset(scope) if queryset is None else queryset, **kwargs)
        self.widget.kind = self.kind
        self.widget.scope = scope
        self.widget.queryset = self.queryset

    @classmethod
    def replacing(cls, old: forms.ModelChoiceField, kind: str, *, scope: str = "") -> "LookupField":
        """A lookup in place of a ModelForm's generated select, with its label and rules."""
        return cls(
            kind,
            scope=scope,
            required=old.required,
            label=old.label,
            help_text=old.help_text,
            initial=old.initial,
            disabled=old.disabled,
            validators=old.validators,
        )

    def _set_queryset(self, queryset):
        super()._set_queryset(queryset)
        if isinstance(self.widget, LookupWidget):
            self.widget.queryset = self.queryset

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result.widget.kind = result.kind
        result.widget.scope = result.scope
        result.widget.queryset = result.queryset
        return result

    def to_python(self, value):
        if isinstance(value, Typed) and value.text is None:
            value = value.pk  # a primary key alone: checked as any ModelChoiceField does
        if not isinstance(value, Typed):
            return super().to_python(value)
        if not value.pk and not search.clean(value.text or ""):
            return None
        return _resolve(self.kind, self.queryset, value, label=str(self.label or ""))

    def has_changed(self, initial, data):
        if self.disabled:
            return False
        chosen = resolve(self.kind, self.queryset, data) if data not in (None, "") else None
        before = self.prepare_value(initial)
        return str(before or "") != str(chosen.pk if chosen is not None else "")


@dataclass
class FilterLookup:
    """A list page's filter chosen by typing (``ListFilterSet.page_lookups``): what the
    page's toolbar shows, and the record its text or pk names."""

    param: str
    kind: LookupKind
    scope: str
    chosen: object = None
    # the text posted without JavaScript (None: a pk alone, or nothing)
    text: str | None = None
    label: object = ""
    error: str = ""

    @classmethod
    def read(cls, params, param: str, kind: LookupKind, scope: str = "", label="") -> "FilterLookup":
        found = cls(param=param, kind=kind, scope=scope, label=label)
        pk = str(params.get(param) or "").strip()
        text = params.get(param + TEXT_SUFFIX)
        qs = kind.queryset(scope)
        if text is None:
            # a pk alone (the script, an old link): the filter checks it as it always has
            found.chosen = qs.filter(pk=pk).first() if pk.isdigit() else None
            return found
        found.text = text
        try:
            found.chosen = _resolve(kind, qs, Typed(pk=pk, text=text), label=str(label))
        except ValidationError as exc:
            found.error = exc.messages[0]
        return found

    def url(self) -> str:
        url = reverse("lookup", args=[self.kind.kind])
        return f"{url}?{urlencode({'scope': self.scope})}" if self.scope else url

    def pk(self) -> str:
        return str(self.chosen.pk) if self.chosen is not None else ""

    def shown(self) -> str:
        if self.chosen is not None:
            return self.kind.text(self.chosen)
        return self.text or ""

    def text_name(self) -> str:
        return self.param + TEXT_SUFFIX
