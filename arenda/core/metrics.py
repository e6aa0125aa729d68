"""The application's own Prometheus metrics (docs/metrics.md). They are defined here, in the
lowest layer, so that the code that emits them (billing, bookings, crm, the task hooks below)
increments them without importing the entry layer; ``arenda/ops/metrics_views.py`` serves them at
``/metrics`` with django-prometheus' request metrics and the gauges read from the database
(``arenda/ops/metrics.py``).

They count per process. With several processes (gunicorn workers, db_worker) set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before they start: prometheus_client then
keeps the values in files there and ``/metrics`` adds them up.

Labels are bounded: task paths, outcomes, lead sources, conflict codes and 1C base ids —
never a person's data."""

from prometheus_client import Counter, Histogram

TASKS = Counter(
    "arenda_tasks_total",
    "Background tasks finished, by task path and outcome (successful, failed).",
    ["task", "outcome"],
)
TASK_SECONDS = Histogram(
    "arenda_task_duration_seconds",
    "How long background tasks ran, by task path and outcome.",
    ["task", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
ONEC_PUSHES = Counter(
    "arenda_onec_push_total",
    "Attempts to put an invoice into 1C, by 1C base id and outcome (synced, retry, failed, not_needed).",
    ["base", "outcome"],
)
ONEC_PULLS = Counter(
    "arenda_onec_pull_total",
    "Reads of payments from a 1C base, by base id and outcome (ok, error).",
    ["base", "outcome"],
)
LEADS = Counter(
    "arenda_leads_received_total",
    "Requests taken in by lead intake, by source and outcome (new lead, joined an open one).",
    ["source", "outcome"],
)
BOOKINGS_RESERVED = Counter(
    "arenda_bookings_reserved_total",
    "Reservations of a unit and a driver written by bookings.services.",
)
BOOKING_CONFLICTS = Counter(
    "arenda_booking_conflicts_total",
    "Reservations refused for a business conflict, by the conflict's code.",
    ["code"],
)
