from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenda.billing.models import Invoice
from arenda.billing.selectors import owed_on, receivables
from arenda.core import health
from arenda.core.money import rubles
from arenda.core.permissions import require_role
from arenda.core.roles import Action, Role, can, role_of
from arenda.directory.models import Counterparty, Driver, MaintenanceWindow, Unit
from arenda.directory.selectors import EXPIRY_NOTICE_DAYS, documents_expiring

LICENCE_WARNING_DAYS = 30
# A push to 1C waiting longer than this is shown as stuck (the task runs every minute).
SYNC_STUCK_AFTER = timedelta(minutes=10)


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
    if can(user, Action.VIEW, "driver_document"):
        context["documents_expiring"] = list(documents_expiring(today)[:30])
        context["document_days"] = EXPIRY_NOTICE_DAYS
    context["receivables"] = _receivables(now, today) if can(user, Action.VIEW, "invoice") else None
    context["today"] = today
    context["warning_days"] = LICENCE_WARNING_DAYS
    # The admin is told when a background process is down (core/health.py; ops/health.html
    # has the details): its heartbeats only, one query.
    if role_of(user) == Role.ADMIN:
        context["down"] = [part for part in health.processes(now) if not part.ok]
    return render(request, "front/dashboard.html", context)


def _receivables(now, today) -> dict:
    """What customers owe today, counted as the receivables report counts it
    (``billing.selectors``): four queries however many invoices there are."""
    owed = receivables(today)
    # the five oldest picked from the narrow rows first, then read whole with their parties:
    # joining every open invoice to its counterparty only to keep five costs more
    first = dict(owed_on(today).order_by("due_date", "date", "pk").values_list("pk", "due_k")[:5])
    place = {pk: n for n, pk in enumerate(first)}  # the database's order
    oldest = sorted(
        Invoice.objects.filter(pk__in=first).select_related("counterparty", "organization"),
        key=lambda invoice: place[invoice.pk],
    )
    for invoice in oldest:
        invoice.owed = rubles(first[invoice.pk])
        invoice.due_k = first[invoice.pk]
    stuck = Invoice.objects.filter(
        Q(sync_status=Invoice.SyncStatus.FAILED)
        | Q(sync_status=Invoice.SyncStatus.PENDING, issued_at__lt=now - SYNC_STUCK_AFTER)
    )
    return {
        "unpaid": owed.total,
        "overdue": owed.overdue,
        "credit": owed.credit,
        "oldest": oldest,
        "stuck": list(
            stuck.select_related("counterparty", "accounting_base").order_by("issued_at", "pk")[:10]
        ),
    }
