"""Health (docs/health.md): the public /health/ probe, the admin's page, the dashboard banner
and the heartbeats of the scheduler and the task worker."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from arenda.billing.models import Invoice
from arenda.core import health, scheduler
from arenda.core.models import Heartbeat, PeriodicJob
from arenda.core.roles import Role
from arenda.integrations.messaging.models import OutboxMessage
from tests.factories import AccountingBaseFactory, InvoiceFactory

NOW = datetime(2026, 12, 4, 3, 30, tzinfo=UTC)
PARTS = {"database", "migrations", "worker", "scheduler", "data_dir"}


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def fresh(db, clock):
    """Both processes beat just now."""
    health.beat(health.WORKER)
    health.beat(health.SCHEDULER)


@pytest.fixture
def ui(make_user):
    def client_for(role):
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(make_user(role))
        return client

    return client_for


def probe(client=None):
    response = (client or Client()).get("/health/")
    return response, json.loads(response.content)


def test_healthy_answers_200_with_every_part_ok(fresh, settings):
    response, body = probe()
    assert response.status_code == 200
    assert body == {"status": "ok", "checks": dict.fromkeys(PARTS, "ok")}
    assert response["Cache-Control"].startswith("max-age=0")
    # The security headers stay on the probe (docs/security.md).
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response


def test_no_login_no_csrf_and_nothing_but_status_words(fresh, settings):
    client = Client(enforce_csrf_checks=True)
    response, body = probe(client)
    assert response.status_code == 200
    text = response.content.decode()
    words = set(body["checks"].values()) | {body["status"]}
    assert words <= {"ok", "fail", "stale", "missing", "pending"}
    for secret in (settings.SECRET_KEY, str(settings.DATA_DIR), settings.DATABASES["default"]["NAME"]):
        assert str(secret) not in text
    assert not any(ch.isdigit() for ch in text)  # no counts, no times, no paths
    assert client.head("/health/").status_code == 200
    assert client.post("/health/").status_code == 405


def test_a_stale_worker_beat_answers_503_naming_the_worker(fresh, clock, settings):
    settings.HEALTH_WORKER_MAX_AGE = 180
    settings.HEALTH_SCHEDULER_MAX_AGE = 180
    clock.shift(timedelta(seconds=179))
    health.beat(health.SCHEDULER)
    assert probe()[0].status_code == 200
    clock.shift(timedelta(seconds=2))
    response, body = probe()
    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["checks"]["worker"] == "stale"
    assert {name for name, state in body["checks"].items() if state != "ok"} == {"worker"}


def test_a_stale_scheduler_answers_503_naming_the_scheduler(fresh, clock, settings):
    settings.HEALTH_SCHEDULER_MAX_AGE = 60
    clock.shift(timedelta(seconds=61))
    health.beat(health.WORKER)
    response, body = probe()
    assert response.status_code == 503
    assert body["checks"]["scheduler"] == "stale"
    assert body["checks"]["worker"] == "ok"


def test_a_process_that_never_beat_is_missing(db, clock):
    health.beat(health.SCHEDULER)
    response, body = probe()
    assert response.status_code == 503
    assert body["checks"]["worker"] == "missing"


def test_unapplied_migrations_answer_503_naming_migrations(fresh, monkeypatch):
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("core", False)])
    response, body = probe()
    assert response.status_code == 503
    assert body["checks"]["migrations"] == "pending"
    assert body["checks"]["database"] == "ok"


def test_an_unwritable_data_dir_answers_503(fresh, settings, tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    settings.DATA_DIR = not_a_dir  # a file where the directory should be: nothing can be made in it
    response, body = probe()
    assert response.status_code == 503
    assert body["checks"]["data_dir"] == "fail"


def test_a_database_that_does_not_answer_fails_every_part_that_needs_it(fresh, monkeypatch):
    monkeypatch.setattr(health, "_database", lambda: health.Part("database", health.FAIL))
    response, body = probe()
    assert response.status_code == 503
    assert body["checks"] == {**dict.fromkeys(PARTS, "fail"), "data_dir": "ok"}


# --- the heartbeats ---------------------------------------------------------------------------
def test_the_scheduler_tick_writes_its_beat(db, clock):
    scheduler.tick(jobs={})
    assert Heartbeat.objects.get(name="scheduler").beat_at == NOW
    clock.shift(timedelta(seconds=5))
    scheduler.tick(jobs={})
    assert Heartbeat.objects.get(name="scheduler").beat_at == NOW + timedelta(seconds=5)
    assert Heartbeat.objects.count() == 1


def test_the_worker_job_is_a_periodic_job_and_writes_the_worker_beat(db, clock):
    job = scheduler.configured_jobs()["core.worker_heartbeat"]
    assert job.task is health.worker_heartbeat
    health.worker_heartbeat.call()
    assert Heartbeat.objects.get(name="worker").beat_at == NOW


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_enqueues_the_beat_and_a_db_worker_writes_it(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    jobs = {"core.worker_heartbeat": scheduler.configured_jobs()["core.worker_heartbeat"]}
    assert scheduler.tick(jobs=jobs) == ["core.worker_heartbeat"]
    assert not Heartbeat.objects.filter(name="worker").exists()  # enqueued, not run yet
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    assert Heartbeat.objects.filter(name="worker").exists()
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


# --- the admin's page ---------------------------------------------------------------------------
def _failed_task(finished_at, path="arenda.billing.onec.push_due_invoices"):
    return DBTaskResult.objects.create(
        status=TaskResultStatus.FAILED,
        args_kwargs={"args": [], "kwargs": {}},
        task_path=path,
        backend_name="default",
        queue_name="default",
        run_after=finished_at,
        finished_at=finished_at,
        exception_class_path="builtins.RuntimeError",
        traceback="",
    )


def _outbox(status, queued_at, key):
    return OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.EMAIL,
        recipient="x@example.com",
        text="t",
        status=status,
        queued_at=queued_at,
        idempotency_key=key,
    )


def test_the_admin_sees_every_part_and_the_queues(fresh, ui, clock):
    base = AccountingBaseFactory(name="Base A")
    pending = InvoiceFactory(issued=True)
    Invoice.objects.filter(pk=pending.pk).update(accounting_base=base, sync_status=Invoice.SyncStatus.PENDING)
    synced = InvoiceFactory(issued=True)
    Invoice.objects.filter(pk=synced.pk).update(
        accounting_base=base, sync_status=Invoice.SyncStatus.SYNCED, synced_at=NOW - timedelta(hours=2)
    )
    _outbox(OutboxMessage.Status.QUEUED, NOW - timedelta(minutes=7), "a")
    _outbox(OutboxMessage.Status.SENT, NOW - timedelta(days=3), "b")
    _failed_task(NOW - timedelta(hours=3), "tests.recent_failure")
    _failed_task(NOW - timedelta(days=2), "tests.old_failure")
    PeriodicJob.objects.create(name="core.worker_heartbeat", last_period=1, last_enqueued_at=NOW)

    response = ui(Role.ADMIN).get("/ops/health/")
    assert response.status_code == 200
    context = response.context
    assert [part["name"] for part in context["parts"]] == [
        "database",
        "migrations",
        "worker",
        "scheduler",
        "data_dir",
    ]
    assert all(part["ok"] for part in context["parts"])
    worker = next(part for part in context["parts"] if part["name"] == "worker")
    assert worker["beat_at"] == NOW
    counts = {row["label"]: row["count"] for row in context["outbox"]["by_status"]}
    assert counts[OutboxMessage.Status.QUEUED.label] == 1
    assert counts[OutboxMessage.Status.SENT.label] == 1
    assert counts[OutboxMessage.Status.FAILED.label] == 0
    assert context["outbox"]["oldest_queued_age"] == timedelta(minutes=7)
    [row] = context["bases"]
    assert (row.name, row.pending, row.failed, row.last_synced_at) == (
        "Base A",
        1,
        0,
        NOW - timedelta(hours=2),
    )
    assert [task.task_path for task in context["failed_tasks"]["rows"]] == ["tests.recent_failure"]
    jobs = {job["name"]: job for job in context["jobs"]}
    assert jobs["core.worker_heartbeat"]["last_enqueued_at"] == NOW
    assert jobs["core.purge_audit"]["last_enqueued_at"] is None
    html = response.content.decode()
    for anchor in ('id="part-worker"', 'id="outbox"', 'id="bases"', 'id="failed-tasks"', 'id="jobs"'):
        assert anchor in html
    assert "tests.recent_failure" in html and "tests.old_failure" not in html


def test_the_admin_page_shows_a_dead_worker(fresh, ui, clock):
    clock.shift(timedelta(hours=1))
    health.beat(health.SCHEDULER)
    response = ui(Role.ADMIN).get("/ops/health/")
    worker = next(part for part in response.context["parts"] if part["name"] == "worker")
    assert not worker["ok"]
    assert not response.context["health"].ok


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR])
def test_other_roles_may_not_see_the_admin_page(db, ui, role):
    assert ui(role).get("/ops/health/").status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(db):
    response = Client().get("/ops/health/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_admin_page_costs_a_bounded_number_of_queries(fresh, ui, django_assert_max_num_queries):
    client = ui(Role.ADMIN)
    for n in range(5):
        AccountingBaseFactory(name=f"Base {n}")
        _failed_task(NOW - timedelta(minutes=n), f"tests.failure_{n}")
        _outbox(OutboxMessage.Status.QUEUED, NOW - timedelta(minutes=n), f"k{n}")
    with django_assert_max_num_queries(16):
        assert client.get("/ops/health/").status_code == 200


def test_the_admin_navigation_links_the_health_page(db, ui):
    assert 'href="/ops/health/"' in ui(Role.ADMIN).get("/").content.decode()
    assert 'href="/ops/health/"' not in ui(Role.MANAGER).get("/").content.decode()


# --- the dashboard banner ---------------------------------------------------------------------------
def test_the_dashboard_warns_the_admin_when_the_worker_is_down(fresh, ui, clock):
    assert 'id="health-warning"' not in ui(Role.ADMIN).get("/").content.decode()
    clock.shift(timedelta(minutes=10))
    health.beat(health.SCHEDULER)
    response = ui(Role.ADMIN).get("/")
    assert [part.name for part in response.context["down"]] == ["worker"]
    html = response.content.decode()
    assert 'id="health-warning"' in html
    assert "The task worker is not running" in html
    assert "The scheduler is not running" not in html


def test_the_dashboard_does_not_warn_a_manager(fresh, ui, clock):
    clock.shift(timedelta(minutes=10))
    response = ui(Role.MANAGER).get("/")
    assert response.status_code == 200
    assert "down" not in response.context
    assert 'id="health-warning"' not in response.content.decode()


def test_the_admin_page_query_count_does_not_grow_with_the_data(fresh, ui, django_assert_num_queries):
    client = ui(Role.ADMIN)
    with CaptureQueriesContext(connection) as before:
        client.get("/ops/health/")
    for n in range(5):
        AccountingBaseFactory(name=f"Base {n}")
        _failed_task(NOW - timedelta(minutes=n), f"tests.failure_{n}")
        _outbox(OutboxMessage.Status.QUEUED, NOW - timedelta(minutes=n), f"k{n}")
    with django_assert_num_queries(len(before.captured_queries)):
        assert client.get("/ops/health/").status_code == 200


def test_the_dashboard_names_a_dead_scheduler(fresh, ui, clock):
    clock.shift(timedelta(minutes=10))
    health.beat(health.WORKER)
    html = ui(Role.ADMIN).get("/").content.decode()
    assert "The scheduler is not running" in html
    assert "The task worker is not running" not in html


# --- settings ----------------------------------------------------------------------------------------
def _import_settings(tmp_path, **overrides):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DEBUG="1", DATA_DIR=str(tmp_path), **overrides)
    show = "from arenda import settings as s; print(s.HEALTH_WORKER_MAX_AGE, s.PERIODIC_JOBS['core.worker_heartbeat'][0])"
    return subprocess.run(
        [sys.executable, "-c", show],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_max_ages_come_from_the_environment_and_must_exceed_the_beat(tmp_path):
    result = _import_settings(tmp_path, HEALTH_WORKER_MAX_AGE="25", HEALTH_WORKER_BEAT_SECONDS="10")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["25", "10"]
    result = _import_settings(tmp_path, HEALTH_WORKER_MAX_AGE="60", HEALTH_WORKER_BEAT_SECONDS="60")
    assert result.returncode != 0
    assert "HEALTH_WORKER_MAX_AGE" in result.stderr
