"""Check signed shift reports against their PDFs (docs/shift-report.md, «Checking a
report»): ``manage.py verify_shift_report 12 13`` or ``--all``."""

from django.core.management.base import BaseCommand, CommandError

from arenda.bookings.models import ShiftReport
from arenda.bookings.shift_reports import verify


class Command(BaseCommand):
    help = "Read shift reports' PDFs back: the printed SHA-256, the stored one and the one recomputed must agree."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int)
        parser.add_argument("--all", action="store_true")

    def handle(self, *args, ids, all, **options):
        if not ids and not all:
            raise CommandError("Name the reports' ids, or --all.")
        reports = ShiftReport.objects.all() if all else ShiftReport.objects.filter(pk__in=ids)
        failed = 0
        for report in reports.order_by("pk"):
            result = verify(report)
            state = "OK" if result.ok else "FAILED " + ",".join(result.problems)
            self.stdout.write(
                f"#{report.pk} {state} stored={result.stored} printed={result.printed or '-'} "
                f"recomputed={result.recomputed} images={result.images}"
            )
            failed += not result.ok
        if failed:
            raise CommandError(f"{failed} report(s) failed the check.")
