"""The customer's side of the КП: no login; the unguessable token in the link is the key.
A wrong token is a plain 404, the same as a page that does not exist.

The customer accepts the КП as they saw it: the page sends back its version
(``crm/proposal.py proposal_version``), and an expired or changed КП is refused with
``409`` — the page again, saying why (or ``{"detail", "code"}`` to a request that asks for
JSON). They may also decline it, ask a question, or ask for a new one once it expired; those
posts are rate-limited like the intake webhook (``crm/intake.py rate_limit_wait``)."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from arenda.core.network import client_address
from arenda.crm import services
from arenda.crm.forms import PROPOSAL_FORMS
from arenda.crm.intake import rate_limit_wait
from arenda.crm.models import Deal, ProposalResponse
from arenda.crm.proposal import (
    proposal_context,
    proposal_filename,
    proposal_state,
    render_proposal_html,
    render_proposal_pdf,
)
from arenda.flows import deals

K = ProposalResponse.Kind
RATE_SOURCE = "proposal"
FORM_IDS = {K.DECLINED: "decline-%s", K.QUESTION: "question-%s", K.RENEWAL: "renewal-%s"}


def _deal_for(token: str) -> Deal:
    deal = (
        Deal.objects.select_related("counterparty", "contact", "manager", "organization")
        .filter(proposal_token=token)
        .first()
        if token
        else None
    )
    # Compare again in Python: some databases match text case-insensitively.
    if deal is None or deal.proposal_token != token:
        raise Http404
    return deal


def _private(response):
    response["X-Robots-Tag"] = "noindex, nofollow"
    # same-origin, not no-referrer: the token never leaves our site, and the browser keeps
    # sending a real Origin with the accept form, which Django's CSRF check needs.
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


def _wants_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _posted(request, name: str) -> str:
    """A field of a form post, or of a JSON body."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, RecursionError):
            return ""
        value = data.get(name, "") if isinstance(data, dict) else ""
        return value if isinstance(value, str) else ""
    return request.POST.get(name, "")


def _page(request, deal: Deal, token: str, *, status: int = 200, refusal: str = "", forms=None):
    """The customer's page as the КП stands now; ``refusal`` says why a post was refused,
    ``forms`` are the bound forms to show again with their errors."""
    context = proposal_context(deal)
    state = proposal_state(deal, context["version"])
    open_offer = deal.is_editable() and bool(context["lines"])
    forms = forms or {}
    for form in forms.values():  # the browser scrolls to the form with the error
        form.fields["text"].widget.attrs["autofocus"] = True
    shown = {kind: forms.get(kind) or form(auto_id=FORM_IDS[kind]) for kind, form in PROPOSAL_FORMS.items()}
    page = {
        "deal": deal,
        "token": token,
        "document": mark_safe(render_proposal_html(deal, "crm/proposal_body.html", context)),  # noqa: S308 — our template, autoescaped
        "version": state.version,
        "state": state,
        "refusal": refusal,
        "can_accept": open_offer and not state.expired,
        "can_decline": open_offer and not state.expired and not state.declined_now,
        "can_renew": open_offer and state.expired and state.renewal is None,
        "can_ask": not deal.is_closed,
        "decline_form": shown[K.DECLINED],
        "question_form": shown[K.QUESTION],
        "renewal_form": shown[K.RENEWAL],
        "open_form": next(iter(forms), None),
    }
    return _private(render(request, "crm/proposal_public.html", page, status=status))


@require_GET
def proposal_page(request, token):
    return _page(request, _deal_for(token), token)


@require_GET
def proposal_pdf(request, token):
    deal = _deal_for(token)
    response = HttpResponse(render_proposal_pdf(deal), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{proposal_filename(deal)}"'
    return _private(response)


@require_POST
def proposal_accept(request, token):
    """The customer accepts the version they saw: the deal is agreed and its bookings made —
    once, however many times the button is pressed. An expired or changed КП: 409."""
    deal = _deal_for(token)
    try:
        deal = deals.deal_agree(
            deal=deal, by=None, by_customer=True, version=_posted(request, "version")[:64]
        )
    except services.FunnelRefused as exc:
        if _wants_json(request):
            return _private(JsonResponse({"detail": exc.detail, "code": exc.code}, status=409))
        if exc.code in ("proposal_expired", "proposal_changed"):
            return _page(request, _deal_for(token), token, status=409, refusal=exc.detail)
        messages.error(request, exc.detail)
    else:
        if _wants_json(request):
            return _private(JsonResponse({"accepted": True, "agreed_at": deal.agreed_at}))
    return redirect("proposal:page", token=token)


THANKS = {
    K.DECLINED: gettext_lazy("Thank you for your answer: your manager has been told."),
    K.QUESTION: gettext_lazy("Your question is sent: your manager will answer it."),
    K.RENEWAL: gettext_lazy("Your request is sent: your manager will prepare a new proposal."),
}


def _respond(request, token: str, kind: str):
    deal = _deal_for(token)
    wait = rate_limit_wait(RATE_SOURCE, client_address(request))
    if wait:
        response = _page(
            request,
            deal,
            token,
            status=429,
            refusal=_("Too many messages from your address. Try again in %(seconds)s s.") % {"seconds": wait},
        )
        response["Retry-After"] = str(wait)
        return response
    form = PROPOSAL_FORMS[kind](request.POST, auto_id=FORM_IDS[kind])
    if form.is_valid():
        try:
            services.proposal_respond(
                deal=deal,
                kind=kind,
                text=form.cleaned_data["text"],
                version=form.cleaned_data.get("version", ""),
            )
        except services.FunnelRefused as exc:
            return _page(request, _deal_for(token), token, status=409, refusal=exc.detail)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, THANKS[kind])
            return redirect("proposal:page", token=token)
    return _page(request, deal, token, status=400, forms={kind: form})


@require_POST
def proposal_decline(request, token):
    return _respond(request, token, K.DECLINED)


@require_POST
def proposal_question(request, token):
    return _respond(request, token, K.QUESTION)


@require_POST
def proposal_renewal(request, token):
    return _respond(request, token, K.RENEWAL)
