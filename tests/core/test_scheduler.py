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


def test_every_registers_and_refuses_a_zero_period():
    task = CountingTask()
    assert scheduler.every(30, "tests.noop")(task) is task
    assert scheduler.REGISTRY["tests.noop"].seconds == 30
    del scheduler.REGISTRY["tests.noop"]
    with pytest.raises(ValueError):
        scheduler.every(0, "tests.bad")
