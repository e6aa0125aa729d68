"""Background work of billing: pushing invoices to 1C and reading payments back. The 1C
side lives in ``arenda.integrations.onec``; these tasks take ids and call it.

- ``push_invoice`` runs after an invoice is issued (and, deferred, for each retry);
- ``push_due_invoices`` every minute sends whatever is due (a lost task loses nothing);
- ``pull_1c_payments`` every five minutes reads each active OData base's payments, one
  task per base so that a slow base does not hold up the others.
"""

from django_tasks import task

from arenda.core.scheduler import every


@task()
def push_invoice(invoice_id: int) -> str | None:
    from arenda.integrations.onec import sync

    return sync.push_invoice(invoice_id)


@every(60, "billing.push_due_invoices")
@task()
def push_due_invoices() -> dict:
    from arenda.integrations.onec import sync

    return sync.push_due()


@task()
def pull_payments(base_id: int) -> int:
    from arenda.integrations.onec import sync

    return sync.pull_payments(base_id)


@every(300, "billing.pull_1c_payments")
@task()
def pull_1c_payments() -> int:
    from arenda.directory.models import AccountingBase

    bases = AccountingBase.objects.filter(kind=AccountingBase.Kind.ODATA, is_active=True)
    ids = list(bases.values_list("pk", flat=True))
    for base_id in ids:
        pull_payments.enqueue(base_id)
    return len(ids)
