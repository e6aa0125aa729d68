"""A small scheduler for periodic jobs: "enqueue X every N seconds", once per period,
however many scheduler processes run (on one machine or several).

Apps register jobs at import time::

    from arenda.core.scheduler import every

    every(60, "crm.read_lead_mail")(read_lead_mail_task)   # a django-tasks Task

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

from django.db import transaction
from django.utils import timezone

from arenda.core.models import PeriodicJob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    seconds: int
    task: object  # a django_tasks Task (has .enqueue())


REGISTRY: dict[str, Job] = {}


def every(seconds: int, name: str):
    """Register a task to be enqueued once every ``seconds``."""
    if seconds < 1:
        raise ValueError("a period is at least one second")

    def register(task):
        REGISTRY[name] = Job(name=name, seconds=seconds, task=task)
        return task

    return register


def period_of(job: Job, now: datetime) -> int:
    return int(now.timestamp()) // job.seconds


def tick(now: datetime | None = None, jobs: dict[str, Job] | None = None) -> list[str]:
    """One pass: enqueue every job whose period has come and that no other scheduler has
    enqueued for this period. Returns the names enqueued by this call."""
    now = now or timezone.now()
    enqueued = []
    for job in (jobs or REGISTRY).values():
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
    while not stop():
        try:
            tick()
        except Exception:  # keep scheduling the other jobs; the error is in the log
            log.exception("scheduler tick failed")
        time.sleep(interval)
