from django.db import migrations

# Tasks whose code moved (queued rows name the task by its dotted path): the flows layer
# (``arenda/flows/``) took the tasks that cross apps, and a task now lives beside the code
# that enqueues it.
MOVED = {
    "arenda.billing.tasks.push_invoice": "arenda.billing.onec.push_invoice",
    "arenda.billing.tasks.push_due_invoices": "arenda.billing.onec.push_due_invoices",
    "arenda.billing.tasks.pull_payments": "arenda.flows.tasks.pull_payments",
    "arenda.billing.tasks.pull_1c_payments": "arenda.flows.tasks.pull_1c_payments",
    "arenda.bookings.tasks.close_settled_bookings": "arenda.flows.tasks.close_settled_bookings",
    "arenda.integrations.messaging.tasks.send_message": "arenda.integrations.messaging.outbox.send_message",
    "arenda.integrations.messaging.tasks.deliver_due": "arenda.integrations.messaging.outbox.deliver_due_task",
}


def rename(apps, schema_editor, moves=MOVED):
    result = apps.get_model("django_tasks_database", "DBTaskResult")
    for old, new in moves.items():
        result.objects.filter(task_path=old).update(task_path=new)


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_company_dispatch_overtime"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(rename, rename_back)]
