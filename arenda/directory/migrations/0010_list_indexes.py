"""The list's order and filters get their indexes; on PostgreSQL its search gets trigram
indexes (``pg_trgm``), matching the ``UPPER(col::text) LIKE UPPER('%…%')`` Django writes for
``icontains`` and the ``col::text LIKE '%…%'`` of ``contains``. See docs/large-lists.md."""

from django.db import migrations, models

TRIGRAM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS counterparty_name_trgm ON directory_counterparty USING gin ((UPPER(name::text)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS counterparty_full_name_trgm ON directory_counterparty USING gin ((UPPER(full_name::text)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS counterparty_email_trgm ON directory_counterparty USING gin ((UPPER(email::text)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS counterparty_phone_upper_trgm ON directory_counterparty USING gin ((UPPER(phone::text)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS counterparty_phone_trgm ON directory_counterparty USING gin ((phone::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS counterparty_inn_trgm ON directory_counterparty USING gin ((inn::text) gin_trgm_ops)",
]
TRIGRAM_DROP = [
    "DROP INDEX IF EXISTS counterparty_name_trgm",
    "DROP INDEX IF EXISTS counterparty_full_name_trgm",
    "DROP INDEX IF EXISTS counterparty_email_trgm",
    "DROP INDEX IF EXISTS counterparty_phone_upper_trgm",
    "DROP INDEX IF EXISTS counterparty_phone_trgm",
    "DROP INDEX IF EXISTS counterparty_inn_trgm",
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
        ('directory', '0009_supplier_telegram'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='counterparty',
            index=models.Index(fields=['name', 'id'], name='counterparty_name_idx'),
        ),
        migrations.AddIndex(
            model_name='counterparty',
            index=models.Index(fields=['kind', 'name', 'id'], name='counterparty_kind_name_idx'),
        ),
        migrations.RunPython(_postgres(TRIGRAM), _postgres(TRIGRAM_DROP), elidable=False),
    ]
