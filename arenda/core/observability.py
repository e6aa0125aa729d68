"""Hooks on django-tasks' signals, one place for every task whichever backend runs it (the
database worker, the immediate backend of ``TASKS_IMMEDIATE``): while a task runs its id is in
the logs (``arenda/core/logcontext.py``); when it finishes it is counted and timed
(``arenda/core/metrics.py``), and a failure is reported to Sentry when ``SENTRY_DSN`` is set
(docs/metrics.md). Connected by ``CoreConfig.ready``."""

import logging
import sys

import sentry_sdk
from django_tasks import TaskResultStatus
from django_tasks.signals import task_finished, task_started

from arenda.core import logcontext, metrics

log = logging.getLogger(__name__)

_task_tokens: dict[str, object] = {}


def _on_started(sender, task_result, **kwargs) -> None:
    _task_tokens[task_result.id] = logcontext.task_id.set(str(task_result.id))


def _on_finished(sender, task_result, **kwargs) -> None:
    try:
        path = task_result.task.module_path
        outcome = "failed" if task_result.status == TaskResultStatus.FAILED else "successful"
        metrics.TASKS.labels(task=path, outcome=outcome).inc()
        if task_result.started_at and task_result.finished_at:
            seconds = (task_result.finished_at - task_result.started_at).total_seconds()
            metrics.TASK_SECONDS.labels(task=path, outcome=outcome).observe(max(seconds, 0))
        if outcome == "failed":
            _report_failure(task_result, path)
    finally:
        token = _task_tokens.pop(task_result.id, None)
        if token is not None:
            try:
                logcontext.task_id.reset(token)
            except ValueError:  # finished in another context than it started
                logcontext.task_id.set("")


def _report_failure(task_result, path: str) -> None:
    """Both backends send ``task_finished`` from inside their ``except`` block, so the
    exception itself is at hand; the error's class and traceback text are the fallback."""
    if not sentry_sdk.get_client().is_active():
        return
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("task", path)
        scope.set_context("task", {"id": str(task_result.id), "path": path})
        if sys.exc_info()[0] is not None:
            sentry_sdk.capture_exception()
        else:
            error = task_result.errors[-1] if task_result.errors else None
            sentry_sdk.capture_message(
                f"Task {path} failed: {error.exception_class_path if error else 'unknown error'}",
                level="error",
            )


def connect() -> None:
    task_started.connect(_on_started, dispatch_uid="arenda.core.observability.started")
    task_finished.connect(_on_finished, dispatch_uid="arenda.core.observability.finished")
