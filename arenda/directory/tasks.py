"""Background work of the reference data (the scheduler enqueues it: ``PERIODIC_JOBS``)."""

from django_tasks import task

from arenda.directory.services import notify_expiring_documents


@task()
def notify_expiring_documents_task() -> int:
    """Once a day is enough; running it more often tells nobody twice."""
    return notify_expiring_documents()
