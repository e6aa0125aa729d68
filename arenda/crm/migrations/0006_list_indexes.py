"""The list's order and filters get their indexes; on PostgreSQL its search gets trigram
indexes (``pg_trgm``), matching the ``UPPER(col::text) LIKE UPPER('%…%')`` Django writes for
``icontains`` and the ``col::text LIKE '%…%'`` of ``contains``. See docs/large-lists.md."""

from django.conf import settings
from django.db import migrations, models

TRIGRAM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS deal_title_trgm ON crm_deal USING gin ((UPPER(title::text)) gin_trgm_ops)",
]
TRIGRAM_DROP = [
    "DROP INDEX IF EXISTS deal_title_trgm",
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
        ('crm', '0005_proposal_sent_at_of_existing_links'),
        ('directory', '0010_list_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='deal',
            index=models.Index(fields=['created_at', 'id'], name='deal_created_idx'),
        ),
        migrations.AddIndex(
            model_name='deal',
            index=models.Index(fields=['stage', 'created_at', 'id'], name='deal_stage_created_idx'),
        ),
        migrations.AddIndex(
            model_name='deal',
            index=models.Index(fields=['manager', 'created_at', 'id'], name='deal_manager_created_idx'),
        ),
        migrations.RunPython(_postgres(TRIGRAM), _postgres(TRIGRAM_DROP), elidable=False),
    ]
