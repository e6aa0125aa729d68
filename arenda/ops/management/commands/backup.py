"""``manage.py backup``: one archive of the database and the stored files (docs/backup.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from arenda.ops.backup import BackupError, create_backup


class Command(BaseCommand):
    help = "Write one archive of the database and the stored files into BACKUP_DIR (docs/backup.md)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output-dir", type=Path, help="Where to write the archive (default BACKUP_DIR)."
        )
        parser.add_argument("--no-gzip", action="store_true", help="Write a plain tar.")
        parser.add_argument("--keep", type=int, help="How many archives to keep (default BACKUP_KEEP).")

    def handle(self, *args, output_dir=None, no_gzip=False, keep=None, **options):
        try:
            path = create_backup(directory=output_dir, gzip=not no_gzip, keep=keep)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{path} ({path.stat().st_size} bytes)")
