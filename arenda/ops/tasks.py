"""The nightly backup as a django-task, which the scheduler enqueues when BACKUP_SCHEDULE is
on (``PERIODIC_JOBS`` in settings.py; docs/backup.md, «Schedule»)."""

import logging

from django_tasks import task

from arenda.ops.backup import create_backup

log = logging.getLogger(__name__)


@task()
def backup_task() -> str:
    path = create_backup()
    log.info("backup written to %s", path)
    return str(path)
