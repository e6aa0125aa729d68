"""The customer's side of the КП: no login; the unguessable token in the link is the key.
A wrong token is a plain 404, the same as a page that does not exist."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from arenda.crm import services
from arenda.crm.models import Deal
from arenda.crm.proposal import proposal_filename, render_proposal_html, render_proposal_pdf
from arenda.flows import deals


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


@require_GET
def proposal_page(request, token):
    deal = _deal_for(token)
    context = {
        "deal": deal,
        "token": token,
        "document": mark_safe(render_proposal_html(deal, "crm/proposal_body.html")),  # noqa: S308 — our template, autoescaped
        "can_accept": deal.is_editable() and deal.lines.exists(),
    }
    return _private(render(request, "crm/proposal_public.html", context))


@require_GET
def proposal_pdf(request, token):
    deal = _deal_for(token)
    response = HttpResponse(render_proposal_pdf(deal), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{proposal_filename(deal)}"'
    return _private(response)


@require_POST
def proposal_accept(request, token):
    """The customer accepts: the deal is agreed and its bookings made — once, however many
    times the button is pressed."""
    deal = _deal_for(token)
    try:
        deals.deal_agree(deal=deal, by=None, by_customer=True)
    except services.FunnelRefused as exc:
        messages.error(request, exc.detail)
    return redirect("proposal:page", token=token)
