"""``GET /lookup/<kind>/?q=&scope=``: the suggestions of a ``LookupField`` as you type, an
HTML list of options (``front/lookup_options.html``) for ``front/lookup.js``
(docs/autocomplete.md). One query, however many records match."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from arenda.core.permissions import require_role
from arenda.front import lookup, search


@login_required
@require_GET
def lookup_options(request, kind):
    require_role(request)
    found_kind = lookup.KINDS.get(kind)
    scope = request.GET.get("scope", "")
    if found_kind is None or (scope and scope not in found_kind.scopes):
        raise Http404
    if not lookup.may_view(request.user, found_kind):
        raise PermissionDenied
    text = search.clean(request.GET.get("q", ""))
    queryset = found_kind.narrow(found_kind.queryset(scope), request.GET)
    rows = found_kind.find(queryset, text, lookup.LIMIT + 1)
    options = [
        {"pk": r.pk, "text": found_kind.text(r), "detail": found_kind.detail(r)} for r in rows[: lookup.LIMIT]
    ]
    context = {
        "options": options,
        "more": len(rows) > lookup.LIMIT,
        "short": not search.is_searchable(text),
        "min_length": search.MIN_LENGTH,
    }
    response = render(request, "front/lookup_options.html", context)
    response["Cache-Control"] = "private, no-store"
    return response
