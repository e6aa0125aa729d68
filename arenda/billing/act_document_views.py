"""The closing document's paper side for the staff (docs/closing-forms.md): its PDF, and
«Отправить заказчику» — the PDF by e-mail through the outbox, with the customer's link.
The buttons are ``billing/_act_documents.html``, included on the act's page."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from arenda.billing import act_mail
from arenda.billing.act_printing import act_filename, render_act_pdf
from arenda.billing.models import Act
from arenda.billing.services import BillingRefused
from arenda.core.permissions import require
from arenda.core.roles import Action
from arenda.front.forms import ServiceErrorsMixin

ACT_RELATED = ("organization", "counterparty", "corrects", "deal__contact")


class ActSendForm(ServiceErrorsMixin, forms.Form):
    to = forms.EmailField(label=gettext_lazy("E-mail"), max_length=254)
    key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


def act_pdf_response(act: Act, *, attachment: bool = False) -> HttpResponse:
    """The act's PDF; a cancelled act does not print (404), a draft prints marked «ЧЕРНОВИК»."""
    if act.status == Act.Status.CANCELLED:
        raise Http404
    response = HttpResponse(render_act_pdf(act), content_type="application/pdf")
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{act_filename(act)}"'
    return response


@require(Action.VIEW, "invoice")
def act_pdf(request, pk):
    return act_pdf_response(get_object_or_404(Act.objects.select_related(*ACT_RELATED), pk=pk))


def _back(request, act: Act):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(act_mail.act_page_url(act))


def _page(request, act: Act, form: ActSendForm, *, error: str = "", status: int = 200):
    return render(request, "billing/act_send.html", {"act": act, "form": form, "error": error}, status=status)


@require(Action.CHANGE, "invoice")
@require_http_methods(["GET", "POST"])
def act_send(request, pk):
    """GET: the send form on a page of its own; POST: send (the form on the act's page posts
    here). A bad address shows the form again with its error (400); a draft or a cancelled
    act is refused (409)."""
    act = get_object_or_404(Act.objects.select_related(*ACT_RELATED), pk=pk)
    if request.method == "GET":
        form = ActSendForm(initial={"to": act_mail.default_recipient(act), "key": act_mail.new_key()})
        return _page(request, act, form)
    form = ActSendForm(request.POST)
    if form.is_valid():
        try:
            act_mail.act_send(
                act=act, to=form.cleaned_data["to"], by=request.user, key=form.cleaned_data["key"]
            )
        except BillingRefused as exc:
            return _page(request, act, form, error=exc.detail, status=409)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request, _("%(act)s is sent to %(to)s.") % {"act": act, "to": form.cleaned_data["to"]}
            )
            return _back(request, act)
    return _page(request, act, form, status=400)
