"""``manage.py restore ARCHIVE``: verify an archive of ``manage.py backup`` and restore it
into an empty database and data folder (docs/backup.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from arenda.ops.backup import BackupError, restore_backup, verify_archive


class Command(BaseCommand):
    help = "Restore an archive of manage.py backup into an empty database and data folder (docs/backup.md)."

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Restore even when the database or the data folder is not empty.",
        )
        parser.add_argument(
            "--verify-only",
            action="store_true",
            help="Only verify the archive against its manifest; restore nothing.",
        )

    def handle(self, *args, archive, force=False, verify_only=False, **options):
        try:
            if verify_only:
                manifest = verify_archive(archive)
                self.stdout.write(
                    _(
                        "%(archive)s is intact (made %(created)s by %(version)s, %(vendor)s): tables: %(tables)d, rows: %(rows)d, files: %(files)d."
                    )
                    % {
                        "archive": archive,
                        "created": manifest.get("created_at", "?"),
                        "version": manifest.get("app_version", "?"),
                        "vendor": manifest["vendor"],
                        "tables": len(manifest["row_counts"]),
                        "rows": sum(manifest["row_counts"].values()),
                        "files": len(manifest["files"]) - 1,
                    }
                )
                return
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
