from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from arenda.crm.mail import read_lead_mail


class Command(BaseCommand):
    help = "Make leads from the new messages of the leads mailbox (LEAD_IMAP_* settings)."

    def handle(self, *args, **options):
        try:
            counts = read_lead_mail()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"new leads: {counts.created}, joined: {counts.joined}, skipped: {counts.skipped}")
