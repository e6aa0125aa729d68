from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenda.core.permissions import require_role
from arenda.core.roles import Action, can
from arenda.directory.models import Counterparty, Driver, MaintenanceWindow, Unit

LICENCE_WARNING_DAYS = 30

# Areas of PRODUCT.md that are not built yet: the navigation leads here instead of nowhere.
COMING_AREAS = {
    "invoices": {
        "title": _("Invoices"),
        "text": _(
            "Prepayment and post-payment invoices printed at once (requisites, VAT, amount in words, payment "
            "QR code) and created in the counterparty's 1C base."
        ),
    },
    "payments": {
        "title": _("Payments"),
        "text": _(
            "Payments from 1C, from imported bank statements or entered by hand, matched to invoices; a paid "
            "prepayment lets the booking be confirmed."
        ),
    },
    "1c-sync": {
        "title": _("1C sync"),
        "text": _(
            "The state of the exchange with each 1C base: invoices waiting, synced or failed with the last "
            "error, retried with back-off and never created twice."
        ),
    },
    "reports": {
        "title": _("Reports"),
        "text": _(
            "Driver payroll, plates, receivables and fleet utilisation for any period — on screen as a "
            "table and a chart, and as XLSX or CSV."
        ),
    },
}


@login_required
def dashboard(request):
    require_role(request)
    now = timezone.now()
    today = timezone.localdate()
    user = request.user
    context = {"counts": [], "in_maintenance": None, "licences": None}
    for resource, model, label, url in (
        ("counterparty", Counterparty, _("Counterparties"), "directory:counterparty_list"),
        ("unit", Unit, _("Active units"), "directory:unit_list"),
        ("driver", Driver, _("Active drivers"), "directory:driver_list"),
    ):
        if can(user, Action.VIEW, resource):
            qs = model.objects.all() if model is Counterparty else model.objects.filter(is_active=True)
            context["counts"].append({"resource": resource, "label": label, "value": qs.count(), "url": url})
    if can(user, Action.VIEW, "unit"):
        context["in_maintenance"] = list(
            MaintenanceWindow.objects.filter(start__lte=now, end__gt=now)
            .select_related("unit__equipment_type")
            .order_by("end")[:20]
        )
    if can(user, Action.VIEW, "driver"):
        context["licences"] = list(
            Driver.objects.filter(
                is_active=True, license_valid_until__lte=today + timedelta(days=LICENCE_WARNING_DAYS)
            ).order_by("license_valid_until")[:20]
        )
    context["today"] = today
    context["warning_days"] = LICENCE_WARNING_DAYS
    return render(request, "core/dashboard.html", context)


@login_required
def coming(request, area: str):
    require_role(request)
    if area not in COMING_AREAS:
        raise Http404
    return render(request, "core/coming.html", {"area": COMING_AREAS[area], "slug": area})
