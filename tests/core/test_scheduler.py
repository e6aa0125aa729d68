import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from arenda.core import scheduler
from arenda.core.models import PeriodicJob


class CountingTask:
    def __init__(self):
        self.calls = 0
        self.lock = threading.Lock()

    def enqueue(self, *args, **kwargs):
        with self.lock:
            self.calls += 1


@pytest.mark.django_db
def test_a_job_is_enqueued_once_per_period():
    task = CountingTask()
    jobs = {"demo": scheduler.Job("demo", 60, task)}
    start = datetime(2026, 11, 27, 10, 0, 5, tzinfo=UTC)
    assert scheduler.tick(start, jobs) == ["demo"]
    assert scheduler.tick(start + timedelta(seconds=30), jobs) == []
    assert scheduler.tick(start + timedelta(seconds=56), jobs) == ["demo"]
    assert task.calls == 2
    assert PeriodicJob.objects.get(name="demo").last_enqueued_at == start + timedelta(seconds=56)


@pytest.mark.django_db(transaction=True)
def test_many_schedulers_at_once_enqueue_once():
    task = CountingTask()
    jobs = {"race": scheduler.Job("race", 3600, task)}
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    PeriodicJob.objects.create(name="race")
    barrier = threading.Barrier(8)

    def run():
        try:
            barrier.wait()
            scheduler.tick(now, jobs)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert task.calls == 1


NOOP = CountingTask()


def test_jobs_are_declared_in_settings_and_a_zero_period_is_refused(settings):
    settings.PERIODIC_JOBS = {"tests.noop": (30, "tests.core.test_scheduler.NOOP")}
    jobs = scheduler.configured_jobs()
    assert jobs["tests.noop"].task is NOOP and jobs["tests.noop"].seconds == 30
    with pytest.raises(ValueError):
        scheduler.configured_jobs({"tests.bad": (0, "tests.core.test_scheduler.NOOP")})
    with pytest.raises(ValueError):
        scheduler.configured_jobs(
            {"tests.bad": (60, "tests.core.test_scheduler.test_every_declared_job_names_a_task")}
        )


def test_every_declared_job_names_a_task():
    jobs = scheduler.configured_jobs()
    assert set(jobs) == {
        "messaging.deliver_due",
        "messaging.poll_statuses",
        "messaging.purge_inbound",
        "crm.read_lead_mail",
        "billing.push_due_invoices",
        "billing.pull_1c_payments",
        "bookings.close_settled_bookings",
        "core.purge_audit",
        "core.worker_heartbeat",
        "directory.notify_expiring_documents",
        "billing.make_due_acts",
        "billing.reconciliation_quarterly",
        "bookings.repair_trip_ledger",
        "telematics.fetch_due",
        "telematics.fetch_yesterday",
    }
    assert all(callable(job.task.enqueue) for job in jobs.values())
