import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Billing takes over the 1C exchange state from the adapter (onec 0002) on the same
    tables: only Django's picture of the models changes, no table is touched."""

    dependencies = [
        ("billing", "0005_invoice_owed_range_index"),
        ("directory", "0003_driver_invite_token"),
        ("onec", "0002_exchange_state_to_billing"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="BaseSync",
                    fields=[
                        (
                            "base",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="onec_sync",
                                serialize=False,
                                to="directory.accountingbase",
                            ),
                        ),
                        ("pulled_at", models.DateTimeField(blank=True, null=True, verbose_name="payments last read")),
                        ("pull_error", models.TextField(blank=True, verbose_name="last error reading payments")),
                        ("refused_at", models.DateTimeField(blank=True, null=True, verbose_name="login refused")),
                        ("refusal", models.TextField(blank=True, verbose_name="refusal")),
                    ],
                    options={
                        "verbose_name": "1C base exchange",
                        "verbose_name_plural": "1C base exchanges",
                        "db_table": "onec_basesync",
                    },
                ),
                migrations.CreateModel(
                    name="PushClaim",
                    fields=[
                        (
                            "invoice",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="+",
                                serialize=False,
                                to="billing.invoice",
                            ),
                        ),
                        ("token", models.CharField(max_length=32)),
                        ("claimed_at", models.DateTimeField()),
                    ],
                    options={"db_table": "onec_pushclaim"},
                ),
            ],
            database_operations=[],
        )
    ]
