"""A small scheduler for periodic jobs: "enqueue X every N seconds", once per period,
however many scheduler processes run (on one machine or several).

The jobs are listed in one place, ``PERIODIC_JOBS`` in settings.py: a name, the period in
seconds and the dotted path of a django-tasks Task, e.g.
``"crm.read_lead_mail": (60, "arenda.crm.tasks.read_lead_mail_task")``. The path is
resolved when the scheduler starts (as Django resolves its own settings), so the
foundation names no module above it.

``python manage.py run_scheduler`` ticks every few seconds; each tick, for each job, it
computes the current period number (seconds since the epoch // period) and tries
``UPDATE core_periodicjob SET last_period = <now> WHERE name = … AND last_period < <now>``.
The database makes exactly one scheduler win that update; the winner enqueues the task
(in the same transaction, so a crash between the two loses nothing: the update rolls
back). The work itself then runs on any ``db_worker``.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from arenda.core.health import SCHEDULER, beat
from arenda.core.models import PeriodicJob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    seconds: int
    task: object  # a django_tasks Task (has .enqueue())


def configured_jobs(declared: dict[str, tuple[int, str]] | None = None) -> dict[str, Job]:
    """The jobs of ``PERIODIC_JOBS`` (or ``declared``), their tasks imported. A period under
    one second, or a path that names no task, stops the scheduler with the job's name."""
    jobs = {}
    for name, (seconds, path) in (settings.PERIODIC_JOBS if declared is None else declared).items():
        if seconds < 1:
            raise ValueError(f"periodic job {name!r}: a period is at least one second")
        task = import_string(path)
        if not hasattr(task, "enqueue"):
            raise ValueError(f"periodic job {name!r}: {path} is not a task")
        jobs[name] = Job(name=name, seconds=seconds, task=task)
    return jobs


def period_of(job: Job, now: datetime) -> int:
    return int(now.timestamp()) // job.seconds


def tick(now: datetime | None = None, jobs: dict[str, Job] | None = None) -> list[str]:
    """One pass: enqueue every job whose period has come and that no other scheduler has
    enqueued for this period, after recording the scheduler's heartbeat. Returns the names
    enqueued by this call."""
    now = now or timezone.now()
    beat(SCHEDULER, now)  # the scheduler's sign of life (core/health.py)
    enqueued = []
    for job in (configured_jobs() if jobs is None else jobs).values():
        period = period_of(job, now)
        PeriodicJob.objects.get_or_create(name=job.name)
        with transaction.atomic():
            won = PeriodicJob.objects.filter(name=job.name, last_period__lt=period).update(
                last_period=period, last_enqueued_at=now
            )
            if won:
                job.task.enqueue()
                enqueued.append(job.name)
    if enqueued:
        log.info("scheduler enqueued %s", ", ".join(enqueued))
    return enqueued


def run_forever(interval: float = 5.0, stop=lambda: False) -> None:
    jobs = configured_jobs()
    while not stop():
        try:
            tick(jobs=jobs)
        except Exception:  # keep scheduling the other jobs; the error is in the log
            log.exception("scheduler tick failed")
        time.sleep(interval)
