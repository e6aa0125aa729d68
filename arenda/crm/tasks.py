"""Background jobs of the sales side (run by ``manage.py db_worker``)."""

from dataclasses import asdict

from django.conf import settings
from django_tasks import task

from arenda.crm.mail import read_lead_mail


@task()
def read_lead_mail_task() -> dict | None:
    """Leads from the mailbox, every minute while ``LEAD_IMAP_HOST`` is set."""
    if not settings.LEAD_IMAP_HOST:
        return None
    return asdict(read_lead_mail())
