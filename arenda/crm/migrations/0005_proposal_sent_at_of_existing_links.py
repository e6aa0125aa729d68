"""Links made before ``Deal.proposal_sent_at`` existed count as made now: a КП without a
date of its own is then valid for VALID_DAYS from this migration (crm/proposal.py
valid_until), where before it never expired."""

from django.db import migrations
from django.utils import timezone


def stamp_existing_links(apps, schema_editor):
    Deal = apps.get_model("crm", "Deal")
    Deal.objects.filter(proposal_token__isnull=False, proposal_sent_at__isnull=True).update(
        proposal_sent_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0004_proposal_responses"),
    ]

    operations = [
        migrations.RunPython(stamp_existing_links, migrations.RunPython.noop),
    ]
