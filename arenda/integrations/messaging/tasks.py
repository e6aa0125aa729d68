from django_tasks import task

from arenda.core.scheduler import every
from arenda.integrations.messaging import outbox


@task()
def send_message(message_id: int) -> str | None:
    return outbox.deliver(message_id)


@every(60, "messaging.deliver_due")
@task()
def deliver_due() -> dict:
    return outbox.deliver_due()
