"""What every list's FilterSet shares: the search filter and the page's view of it.

Each list has one FilterSet (``<app>/filters.py``) that its page and its API viewset both
use, so a search or a filter finds the same rows in both. The API reads the FilterSet's own
parameter names (``?search=``, ``?is_active=true``; a bad value answers 400 naming the
parameter, django-filter's way through DRF). A page keeps the parameters its URLs have
always had (``?q=``, ``?active=1``): ``page_params`` maps them to the filters, and a value
that does not validate is left out, so the page shows the list without that filter.
"""

from datetime import UTC, date
from typing import ClassVar

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import FilterSet

from arenda.core.search import Search
from arenda.front import lookup


class SearchField(forms.CharField):
    """The text as typed. NUL and other control characters are not an error here: the
    search drops them (``arenda/core/search.py``), and text of nothing else finds nothing."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]


class SearchFilter(django_filters.CharFilter):
    """``?search=`` (``?q=`` on the pages): ``Search.q`` over the list's fields."""

    field_class = SearchField

    def __init__(self, search: Search, **kwargs):
        kwargs.setdefault(
            "label", _("Words to find; phones, INNs and plates are found however they are typed")
        )
        super().__init__(**kwargs)
        self.search = search

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        return qs.filter(self.search.q(value, model=qs.model))


def beyond_utc(moment) -> bool:
    """Whether an aware moment falls outside years 1 to 9999 in UTC, where the database keeps
    it: «0001-01-01T00:00:00+14:00», or «0001-01-01» read in Moscow (2:30 ahead then). The
    API's bodies ask it too (``BoundedDateTimeField``, ``arenda/api/serializers.py``)."""
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return True
    return False


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment that the database can hold: «0001-01-01T00:00:00+14:00» parses,
    but in UTC it falls before year 1 — an error naming the parameter, not a 500."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is not None and beyond_utc(moment):
            raise ValidationError(_("Enter a date and time between years 1 and 9999."), code="invalid")
        return moment


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class BoundedDateField(forms.DateField):
    """A day whose whole span, in the company's time zone, the database can hold: a filter
    compares with the start of the day or of the next one (``period_to`` of
    ``arenda/bookings/filters.py``), and «9999-12-31» has no next day nor «0001-01-01» a start
    in UTC east of Greenwich — an error naming the parameter, not a 500."""

    EARLIEST = date(1, 1, 2)
    LATEST = date(9999, 12, 30)

    def validate(self, value):
        super().validate(value)
        if value not in self.empty_values and not self.EARLIEST <= value <= self.LATEST:
            raise ValidationError(
                _("Give a date from %(earliest)s to %(latest)s.")
                % {"earliest": shown_day(self.EARLIEST), "latest": shown_day(self.LATEST)},
                code="invalid",
            )


def shown_day(day: date) -> str:
    # strftime("%Y") drops the leading zeros of year 1.
    return f"{day.day:02}.{day.month:02}.{day.year:04}"


class DateFilter(django_filters.DateFilter):
    field_class = BoundedDateField


class ListFilterSet(FilterSet):
    """A list's filters and search, for its page and its API viewset alike."""

    # The page's parameter → the filter it sets. The page reads only these.
    page_params: ClassVar[dict[str, str]] = {}
    # Page parameters chosen by typing (docs/autocomplete.md): parameter → lookup kind, or
    # (kind, scope). The page posts the pk as ``<param>`` and, without JavaScript, the text
    # as ``<param>__text``, resolved here by the lookup's matcher.
    page_lookups: ClassVar[dict[str, str | tuple[str, str]]] = {}

    @classmethod
    def for_page(cls, params: QueryDict, queryset=None, **kwargs) -> "ListFilterSet":
        data = QueryDict(mutable=True)
        for param, name in cls.page_params.items():
            if values := params.getlist(param):
                data.setlist(name, values)
        lookups = {}
        for param, spec in cls.page_lookups.items():
            kind, scope = (spec, "") if isinstance(spec, str) else spec
            name = cls.page_params[param]
            found = lookup.FilterLookup.read(
                params, param, lookup.KINDS[kind], scope, label=cls.base_filters[name].label
            )
            lookups[param] = found
            if found.text is not None:
                data.setlist(name, [str(found.chosen.pk)] if found.chosen is not None else [])
        filterset = cls(data, queryset=queryset, **kwargs)
        filterset.page_lookup_values = lookups
        return filterset

    def lookups(self) -> dict[str, "lookup.FilterLookup"]:
        """The page's typed filters, to render (``front/lookup_filter.html``): each with the
        record chosen, the text shown and the error of text that found none or several."""
        return getattr(self, "page_lookup_values", {})

    def lookup_errors(self) -> list[str]:
        return [item.error for item in self.lookups().values() if item.error]

    def selected(self) -> dict[str, str]:
        """Each page parameter as the page shows it: its value when valid (as the page's
        inputs write it), otherwise ""."""
        self.is_valid()
        cleaned = self.form.cleaned_data
        return {
            param: shown(cleaned[name], self.data.get(name, ""))
            if name in cleaned and cleaned[name] not in EMPTY_VALUES
            else ""
            for param, name in self.page_params.items()
        }

    def chips(self) -> list[dict]:
        """The page's selects, one per page parameter other than the search: the label, the
        choices as (value, label) and the value chosen."""
        selected = self.selected()
        chips = []
        for param, name in self.page_params.items():
            flt = self.filters[name]
            if isinstance(flt, SearchFilter):
                continue
            if param in self.lookups():
                chips.append({"param": param, "label": flt.label, "lookup": self.lookups()[param]})
                continue
            chips.append(
                {
                    "param": param,
                    "label": flt.label,
                    "choices": choices(flt, self.form.fields[name]),
                    "selected": selected[param],
                }
            )
        return chips


def shown(value, raw: str) -> str:
    """A valid value as a page's select or date input writes it."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, date):
        return value.isoformat()
    return raw.strip()


def choices(flt, field) -> list[tuple[str, str]]:
    """A filter's choices as a page's select offers them."""
    if isinstance(flt, django_filters.BooleanFilter):
        return [("1", str(_("yes"))), ("0", str(_("no")))]
    if isinstance(flt, django_filters.ModelChoiceFilter):
        return [(str(obj.pk), str(obj)) for obj in field.queryset]
    return [(str(value), str(label)) for value, label in flt.extra["choices"]]
