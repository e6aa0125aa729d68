"""Every migration that moves data (a RunPython that reads or writes rows) has a test. The
ones in the repository (grep RunPython arenda/*/migrations arenda/*/*/migrations):

- core/0007_moved_task_paths: queued tasks follow their code — here;
- billing/0004_invoice_settled_on: the day a paid invoice was settled — here;
- billing/0008_credit_ledger: what each payment applies, overpayments to credit — here;
- crm/0005_proposal_sent_at_of_existing_links: tests/crm/test_proposal_customer.py;
- directory/0006_driver_invites: invites of the links issued before — here, through the
  migration executor (directory 0005 → 0006 on the test database);
- billing/0002, 0003, 0005, bookings/0003, core/0009: triggers and indexes, no rows moved
  (tests/billing, tests/bookings/test_concurrency.py, tests/core/test_audit.py use them).

The older ones run the migration's own function or SQL on rows put back into the state they
had before it, instead of rolling the whole schema back across the triggers.
"""

from datetime import date
from decimal import Decimal
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps as current_apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tasks_db.models import DBTaskResult

from arenda.billing import services
from arenda.billing.models import CreditEntry, Invoice, Payment
from arenda.billing.services import LineData
from tests import factories as f


def _migration(app: str, name: str):
    return import_module(f"arenda.{app}.migrations.{name}")


def _invoice(total_hours="8", price="3500"):
    invoice = services.invoice_create(
        kind="postpayment",
        counterparty=f.CounterpartyFactory(),
        organization=f.OrganizationFactory(),
        lines=[LineData("Автокран 25 т, смена", Decimal(total_hours), Decimal(price))],
        by=None,
    )
    return services.invoice_issue(invoice=invoice, by=None)


@pytest.mark.django_db
def test_core_0007_renames_queued_tasks_whose_code_moved():
    module = _migration("core", "0007_moved_task_paths")
    moved = DBTaskResult.objects.create(
        task_path="arenda.billing.tasks.push_invoice", args_kwargs={"args": [1], "kwargs": {}}
    )
    kept = DBTaskResult.objects.create(task_path="arenda.crm.tasks.read_lead_mail_task", args_kwargs={})
    module.rename(current_apps, None)
    moved.refresh_from_db()
    kept.refresh_from_db()
    assert moved.task_path == "arenda.billing.onec.push_invoice"
    assert kept.task_path == "arenda.crm.tasks.read_lead_mail_task"
    module.rename_back(current_apps, None)
    moved.refresh_from_db()
    assert moved.task_path == "arenda.billing.tasks.push_invoice"


@pytest.mark.django_db
def test_billing_0004_stamps_the_day_the_payments_first_covered_the_total():
    module = _migration("billing", "0004_invoice_settled_on")
    paid, partly = _invoice(), _invoice()
    services.payment_record(invoice=paid, amount=paid.total / 2, on=date(2026, 3, 2), source="manual")
    services.payment_record(invoice=paid, amount=paid.total / 2, on=date(2026, 3, 9), source="manual")
    services.payment_record(invoice=partly, amount=Decimal("100.00"), on=date(2026, 3, 3), source="manual")
    Invoice.objects.update(settled_on=None)  # as before the column existed
    with connection.cursor() as cursor:
        cursor.execute(module.FILL)
    assert Invoice.objects.get(pk=paid.pk).settled_on == date(2026, 3, 9)
    assert Invoice.objects.get(pk=partly.pk).settled_on is None


@pytest.mark.django_db
def test_billing_0008_applies_payments_and_moves_overpayments_to_credit():
    module = _migration("billing", "0008_credit_ledger")
    invoice = _invoice()  # 28,000
    first = services.payment_record(
        invoice=invoice, amount=Decimal("20000.00"), on=date(2026, 3, 2), source="manual"
    )
    second = services.payment_record(
        invoice=invoice, amount=Decimal("12000.00"), on=date(2026, 3, 5), source="manual", reference="p2"
    )
    first, second = (Payment.objects.get(pk=recorded.payment.pk) for recorded in (first, second))
    # Before the ledger: nothing applied, no credit, the invoice "paid" what it received.
    CreditEntry.objects.all().delete()
    Payment.objects.update(applied=Decimal("0.00"))
    module.apply_payments(current_apps, SimpleNamespace(connection=connection))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.applied, second.applied) == (Decimal("20000.00"), Decimal("8000.00"))
    credit = CreditEntry.objects.get()
    assert (credit.kind, credit.amount, credit.payment_id) == ("overpayment", Decimal("4000.00"), second.pk)
    assert credit.counterparty_id == invoice.counterparty_id
    assert Invoice.objects.get(pk=invoice.pk).paid_amount == invoice.total


@pytest.fixture
def migrator():
    """Migrates the test database to given nodes; puts every app back at its latest after."""
    executor = MigrationExecutor(connection)

    def migrate(targets):
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    yield migrate
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_directory_0006_records_the_invite_links_issued_before(migrator):
    old = migrator([("directory", "0005_driver_pay_rate")])
    OldDriver = old.get_model("directory", "Driver")
    invited = OldDriver.objects.create(
        full_name="Приглашённый Иван", phone="+79150000001", telegram_invite_token="t" * 32
    )
    plain = OldDriver.objects.create(full_name="Без ссылки Пётр", phone="+79150000002")
    # The models as they were at 0006: later migrations add columns the current ones read.
    new = migrator([("directory", "0006_driver_invites")])
    Invite, NewDriver = new.get_model("directory", "DriverInvite"), new.get_model("directory", "Driver")
    invite = Invite.objects.get()
    assert (invite.driver_id, invite.token, invite.used_at) == (invited.pk, "t" * 32, None)
    assert not Invite.objects.filter(driver_id=plain.pk).exists()
    assert NewDriver.objects.count() == 2
