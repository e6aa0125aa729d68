from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from arenda.core import crypto


def encrypted_columns():
    """(model, field) for every EncryptedTextField of every installed model."""
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.local_fields:
            if isinstance(field, crypto.EncryptedTextField):
                yield model, field


class Command(BaseCommand):
    help = (
        "Re-encrypt the secrets stored in the database (1C passwords) with ENCRYPTION_KEY; "
        "values encrypted with a key of ENCRYPTION_KEY_OLD are read with it. Nothing is "
        "written unless every value can be read (docs/operations.md, «Rotating secrets»)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Change nothing; exit 1 if a value needs re-encrypting."
        )

    def handle(self, *args, check, **options):
        quote = connection.ops.quote_name
        pending = []  # (table, pk column, column, pk, new value)
        with transaction.atomic():
            for model, field in encrypted_columns():
                table, pk_column = model._meta.db_table, model._meta.pk.column
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT {quote(pk_column)}, {quote(field.column)} FROM {quote(table)} "
                        f"WHERE {quote(field.column)} <> ''"
                    )
                    rows = cursor.fetchall()
                for pk, stored in rows:
                    try:
                        stale = crypto.needs_rotation(stored)
                        new = crypto.reencrypt(stored) if stale else None
                    except ValueError as exc:
                        raise CommandError(f"{model._meta.label} {pk} {field.name}: {exc}")
                    if stale:
                        pending.append((table, pk_column, field.column, pk, new))
            if check:
                self.stdout.write(f"{len(pending)} value(s) to re-encrypt")
                if pending:
                    raise CommandError("some secrets are encrypted with an old key")
                return
            with connection.cursor() as cursor:
                for table, pk_column, column, pk, new in pending:
                    cursor.execute(
                        f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE {quote(pk_column)} = %s",
                        [new, pk],
                    )
        self.stdout.write(f"re-encrypted {len(pending)} value(s) with ENCRYPTION_KEY")
