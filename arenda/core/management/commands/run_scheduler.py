from django.apps import apps
from django.core.management.base import BaseCommand

from arenda.core import scheduler


class Command(BaseCommand):
    help = "Enqueue periodic jobs once per period (run one or more, anywhere)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0)
        parser.add_argument("--once", action="store_true", help=("One pass, then exit."))

    def handle(self, *args, interval, once, **options):
        # Jobs register themselves when their app's tasks module is imported.
        for config in apps.get_app_configs():
            if config.name.startswith("arenda."):
                try:
                    __import__(f"{config.name}.tasks")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{config.name}.tasks":
                        raise
        names = ", ".join(sorted(scheduler.REGISTRY)) or "—"
        self.stdout.write(f"periodic jobs: {names}")
        if once:
            scheduler.tick()
            return
        scheduler.run_forever(interval)
