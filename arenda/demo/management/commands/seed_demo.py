import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from arenda.demo.banner import logins_table
from arenda.demo.seed import Plan, demo_present, seed_demo


def _positive(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "Fill an empty database with the demo company (legal entities, customers, units, drivers, users)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help=("Do nothing if any legal entity exists.")
        )
        parser.add_argument("--scale", type=_positive, default=1, help=("Multiply the amounts (benchmarks)."))
        parser.add_argument(
            "--counterparties", type=_positive, help=("Number of customers (overrides --scale).")
        )
        parser.add_argument("--units", type=_positive, help=("Number of own units (overrides --scale)."))
        parser.add_argument(
            "--no-jobs",
            action="store_true",
            help=(
                "Without the demo's bookings, waybills, invoices and payments (benchmarks build their own)."
            ),
        )
        parser.add_argument("--password", default="demo12345", help=("Password of the demo users."))
        parser.add_argument(
            "--seed",
            type=int,
            default=1,
            help=("Random seed; the same seed gives the same data."),
        )

    def handle(self, *args, if_empty, scale, counterparties, units, no_jobs, password, seed, **options):
        if demo_present():
            if not if_empty:
                raise CommandError(
                    _("The database already has legal entities; seed_demo needs an empty one.")
                )
            self.stdout.write(_("demo data already present"))
            self._logins(password=None)
            return
        if scale < 1:
            raise CommandError(_("--scale must be at least 1."))
        plan = Plan.for_scale(scale, counterparties=counterparties, units=units, jobs=not no_jobs)
        started = time.monotonic()
        counts = seed_demo(plan, password=password, seed=seed)
        elapsed = time.monotonic() - started
        for name, count in counts.items():
            self.stdout.write(f"  {name}: {count}")
        self.stdout.write(self.style.SUCCESS(_("Demo company created in %(s).1f s.") % {"s": elapsed}))
        self._logins(password=password)

    def _logins(self, *, password):
        table = logins_table()
        if not table:
            return
        for row in table:
            self.stdout.write(row)
        if password is None:
            self.stdout.write(_("Passwords: as set when the demo was created (default demo12345)."))
        else:
            self.stdout.write(_("Password for all of them: %(password)s") % {"password": password})
