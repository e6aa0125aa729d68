"""Background work of bookings.

- ``close_settled_bookings`` every ten minutes closes completed bookings whose invoices are
  all paid — the payment and waybill hooks do it at once; this sweep catches what they miss.
"""

from django_tasks import task

from arenda.core.scheduler import every


@every(600, "bookings.close_settled_bookings")
@task()
def close_settled_bookings() -> int:
    from arenda.billing.overtime import close_settled_bookings as sweep

    return sweep()
