from django.core.management.base import BaseCommand

from arenda.core import scheduler


class Command(BaseCommand):
    help = "Enqueue periodic jobs once per period (run one or more, anywhere)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0)
        parser.add_argument("--once", action="store_true", help=("One pass, then exit."))

    def handle(self, *args, interval, once, **options):
        jobs = scheduler.configured_jobs()
        names = ", ".join(sorted(jobs)) or "—"
        self.stdout.write(f"periodic jobs: {names}")
        if once:
            scheduler.tick(jobs=jobs)
            return
        scheduler.run_forever(interval)
