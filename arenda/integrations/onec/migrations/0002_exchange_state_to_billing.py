from django.db import migrations


class Migration(migrations.Migration):
    """The exchange state (``BaseSync``, ``PushClaim``) belongs to billing now: the adapter
    forgets the models, billing takes over the same tables (billing 0006)."""

    dependencies = [("onec", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel("PushClaim"), migrations.DeleteModel("BaseSync")],
            database_operations=[],
        )
    ]
