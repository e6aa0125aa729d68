"""The supplier's side of «Заявка поставщику» (docs/supplier-request.md): no login, the
unguessable token in ``/s/<token>/`` is the key. A wrong token, or an order cancelled or
completed, is a plain 404; a superseded version says the request changed and shows nothing
else. Answers are rate-limited like the КП link (``crm/intake.py rate_limit_wait``) and go
through Django's CSRF check."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from arenda.bookings import supply_requests
from arenda.core.network import client_address
from arenda.crm.intake import rate_limit_wait

RATE_SOURCE = "supply-request"


def _request_for(token: str):
    request = supply_requests.request_for_token(token)
    if request is None:
        raise Http404
    return request


def _private(response):
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


def _page(http, req, token: str, *, status: int = 200, refusal: str = "", errors=None, posted=None):
    order = req.supply_order
    changed = req.superseded_at is not None
    context = {
        "req": req,
        "token": token,
        "changed": changed,
        "refusal": refusal,
        "errors": errors or {},
        "posted": posted or {},
        "can_answer": not changed and not req.answer and order.status == order.Status.REQUESTED,
    }
    if not changed:
        body = supply_requests.render_request_html(order, "bookings/supply_request_body.html")
        context["document"] = mark_safe(body)  # noqa: S308 — our template, autoescaped
    return _private(render(http, "bookings/supply_request_public.html", context, status=status))


@require_GET
def request_page(request, token):
    return _page(request, _request_for(token), token)


@require_GET
def request_pdf(request, token):
    req = _request_for(token)
    if req.superseded_at is not None:
        raise Http404
    order = req.supply_order
    response = HttpResponse(supply_requests.render_request_pdf(order), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{supply_requests.request_filename(order)}"'
    return _private(response)


def _answer(request, token: str, *, confirmed: bool):
    req = _request_for(token)
    wait = rate_limit_wait(RATE_SOURCE, client_address(request))
    if wait:
        refusal = _("Too many messages from your address. Try again in %(seconds)s s.") % {"seconds": wait}
        response = _page(request, req, token, status=429, refusal=refusal)
        response["Retry-After"] = str(wait)
        return response
    posted = {"name": request.POST.get("name", ""), "reason": request.POST.get("reason", "")}
    try:
        supply_requests.answer(request=req, confirmed=confirmed, name=posted["name"], reason=posted["reason"])
    except supply_requests.AnswerRefused as exc:
        return _page(request, _request_for(token), token, status=409, refusal=exc.detail)
    except ValidationError as exc:
        return _page(request, req, token, status=400, errors=exc.message_dict, posted=posted)
    if confirmed:
        messages.success(request, _("Thank you: the request is confirmed, the manager has been told."))
    else:
        messages.success(request, _("Thank you for your answer: the manager has been told."))
    return redirect("supply_public:page", token=token)


@require_POST
def request_confirm(request, token):
    return _answer(request, token, confirmed=True)


@require_POST
def request_decline(request, token):
    return _answer(request, token, confirmed=False)
