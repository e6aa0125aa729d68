"""Health: the public ``/health/`` probe and the admin's detailed page (docs/health.md).
Both read ``arenda.core.health.check``, as the dashboard banner does (arenda/front/views.py)."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required, login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, Q
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from arenda.billing.models import Invoice
from arenda.core import health as core_health
from arenda.core.models import Heartbeat, PeriodicJob
from arenda.core.roles import Role, role_of
from arenda.directory.models import AccountingBase
from arenda.integrations.messaging.models import OutboxMessage

PART_LABELS = {
    "database": _("Database"),
    "migrations": _("Migrations"),
    core_health.WORKER: _("Task worker"),
    core_health.SCHEDULER: _("Scheduler"),
    "data_dir": _("Data directory"),
}
STATE_LABELS = {
    core_health.OK: _("OK"),
    core_health.FAIL: _("Failed"),
    core_health.STALE: _("Not responding"),
    core_health.MISSING: _("Never started"),
    core_health.PENDING: _("Not applied"),
}
FAILED_TASKS_SHOWN = 50


# No login (a load balancer or a monitor asks), no CSRF token (it only reads), and the security
# headers of every response (SecurityMiddleware, CSP) still apply.
@login_not_required
@csrf_exempt
@never_cache
@require_safe
def health(request):
    result = core_health.check()
    return JsonResponse(result.as_dict(), status=200 if result.ok else 503)


@login_required
@require_safe
def health_detail(request):
    if role_of(request.user) != Role.ADMIN:
        raise PermissionDenied
    now = timezone.now()
    result = core_health.check(now)
    details = dict(Heartbeat.objects.values_list("name", "detail"))
    parts = [
        {
            "name": part.name,
            "label": PART_LABELS.get(part.name, part.name),
            "ok": part.ok,
            "state": STATE_LABELS.get(part.state, part.state),
            "beat_at": part.beat_at,
            "detail": details.get(part.name, ""),
        }
        for part in result.parts
    ]
    return render(
        request,
        "ops/health.html",
        {
            "health": result,
            "parts": parts,
            "outbox": _outbox(now),
            "bases": _bases(),
            "failed_tasks": _failed_tasks(now),
            "jobs": _jobs(),
            "now": now,
        },
    )


def _outbox(now) -> dict:
    """Messages by status and the age of the oldest one still queued (two queries)."""
    by_status = dict(OutboxMessage.objects.values_list("status").annotate(n=Count("pk")).order_by())
    oldest = OutboxMessage.objects.filter(status=OutboxMessage.Status.QUEUED).aggregate(at=Min("queued_at"))[
        "at"
    ]
    return {
        "by_status": [
            {"label": label, "count": by_status.get(value, 0)}
            for value, label in OutboxMessage.Status.choices
        ],
        "oldest_queued_at": oldest,
        "oldest_queued_age": now - oldest if oldest else None,
    }


def _bases() -> list:
    """Per 1C base: invoices waiting for 1C or failed, and the last invoice 1C accepted."""
    S = Invoice.SyncStatus
    return list(
        AccountingBase.objects.filter(is_active=True)
        .annotate(
            pending=Count("invoices", filter=Q(invoices__sync_status=S.PENDING)),
            failed=Count("invoices", filter=Q(invoices__sync_status=S.FAILED)),
            last_synced_at=Max("invoices__synced_at"),
        )
        .order_by("name")
    )


def _failed_tasks(now) -> dict:
    failed = DBTaskResult.objects.filter(
        status=TaskResultStatus.FAILED, finished_at__gte=now - timedelta(days=1)
    ).order_by("-finished_at")
    rows = list(failed.only("task_path", "finished_at", "exception_class_path")[:FAILED_TASKS_SHOWN])
    return {"rows": rows, "more": len(rows) == FAILED_TASKS_SHOWN and failed.count() > FAILED_TASKS_SHOWN}


def _jobs() -> list[dict]:
    """The periodic jobs of ``PERIODIC_JOBS`` with the time the scheduler last enqueued each."""
    last = dict(PeriodicJob.objects.values_list("name", "last_enqueued_at"))
    return [
        {"name": name, "seconds": seconds, "last_enqueued_at": last.get(name)}
        for name, (seconds, _path) in sorted(settings.PERIODIC_JOBS.items())
    ]
