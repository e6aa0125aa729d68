"""What ``/metrics`` serves (docs/metrics.md): the counters of this process — or, with
``PROMETHEUS_MULTIPROC_DIR``, of all processes — and gauges read from the database at scrape
time, exact however many processes run.

The database gauges are three grouped counts, each one query filtered on an indexed status
column to the rows still waiting (or failed): what was delivered or has finished, the bulk
of both tables, is never read."""

import os

from django.db.models import Count, Min
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from arenda.integrations.messaging.models import OutboxMessage

# Statuses whose messages are still on their way: their age tells of a stuck channel.
OUTBOX_WAITING = (OutboxMessage.Status.QUEUED, OutboxMessage.Status.SENDING)
# The outbox's depth: what waits, and what gave up (delivered messages are counted by nobody).
OUTBOX_COUNTED = (*OUTBOX_WAITING, OutboxMessage.Status.FAILED)
TASKS_COUNTED = (TaskResultStatus.READY, TaskResultStatus.RUNNING)


class DatabaseCollector:
    """The outbox by channel and status, the oldest waiting message's age, and the task
    queue by status."""

    def collect(self):
        depth = GaugeMetricFamily(
            "arenda_outbox_messages",
            "Messages waiting in the outbox or failed, by channel and status.",
            labels=["channel", "status"],
        )
        counts = {
            (row["channel"], row["status"]): row["n"]
            for row in OutboxMessage.objects.filter(status__in=OUTBOX_COUNTED)
            .values("channel", "status")
            .annotate(n=Count("pk"))
            .order_by()
        }
        channels = sorted({*OutboxMessage.Channel.values, *(channel for channel, _ in counts)})
        for channel in channels:
            for status in OUTBOX_COUNTED:
                depth.add_metric([channel, status], counts.get((channel, status), 0))
        yield depth

        age = GaugeMetricFamily(
            "arenda_outbox_oldest_waiting_seconds",
            "Age of the oldest queued or sending outbox message, by channel (0 when none waits).",
            labels=["channel"],
        )
        oldest = dict(
            OutboxMessage.objects.filter(status__in=OUTBOX_WAITING)
            .values_list("channel")
            .annotate(oldest=Min("queued_at"))
            .order_by()
        )
        now = timezone.now()
        for channel in channels:
            queued_at = oldest.get(channel)
            age.add_metric([channel], max((now - queued_at).total_seconds(), 0) if queued_at else 0)
        yield age

        tasks = GaugeMetricFamily(
            "arenda_task_queue",
            "Background tasks waiting or running in the database queue, by queue and status.",
            labels=["queue", "status"],
        )
        for row in (
            DBTaskResult.objects.filter(status__in=TASKS_COUNTED)
            .values("queue_name", "status")
            .annotate(n=Count("pk"))
            .order_by("queue_name", "status")
        ):
            tasks.add_metric([row["queue_name"], row["status"]], row["n"])
        yield tasks


def exposition() -> bytes:
    """The text of ``/metrics`` in Prometheus' format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector())
    return generate_latest(processes) + generate_latest(database)
