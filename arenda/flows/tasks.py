"""Background work that runs flows (``manage.py db_worker`` runs it; the periodic ones are
enqueued by the scheduler, ``PERIODIC_JOBS`` in settings.py). Each takes ids and is safe
to run twice.

- ``pull_1c_payments`` every five minutes enqueues ``pull_payments`` for each active
  OData base, so that a slow base does not hold up the others;
- ``close_settled_bookings`` every ten minutes closes completed bookings whose invoices
  are all paid — the payment and waybill flows do it at once; this sweep catches what they
  miss.
"""

from django_tasks import task

from arenda.directory.models import AccountingBase
from arenda.flows import payments, trips


@task()
def pull_payments(base_id: int) -> int:
    return payments.pull_payments(base_id)


@task()
def pull_1c_payments() -> int:
    bases = AccountingBase.objects.filter(kind=AccountingBase.Kind.ODATA, is_active=True)
    ids = list(bases.values_list("pk", flat=True))
    for base_id in ids:
        pull_payments.enqueue(base_id)
    return len(ids)


@task()
def close_settled_bookings() -> int:
    return trips.close_settled_bookings()
