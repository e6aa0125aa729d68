"""``manage.py rebuild_trip_ledger [--check]``: rewrite the trip ledger from the waybills, or
(``--check``) recompute it and say where it differs, writing nothing (docs/trip-ledger.md)."""

import time

from django.core.management.base import BaseCommand, CommandError

from arenda.bookings import ledger

EXAMPLES = 10


class Command(BaseCommand):
    help = "Rewrite the trip ledger the reports read from the waybills; --check only verifies it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="recompute every row and compare; exit with an error if any differs (writes nothing)",
        )

    def handle(self, *args, check=False, **options):
        started = time.monotonic()
        if check:
            drift = ledger.verify()
            seconds = time.monotonic() - started
            if drift.ok:
                self.stdout.write(f"The trip ledger agrees with {drift.checked} waybills ({seconds:.1f} s).")
                return
            lines = [f"The trip ledger differs from the waybills ({drift.checked} checked):"]
            if drift.missing:
                lines.append(f"  missing rows: {len(drift.missing)} (waybills {_some(drift.missing)})")
            if drift.extra:
                lines.append(f"  rows of no waybill: {len(drift.extra)} (waybills {_some(drift.extra)})")
            if drift.different:
                shown = list(drift.different.items())[:EXAMPLES]
                lines.append(f"  rows that differ: {len(drift.different)}")
                lines += [f"    waybill {pk}: {', '.join(columns)}" for pk, columns in shown]
            lines.append("Run manage.py rebuild_trip_ledger to rewrite it.")
            raise CommandError("\n".join(lines))
        written = ledger.rebuild(progress=self._progress if options["verbosity"] > 1 else None)
        seconds = time.monotonic() - started
        self.stdout.write(f"The trip ledger holds {written} rows, rewritten in {seconds:.1f} s.")

    def _progress(self, written):
        self.stdout.write(f"  {written} rows")


def _some(ids) -> str:
    more = " …" if len(ids) > EXAMPLES else ""
    return ", ".join(str(pk) for pk in ids[:EXAMPLES]) + more
