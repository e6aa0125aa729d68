"""The list's order and filters get their indexes; on PostgreSQL its search gets trigram
indexes (``pg_trgm``), matching the ``UPPER(col::text) LIKE UPPER('%…%')`` Django writes for
``icontains`` and the ``col::text LIKE '%…%'`` of ``contains``. See docs/large-lists.md."""

from django.conf import settings
from django.db import migrations, models
from django.db.models.functions import Upper

TRIGRAM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS invoice_number_trgm ON billing_invoice USING gin ((UPPER(number::text)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS invoice_external_number_trgm ON billing_invoice USING gin ((UPPER(external_number::text)) gin_trgm_ops)",
]
TRIGRAM_DROP = [
    "DROP INDEX IF EXISTS invoice_number_trgm",
    "DROP INDEX IF EXISTS invoice_external_number_trgm",
]


def _postgres(statements):
    """Run ``statements`` on PostgreSQL only: SQLite has no trigram indexes (its LIKE scans)."""

    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run



class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0009_acts'),
        ('bookings', '0015_supply_request'),
        ('crm', '0006_list_indexes'),
        ('directory', '0010_list_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(fields=['date', 'sequence', 'id'], name='invoice_date_idx'),
        ),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(fields=['status', 'date', 'sequence', 'id'], name='invoice_status_date_idx'),
        ),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(fields=['organization', 'date', 'sequence', 'id'], name='invoice_org_date_idx'),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(Upper("number"), name="invoice_number_upper_idx"),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(Upper("external_number"), name="invoice_ext_number_upper_idx"),
        ),
        migrations.RunPython(_postgres(TRIGRAM), _postgres(TRIGRAM_DROP), elidable=False),
    ]
