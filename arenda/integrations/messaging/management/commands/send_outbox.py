from django.core.management.base import BaseCommand

from arenda.integrations.messaging import outbox


class Command(BaseCommand):
    help = "Send the outgoing messages that are due (one pass) and recover stalled attempts."

    def handle(self, *args, **options):
        done = outbox.deliver_due()
        self.stdout.write(f"recovered: {done['recovered']}, attempted: {done['attempted']}")
