"""``manage.py restore ARCHIVE``: verify an archive of ``manage.py backup`` and restore it
into an empty database and data folder (docs/backup.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from arenda.ops.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Restore an archive of manage.py backup into an empty database and data folder (docs/backup.md)."

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Restore even when the database or the data folder is not empty.",
        )

    def handle(self, *args, archive, force=False, **options):
        try:
            done = restore_backup(archive, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        manifest = done.manifest
        self.stdout.write(
            _(
                "Restored %(archive)s (made %(created)s by %(version)s); tables: %(tables)d, rows: %(rows)d, files: %(files)d; all verified against the manifest."
            )
            % {
                "archive": archive,
                "created": manifest.get("created_at", "?"),
                "version": manifest.get("app_version", "?"),
                "tables": done.tables,
                "rows": done.rows,
                "files": done.files,
            }
        )
