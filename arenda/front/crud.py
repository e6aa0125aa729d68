"""A small list/detail/form/delete toolkit for reference-style records.

A resource describes itself once as a :class:`Page`; :func:`urls` turns it into five
views, each guarded by the permission matrix (``core.permissions.require``) and writing
only through the resource's services (create/update/delete). The page names the URL
namespace its patterns are included under (``arenda/directory/urls.py`` includes the
reference data's as ``directory``), so its links resolve wherever it lives. HTMX requests
get named partials of the same templates: the results table for live search, one field's
errors for inline validation.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from arenda.core.formats import display_value
from arenda.core.permissions import require
from arenda.core.roles import Action, can
from arenda.core.services import RecordInUse
from arenda.front.filters import ListFilterSet
from arenda.front.forms import validate_field_response
from arenda.front.history import history_entries
from arenda.front.paginator import CappedPaginator

PAGE_SIZE = 50


# --- The description of a resource ------------------------------------------------------------
@dataclass(frozen=True)
class Related:
    """A list of child records on the detail page (e.g. a counterparty's contacts)."""

    title: str
    accessor: str
    resource: str
    columns: tuple[str, ...] = ()
    # the child's form field that points back to the parent: enables "add" with it preset
    parent_field: str | None = None
    # the URL namespace of the child's pages; empty: the same as the parent page's
    namespace: str = ""


def url_name(namespace: str, resource: str, kind: str) -> str:
    """The name of one of the five patterns :func:`urls` makes, inside its namespace."""
    return f"{namespace}:{resource}_{kind}"


@dataclass
class Page:
    model: type[models.Model]
    resource: str
    slug: str
    form: type[forms.ModelForm]
    columns: list[str]
    # the list's filters and search, shared with its API viewset; its page parameters are
    # the page's filter selects (besides the search box)
    filterset: type[ListFilterSet]
    select_related: tuple[str, ...] = ()
    related: list[Related] = field(default_factory=list)
    # an extra detail section (template name) and the context it needs
    detail_extra: str | None = None
    detail_context: Callable | None = None
    services: tuple | None = None
    # user → the fields this user may not see (drivers' pay: ``core.roles.hidden_pay_fields``):
    # left out of the list's columns and sorting, the detail page and the history
    hidden_fields: Callable | None = None
    # buttons beside «Add» on the list (a template; e.g. «Import from Excel», «Download XLSX»)
    list_actions: str | None = None
    # the namespace the patterns of ``urls(page)`` are included under (their app_name)
    namespace: str = field(kw_only=True)

    @property
    def verbose_name(self):
        return self.model._meta.verbose_name

    @property
    def verbose_name_plural(self):
        return self.model._meta.verbose_name_plural

    def url(self, kind: str, *args) -> str:
        return reverse(url_name(self.namespace, self.resource, kind), args=args)

    @property
    def url_list(self) -> str:
        return self.url("list")

    @property
    def url_create(self) -> str:
        return self.url("create")

    def queryset(self):
        return self.model._default_manager.select_related(*self.select_related)

    def hidden(self, user) -> frozenset[str]:
        return frozenset(self.hidden_fields(user)) if self.hidden_fields else frozenset()

    def visible_columns(self, user) -> list[str]:
        hidden = self.hidden(user)
        return [name for name in self.columns if name not in hidden]

    def sortable(self, user) -> dict[str, str]:
        """Column → order expression. Relations sort by the related record's name."""
        result = {}
        for name in self.visible_columns(user):
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


# --- Views --------------------------------------------------------------------------------------
def _filtered(page: Page, request):
    filterset = page.filterset.for_page(request.GET, queryset=page.queryset())
    qs = filterset.qs
    sortable = page.sortable(request.user)
    order = request.GET.get("o", "")
    if order.lstrip("-") in sortable:
        expression = sortable[order.lstrip("-")]
        qs = qs.order_by(("-" if order.startswith("-") else "") + expression, "pk")
    else:
        order = ""
    return qs, filterset, order


def list_view(request, page: Page, template: str = "front/ui/list.html"):
    """The list page; ``template`` may extend ``front/ui/list.html`` (HTMX gets its results)."""
    qs, filterset, order = _filtered(page, request)
    paginator = CappedPaginator(qs, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    sortable = page.sortable(request.user)
    columns = page.visible_columns(request.user)
    headers = [
        {
            "name": name,
            "label": page.model._meta.get_field(name).verbose_name,
            "sortable": name in sortable,
            "direction": "asc" if order == name else "desc" if order == f"-{name}" else "",
            "next_order": f"-{name}" if order == name else name,
        }
        for name in columns
    ]
    chips = filterset.chips()
    rows = [
        {"obj": obj, "url": obj.get_absolute_url(), "cells": [display_value(obj, n) for n in columns]}
        for obj in page_obj
    ]
    context = {
        "page": page,
        "allowed": page.permissions(request.user),
        "headers": headers,
        "rows": rows,
        "page_obj": page_obj,
        "q": request.GET.get("q", "").strip(),
        "filters": chips,
        "filtered": any(filterset.selected().values()),
    }
    if request.htmx and not request.htmx.boosted:
        template = "front/ui/list.html#results"
    return render(request, template, context)


def _related_sections(page: Page, obj, user) -> list[dict]:
    sections = []
    for rel in page.related:
        if not can(user, Action.VIEW, rel.resource):
            continue
        children = list(getattr(obj, rel.accessor).all()[:100])
        add_url = None
        if rel.parent_field and can(user, Action.ADD, rel.resource):
            create = reverse(url_name(rel.namespace or page.namespace, rel.resource, "create"))
            add_url = f"{create}?{rel.parent_field}={obj.pk}"
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


def detail_fields(obj, form_class, hidden: frozenset[str] = frozenset()) -> list[dict]:
    """Every editable field, in the order of the form (requisites grouped as people type them),
    but the ``hidden`` ones."""
    order = {name: i for i, name in enumerate(form_class._meta.fields or ())}
    model_fields = sorted(
        (f for f in obj._meta.concrete_fields if f.editable and not f.primary_key and f.name not in hidden),
        key=lambda f: order.get(f.name, len(order)),
    )
    return [
        {"label": f.verbose_name, "value": display_value(obj, f.name), "help": f.help_text, "name": f.name}
        for f in model_fields
    ]


def detail_view(request, page: Page, pk: int, extra: dict | None = None):
    obj = get_object_or_404(page.queryset(), pk=pk)
    allowed = page.permissions(request.user)
    hidden = page.hidden(request.user)
    context = {
        "page": page,
        "obj": obj,
        "allowed": allowed,
        "update_url": page.url("update", obj.pk) if allowed[Action.CHANGE] else None,
        "delete_url": page.url("delete", obj.pk) if allowed[Action.DELETE] else None,
        "fields": detail_fields(obj, page.form, hidden),
        "related": _related_sections(page, obj, request.user),
        "history": history_entries(obj, hidden=hidden),
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
    if (validated := validate_field_response(request, form)) is not None:
        return validated
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
