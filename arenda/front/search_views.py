"""The search page (``/search/?q=``) and the header's results as you type: one view, the
whole page without JavaScript, the panel of groups to an HTMX request (docs/search.md)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from arenda.core.permissions import require_role
from arenda.front import search


@login_required
def search_page(request):
    require_role(request)
    text = search.clean(request.GET.get("q", ""))
    header = bool(request.htmx) and request.GET.get("panel") == "1"
    limit = search.HEADER_LIMIT if header else search.PAGE_LIMIT
    error = ""
    if text and not search.is_searchable(text):
        error = _("Type at least %(n)s characters.") % {"n": search.MIN_LENGTH}
    groups = search.search(request.user, text, limit=limit)
    context = {
        "q": text,
        "groups": groups,
        "error": error,
        "searched": search.is_searchable(text),
        "min_length": search.MIN_LENGTH,
    }
    template = "front/search.html#panel" if header else "front/search.html"
    return render(request, template, context)
