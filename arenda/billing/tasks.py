"""Background work of billing: pushing invoices to 1C and reading payments back. The 1C
side lives in ``arenda.integrations.onec``; these tasks take ids and call it."""

from django_tasks import task


@task()
def push_invoice(invoice_id: int) -> str:
    from arenda.integrations.onec import sync

    return sync.push_invoice(invoice_id)
