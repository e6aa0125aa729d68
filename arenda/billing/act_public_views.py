"""The customer's link of a closing document (docs/closing-forms.md): no login; the
unguessable token is the key, as for the КП (``crm/public_views.py``). The customer reads the
document, downloads its PDF and accepts it, naming who signs; the accountant is told. An
unknown token, a draft or a cancelled document is a plain 404, like a page that does not
exist. The accept posts are rate-limited like the КП's and carry Django's CSRF check."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from arenda.billing import act_mail
from arenda.billing.act_document_views import ACT_RELATED, act_pdf_response
from arenda.billing.act_printing import act_context
from arenda.billing.models import Act
from arenda.billing.services import BillingRefused
from arenda.core.network import client_address
from arenda.crm.intake import rate_limit_wait
from arenda.crm.public_views import _private
from arenda.front.forms import ServiceErrorsMixin

RATE_SOURCE = "act"
SHOWN = (Act.Status.ISSUED, Act.Status.SENT, Act.Status.SIGNED)


class AcceptForm(ServiceErrorsMixin, forms.Form):
    signer = forms.CharField(
        label=gettext_lazy("Your name and position"),
        max_length=200,
        error_messages={"required": gettext_lazy("Say who accepts the document.")},
    )


def _act_for(token: str) -> Act:
    act = (
        Act.objects.select_related(*ACT_RELATED).filter(accept_token=token).first()
        if token and len(token) <= 64
        else None
    )
    # Compare again in Python: some databases match text case-insensitively.
    if act is None or act.accept_token != token or act.status not in SHOWN:
        raise Http404
    return act


def _page(request, act: Act, token: str, *, form=None, refusal: str = "", status: int = 200):
    context = act_context(act)
    page = {
        "act": act,
        "token": token,
        "doc": context,
        "form": form or AcceptForm(),
        "refusal": refusal,
        "can_accept": act.status != Act.Status.SIGNED,
    }
    return _private(render(request, "billing/act_public.html", page, status=status))


@require_GET
def act_page(request, token):
    return _page(request, _act_for(token), token)


@require_GET
def act_pdf(request, token):
    return _private(act_pdf_response(_act_for(token), attachment=True))


@require_POST
def act_accept(request, token):
    act = _act_for(token)
    wait = rate_limit_wait(RATE_SOURCE, client_address(request))
    if wait:
        refusal = _("Too many requests from your address. Try again in %(seconds)s s.") % {"seconds": wait}
        response = _page(request, act, token, refusal=refusal, status=429)
        response["Retry-After"] = str(wait)
        return response
    if act.status == Act.Status.SIGNED:
        return redirect("act_public:page", token=token)
    form = AcceptForm(request.POST)
    if form.is_valid():
        try:
            act_mail.act_accept(act=act, signer=form.cleaned_data["signer"])
        except BillingRefused as exc:
            return _page(request, _act_for(token), token, refusal=exc.detail, status=409)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Thank you! The document is accepted."))
            return redirect("act_public:page", token=token)
    return _page(request, act, token, form=form, status=400)
