"""The reconciliation statement's page (``arenda/billing/reconciliation.py``): from the
counterparty's page, a period (the last full quarter by default) and our legal entity, the
statement on screen and as PDF or XLSX. Who may see it: whoever sees the receivables report
(``core/roles.py``, resource ``report``). The form is the API's too (``api/reconciliation.py``)."""

from django import forms
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from arenda.billing import reconciliation as recon
from arenda.core.permissions import require
from arenda.core.roles import Action
from arenda.directory.models import Counterparty, Organization
from arenda.reports.core import MAX_PERIOD_DAYS, ISODateField
from arenda.reports.reconciliation import XLSX_TYPE, render_statement_xlsx

FORMATS = ("html", "json", "pdf", "xlsx")


class ReconciliationForm(forms.Form):
    """The statement's parameters. With ``defaults`` (the page), a missing period is the last
    full quarter; without (the API), the dates are required."""

    start = ISODateField(label=gettext_lazy("from"))
    end = ISODateField(label=gettext_lazy("to"))
    organization = forms.ModelChoiceField(
        label=gettext_lazy("Our legal entity"),
        queryset=Organization.objects.order_by("name", "pk"),
        required=False,
    )
    format = forms.ChoiceField(required=False, choices=[(f, f) for f in FORMATS], widget=forms.HiddenInput)

    def __init__(self, data=None, *, counterparty, defaults: bool = False, **kwargs):
        self.counterparty = counterparty
        if defaults:
            data = data.copy() if data is not None else {}
            start, end = recon.last_full_quarter(timezone.localdate())
            if not data.get("start"):
                data["start"] = start.isoformat()
            if not data.get("end"):
                data["end"] = end.isoformat()
            if not data.get("organization") and (chosen := recon.default_organization_for(counterparty)):
                data["organization"] = str(chosen.pk)
        super().__init__(data, **kwargs)
        if Organization.objects.count() < 2:
            self.fields["organization"].widget = forms.HiddenInput()

    def clean_start(self):
        value = self.cleaned_data.get("start")
        if value is None:
            raise forms.ValidationError(_("Give the first day of the period."), code="required")
        return value

    def clean_end(self):
        value = self.cleaned_data.get("end")
        if value is None:
            raise forms.ValidationError(_("Give the last day of the period."), code="required")
        return value

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The period ends before it starts."))
            elif (end - start).days + 1 > MAX_PERIOD_DAYS:
                self.add_error("end", _("The period is longer than three years."))
        if not self.errors and not data.get("organization"):
            data["organization"] = recon.default_organization_for(self.counterparty)
            if data["organization"] is None:
                self.add_error("organization", _("There is no legal entity of ours yet."))
        return data

    def statement(self) -> recon.Statement:
        d = self.cleaned_data
        return recon.statement(self.counterparty, d["organization"], d["start"], d["end"])


def file_response(s: recon.Statement, fmt: str) -> HttpResponse:
    """The statement as a PDF or an XLSX download."""
    if fmt == "pdf":
        response = HttpResponse(recon.render_statement_pdf(s), content_type="application/pdf")
    else:
        response = HttpResponse(render_statement_xlsx(s), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{recon.statement_filename(s, fmt)}"'
    return response


@require(Action.VIEW, "report")
def reconciliation(request, counterparty_pk: int, fmt: str = ""):
    counterparty = get_object_or_404(Counterparty, pk=counterparty_pk)
    form = ReconciliationForm(request.GET, counterparty=counterparty, defaults=True)
    context = {"counterparty": counterparty, "form": form, "statement": None}
    if not form.is_valid():
        return render(request, "billing/reconciliation.html", context, status=400)
    fmt = fmt or form.cleaned_data.get("format") or "html"
    s = form.statement()
    if fmt in ("pdf", "xlsx"):
        return file_response(s, fmt)
    query = request.GET.copy()
    query["start"], query["end"] = f"{s.start:%Y-%m-%d}", f"{s.end:%Y-%m-%d}"
    query["organization"] = str(s.organization.pk)
    query.pop("format", None)
    context.update(statement=s, query=query.urlencode())
    return render(request, "billing/reconciliation.html", context)
