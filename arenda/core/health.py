"""Is Arenda healthy? One function, :func:`check`, read by ``/health/`` (arenda/ops/views.py),
the admin's health page and the dashboard banner (arenda/front/views.py); docs/health.md.

Parts and their states (plain words only, so the public endpoint leaks nothing):

- ``database``: ``ok`` when ``SELECT 1`` answers, else ``fail``;
- ``migrations``: ``ok`` when the migration plan to the latest nodes is empty, ``pending``
  when some are not applied, ``fail`` when it cannot be read;
- ``worker`` and ``scheduler``: ``ok`` when their :class:`Heartbeat` is younger than
  ``HEALTH_WORKER_MAX_AGE`` / ``HEALTH_SCHEDULER_MAX_AGE`` seconds, ``stale`` when older,
  ``missing`` when they never beat, ``fail`` when the database cannot say;
- ``data_dir``: ``ok`` when a file can be made in ``DATA_DIR``, else ``fail``.

The scheduler beats on every tick (core/scheduler.py). The worker beats when it runs
:func:`worker_heartbeat`, a periodic job the scheduler enqueues (``PERIODIC_JOBS`` in
settings.py) — so a dead worker shows even while the scheduler lives.
"""

import logging
import os
import socket
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_tasks import task

from arenda.core.models import Heartbeat

log = logging.getLogger(__name__)

WORKER = "worker"
SCHEDULER = "scheduler"
OK, FAIL, STALE, MISSING, PENDING = "ok", "fail", "stale", "missing", "pending"


@dataclass(frozen=True)
class Part:
    name: str
    state: str
    beat_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.state == OK


@dataclass(frozen=True)
class Health:
    parts: tuple[Part, ...]

    @property
    def ok(self) -> bool:
        return all(part.ok for part in self.parts)

    @property
    def failing(self) -> list[str]:
        return [part.name for part in self.parts if not part.ok]

    def as_dict(self) -> dict:
        """The public answer: status words only, no numbers, no error texts."""
        return {"status": OK if self.ok else FAIL, "checks": {part.name: part.state for part in self.parts}}


def beat(name: str, now: datetime | None = None, detail: str = "") -> None:
    Heartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": now or timezone.now(), "detail": detail[:200]}
    )


@task()
def worker_heartbeat() -> None:
    """Every minute (``PERIODIC_JOBS``): the worker that runs it says it is alive."""
    beat(WORKER, detail=f"{socket.gethostname()} pid {os.getpid()}")


def _max_ages() -> dict[str, timedelta]:
    return {
        WORKER: timedelta(seconds=settings.HEALTH_WORKER_MAX_AGE),
        SCHEDULER: timedelta(seconds=settings.HEALTH_SCHEDULER_MAX_AGE),
    }


def processes(now: datetime | None = None) -> list[Part]:
    """The worker and the scheduler, from their heartbeats (one query)."""
    now = now or timezone.now()
    max_ages = _max_ages()
    try:
        beats = dict(Heartbeat.objects.filter(name__in=max_ages).values_list("name", "beat_at"))
    except DatabaseError:
        log.warning("health: heartbeats unreadable", exc_info=True)
        return [Part(name, FAIL) for name in max_ages]
    parts = []
    for name, max_age in max_ages.items():
        beat_at = beats.get(name)
        fresh = beat_at is not None and now - beat_at <= max_age
        state = OK if fresh else MISSING if beat_at is None else STALE
        parts.append(Part(name, state, beat_at))
    return parts


def _database() -> Part:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        log.warning("health: the database does not answer", exc_info=True)
        return Part("database", FAIL)
    return Part("database", OK)


def _migrations() -> Part:
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:  # any failure to read the plan is a failed check, told in the log
        log.warning("health: the migration plan is unreadable", exc_info=True)
        return Part("migrations", FAIL)
    if plan:
        log.warning("health: %d migrations are not applied", len(plan))
        return Part("migrations", PENDING)
    return Part("migrations", OK)


def _data_dir() -> Part:
    try:
        with tempfile.TemporaryFile(dir=settings.DATA_DIR):
            pass
    except OSError:
        log.warning("health: DATA_DIR is not writable", exc_info=True)
        return Part("data_dir", FAIL)
    return Part("data_dir", OK)


def check(now: datetime | None = None) -> Health:
    """Every part, in the order /health/ lists them."""
    database = _database()
    if not database.ok:
        # Without a database nothing else can be read; say so without waiting on each.
        return Health(
            (database, Part("migrations", FAIL), *(Part(name, FAIL) for name in _max_ages()), _data_dir())
        )
    return Health((database, _migrations(), *processes(now), _data_dir()))
