"""A small list/detail/form/delete toolkit for reference-style records.

A resource describes itself once as a :class:`Page`; :func:`urls` turns it into five
views, each guarded by the permission matrix (``core.permissions.require``) and writing
only through the resource's services (create/update/delete). HTMX requests get named
partials of the same templates: the results table for live search, one field's errors
for inline validation.
"""

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from arenda.core.crypto import EncryptedTextField
from arenda.core.money import format_rub
from arenda.core.permissions import require
from arenda.core.roles import Action, can
from arenda.core.services import RecordInUse
from arenda.core.validators import format_phone, normalize_plate

PAGE_SIZE = 50
HISTORY_LIMIT = 50


# --- Displaying values ------------------------------------------------------------------------
def _is_money(model_field) -> bool:
    return (
        isinstance(model_field, models.DecimalField)
        and model_field.max_digits == 14
        and model_field.decimal_places == 2
    )


def format_value(model_field, value, related_names: dict | None = None) -> str:
    """How a person reads a stored value: choices by label, money in roubles, phones and
    plates formatted, dates in the company time zone, secrets never."""
    if isinstance(model_field, EncryptedTextField):
        return _("set") if value else _("not set")
    if value is None or value == "":
        return "—"
    if model_field.is_relation:
        if isinstance(value, models.Model):
            return str(value)
        return (related_names or {}).get(value, f"#{value}")
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.BooleanField):
        return _("yes") if value else _("no")
    if _is_money(model_field):
        return format_rub(value)
    if isinstance(value, Decimal):
        return floatformat(value, "-2")
    if isinstance(model_field, models.DateTimeField):
        return date_filter(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(model_field, models.DateField):
        return date_filter(value, "SHORT_DATE_FORMAT")
    if model_field.name == "phone":
        return phone_display(value)
    if model_field.name == "plate":
        return format_plate(value)
    return str(value)


def display_value(obj, name: str) -> str:
    model_field = obj._meta.get_field(name)
    return format_value(model_field, getattr(obj, name))


def phone_display(value: str) -> str:
    """A phone that never breaks across lines: no-break spaces, non-breaking hyphens."""
    return format_phone(value).replace(" ", "\u00a0").replace("-", "\u2011")


def format_plate(value: str) -> str:
    """«А123ВС77» → «А 123 ВС 77», «1234АВ77» → «1234 АВ 77», as written on the plate."""
    match = re.match(r"^(\D?)(\d{3,4})(\D{2})(\d{2,3})$", value or "")
    return " ".join(part for part in match.groups() if part) if match else value


# --- The description of a resource ------------------------------------------------------------
@dataclass(frozen=True)
class Filter:
    """A list filter kept in the URL as ``?<param>=<value>``."""

    param: str
    label: str
    lookup: str
    choices: Callable[[], list[tuple[str, str]]]
    boolean: bool = False

    def value(self, raw: str):
        if self.boolean:
            return raw == "1"
        return raw


def yes_no() -> list[tuple[str, str]]:
    return [("1", _("yes")), ("0", _("no"))]


def model_choices(queryset_factory: Callable[[], models.QuerySet]):
    return lambda: [(str(obj.pk), str(obj)) for obj in queryset_factory()]


def field_choices(model, name: str):
    return lambda: [(str(value), str(label)) for value, label in model._meta.get_field(name).choices]


@dataclass(frozen=True)
class Related:
    """A list of child records on the detail page (e.g. a counterparty's contacts)."""

    title: str
    accessor: str
    resource: str
    columns: tuple[str, ...] = ()
    # the child's form field that points back to the parent: enables "add" with it preset
    parent_field: str | None = None


@dataclass
class Page:
    model: type[models.Model]
    resource: str
    slug: str
    form: type[forms.ModelForm]
    columns: list[str]
    search: list[str]
    filters: list[Filter] = field(default_factory=list)
    select_related: tuple[str, ...] = ()
    related: list[Related] = field(default_factory=list)
    # an extra detail section (template name) and the context it needs
    detail_extra: str | None = None
    detail_context: Callable | None = None
    services: tuple | None = None

    @property
    def verbose_name(self):
        return self.model._meta.verbose_name

    @property
    def verbose_name_plural(self):
        return self.model._meta.verbose_name_plural

    def url(self, kind: str, *args) -> str:
        return reverse(f"directory:{self.resource}_{kind}", args=args)

    @property
    def url_list(self) -> str:
        return self.url("list")

    @property
    def url_create(self) -> str:
        return self.url("create")

    def queryset(self):
        return self.model._default_manager.select_related(*self.select_related)

    def sortable(self) -> dict[str, str]:
        """Column → order expression. Relations sort by the related record's name."""
        result = {}
        for name in self.columns:
            model_field = self.model._meta.get_field(name)
            if model_field.is_relation:
                related = model_field.related_model
                key = "name" if any(f.name == "name" for f in related._meta.fields) else "pk"
                result[name] = f"{name}__{key}"
            else:
                result[name] = name
        return result

    def permissions(self, user) -> dict[str, bool]:
        return {action: can(user, action, self.resource) for action in Action.values}


# --- Forms --------------------------------------------------------------------------------------
class ServiceForm(forms.ModelForm):
    """A ModelForm that validates but never saves (services do), knows who fills it in, and
    asks the server to validate each field when the user leaves it."""

    def __init__(self, *args, user, validate_url: str = "", **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.adjust_for_user(user)
        for name, bound in ((name, self[name]) for name in self.fields):
            widget = self.fields[name].widget
            widget.attrs.setdefault("aria-describedby", f"{bound.auto_id}-errors")
            if validate_url and not isinstance(widget, forms.HiddenInput):
                trigger = (
                    "change" if isinstance(widget, forms.CheckboxInput | forms.Select) else "blur changed"
                )
                widget.attrs.update(
                    {
                        "hx-post": validate_url,
                        "hx-trigger": trigger,
                        "hx-target": f"#{bound.auto_id}-errors",
                        "hx-swap": "outerHTML",
                        "hx-vals": f'{{"_validate": "{name}"}}',
                    }
                )

    def _post_clean(self):
        super()._post_clean()
        # A model may check a value both in a field validator and in clean(); say it once.
        for name, errors in self.errors.items():
            unique = []
            for error in errors.as_data():
                if error.messages not in [u.messages for u in unique]:
                    unique.append(error)
            if len(unique) < len(errors):
                self._errors[name] = self.error_class(unique, renderer=self.renderer)

    def adjust_for_user(self, user) -> None:
        """Hook: drop or lock fields the user may not set."""

    def service_data(self) -> dict:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in self.fields and not self.fields[name].disabled
        }

    def add_service_error(self, exc: ValidationError) -> None:
        """Put a service's ValidationError on the fields it names; the rest on the form."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            target = name if name in self.fields and name != NON_FIELD_ERRORS else None
            for error in errors:
                if target is None and name != NON_FIELD_ERRORS:
                    label = self.instance._meta.get_field(name).verbose_name
                    error = ValidationError(f"{label}: {' '.join(error.messages)}")
                self.add_error(target, error)


# --- Views --------------------------------------------------------------------------------------
def _search_variants(page: "Page", q: str) -> set[str]:
    """What was typed, plus the stored form of plates («a123bc» → «А123ВС») and phones
    («8 916 123» → «916123», found inside «+7916123…»)."""
    variants = {q}
    if "plate" in page.search:
        variants.add(normalize_plate(q))
    digits = re.sub(r"\D", "", q)
    if "phone" in page.search and len(digits) >= 3:
        variants.add(digits[1:] if len(digits) == 11 and digits[0] in "78" else digits)
    return variants


def _filtered(page: Page, request):
    qs = page.queryset()
    q = request.GET.get("q", "").strip()
    if q:
        variants = _search_variants(page, q)
        qs = qs.filter(
            reduce(operator.or_, (Q(**{f"{name}__icontains": v}) for name in page.search for v in variants))
        )
    active = {}
    for flt in page.filters:
        raw = request.GET.get(flt.param, "")
        if raw and raw in {value for value, _label in flt.choices()}:
            qs = qs.filter(**{flt.lookup: flt.value(raw)})
            active[flt.param] = raw
    sortable = page.sortable()
    order = request.GET.get("o", "")
    if order.lstrip("-") in sortable:
        expression = sortable[order.lstrip("-")]
        qs = qs.order_by(("-" if order.startswith("-") else "") + expression, "pk")
    else:
        order = ""
    return qs, q, active, order


def list_view(request, page: Page, template: str = "front/ui/list.html"):
    """The list page; ``template`` may extend ``front/ui/list.html`` (HTMX gets its results)."""
    qs, q, active, order = _filtered(page, request)
    paginator = Paginator(qs, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    sortable = page.sortable()
    headers = [
        {
            "name": name,
            "label": page.model._meta.get_field(name).verbose_name,
            "sortable": name in sortable,
            "direction": "asc" if order == name else "desc" if order == f"-{name}" else "",
            "next_order": f"-{name}" if order == name else name,
        }
        for name in page.columns
    ]
    rows = [
        {"obj": obj, "url": obj.get_absolute_url(), "cells": [display_value(obj, n) for n in page.columns]}
        for obj in page_obj
    ]
    context = {
        "page": page,
        "allowed": page.permissions(request.user),
        "headers": headers,
        "rows": rows,
        "page_obj": page_obj,
        "q": q,
        "filters": [
            {"filter": flt, "choices": flt.choices(), "selected": active.get(flt.param, "")}
            for flt in page.filters
        ],
        "filtered": bool(q or active),
    }
    if request.htmx and not request.htmx.boosted:
        template = "front/ui/list.html#results"
    return render(request, template, context)


def history_entries(obj) -> list[dict]:
    """Newest first: who, when, and each changed field as label: old → new."""
    records = list(obj.history.select_related("history_user")[: HISTORY_LIMIT + 1])
    pairs = []
    related_ids: dict = {}
    for newer, older in zip(records, records[1:] + [None], strict=True):
        delta = newer.diff_against(older) if older is not None and newer.history_type == "~" else None
        pairs.append((newer, delta))
        for change in delta.changes if delta else ():
            model_field = obj._meta.get_field(change.field)
            if model_field.is_relation:
                related_ids.setdefault(model_field.related_model, set()).update(
                    v for v in (change.old, change.new) if v is not None
                )
    names = {
        model: {pk: str(o) for pk, o in model._default_manager.in_bulk(ids).items()}
        for model, ids in related_ids.items()
    }
    entries = []
    for newer, delta in pairs[:HISTORY_LIMIT]:
        changes = []
        for change in delta.changes if delta else ():
            model_field = obj._meta.get_field(change.field)
            lookup = names.get(model_field.related_model) if model_field.is_relation else None
            changes.append(
                {
                    "field": change.field,
                    "label": model_field.verbose_name,
                    "old": format_value(model_field, change.old, lookup),
                    "new": format_value(model_field, change.new, lookup),
                }
            )
        entries.append(
            {
                "when": newer.history_date,
                "who": newer.history_user,
                "kind": newer.history_type,
                "kind_label": newer.get_history_type_display(),
                "changes": changes,
            }
        )
    return entries


def _related_sections(page: Page, obj, user) -> list[dict]:
    sections = []
    for rel in page.related:
        if not can(user, Action.VIEW, rel.resource):
            continue
        children = list(getattr(obj, rel.accessor).all()[:100])
        add_url = None
        if rel.parent_field and can(user, Action.ADD, rel.resource):
            add_url = f"{reverse(f'directory:{rel.resource}_create')}?{rel.parent_field}={obj.pk}"
        sections.append(
            {
                "title": rel.title,
                "headers": [children[0]._meta.get_field(c).verbose_name for c in rel.columns]
                if children
                else [],
                "rows": [
                    {
                        "obj": c,
                        "url": c.get_absolute_url(),
                        "cells": [display_value(c, n) for n in rel.columns],
                    }
                    for c in children
                ],
                "add_url": add_url,
            }
        )
    return sections


def detail_fields(obj, form_class) -> list[dict]:
    """Every editable field, in the order of the form (requisites grouped as people type them)."""
    order = {name: i for i, name in enumerate(form_class._meta.fields or ())}
    model_fields = sorted(
        (f for f in obj._meta.concrete_fields if f.editable and not f.primary_key),
        key=lambda f: order.get(f.name, len(order)),
    )
    return [
        {"label": f.verbose_name, "value": display_value(obj, f.name), "help": f.help_text, "name": f.name}
        for f in model_fields
    ]


def detail_view(request, page: Page, pk: int, extra: dict | None = None):
    obj = get_object_or_404(page.queryset(), pk=pk)
    context = {
        "page": page,
        "obj": obj,
        "allowed": page.permissions(request.user),
        "fields": detail_fields(obj, page.form),
        "related": _related_sections(page, obj, request.user),
        "history": history_entries(obj),
    }
    if page.detail_context:
        context.update(page.detail_context(request, obj))
    context.update(extra or {})
    return render(request, "front/ui/detail.html", context)


def _safe_next(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return None


@require_http_methods(["GET", "POST"])
def form_view(request, page: Page, pk: int | None = None):
    obj = get_object_or_404(page.queryset(), pk=pk) if pk is not None else None
    create, update, _delete = page.services
    initial = {} if obj else {k: v for k, v in request.GET.items() if k in page.form.base_fields}
    form = page.form(
        request.POST if request.method == "POST" else None,
        instance=obj,
        initial=initial,
        user=request.user,
        validate_url=request.path,
    )
    if request.method == "POST" and request.htmx and "_validate" in request.POST:
        form.is_valid()
        name = request.POST["_validate"]
        if name not in form.fields:
            return HttpResponse(status=204)
        return render(request, "front/form_fields.html#field-errors", {"field": form[name]})
    if request.method == "POST" and form.is_valid():
        try:
            if obj is None:
                saved = create(by=request.user, **form.service_data())
                messages.success(request, _("%(name)s created.") % {"name": saved})
            else:
                # The form has already written its values onto ``obj`` while validating;
                # the service gets the stored record so it can tell what really changed.
                fresh = page.model._default_manager.get(pk=obj.pk)
                saved = update(instance=fresh, by=request.user, **form.service_data())
                messages.success(request, _("Changes to %(name)s saved.") % {"name": saved})
        except ValidationError as exc:
            form.add_service_error(exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("You may not make this change."))
        else:
            return redirect(_safe_next(request) or saved.get_absolute_url())
    return render(
        request,
        "front/ui/form.html",
        {"page": page, "obj": obj, "form": form, "next": _safe_next(request)},
    )


def _describe(record) -> dict:
    url = record.get_absolute_url() if hasattr(record, "get_absolute_url") else None
    return {"label": f"{capfirst(record._meta.verbose_name)}: {record}", "url": url}


@require_http_methods(["GET", "POST"])
def delete_view(request, page: Page, pk: int):
    obj = get_object_or_404(page.queryset(), pk=pk)
    in_use = None
    if request.method == "POST":
        try:
            page.services[2](instance=obj, by=request.user)
        except RecordInUse as exc:
            in_use = [_describe(record) for record in exc.protected]
        else:
            messages.success(request, _("%(name)s deleted.") % {"name": obj})
            return redirect(page.url("list"))
    return render(
        request,
        "front/ui/confirm_delete.html",
        {"page": page, "obj": obj, "in_use": in_use},
        status=409 if in_use else 200,
    )


def urls(page: Page) -> list:
    """The five URL patterns of a resource, each behind the permission matrix."""
    r, s = page.resource, page.slug
    return [
        path(f"{s}/", require(Action.VIEW, r)(lambda request: list_view(request, page)), name=f"{r}_list"),
        path(
            f"{s}/new/",
            require(Action.ADD, r)(lambda request: form_view(request, page)),
            name=f"{r}_create",
        ),
        path(
            f"{s}/<int:pk>/",
            require(Action.VIEW, r)(lambda request, pk: detail_view(request, page, pk)),
            name=f"{r}_detail",
        ),
        path(
            f"{s}/<int:pk>/edit/",
            require(Action.CHANGE, r)(lambda request, pk: form_view(request, page, pk)),
            name=f"{r}_update",
        ),
        path(
            f"{s}/<int:pk>/delete/",
            require(Action.DELETE, r)(lambda request, pk: delete_view(request, page, pk)),
            name=f"{r}_delete",
        ),
    ]
