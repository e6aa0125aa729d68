from django.core.management.base import BaseCommand, CommandError

from arenda.integrations.messaging import config
from arenda.integrations.messaging.channels import avito, vk
from arenda.integrations.messaging.channels import max as max_channel


class Command(BaseCommand):
    help = (
        "Point MAX, VK and Avito at this site's webhooks (those set up and on): "
        "manage.py channel_webhooks https://arenda.example.ru"
    )

    def add_arguments(self, parser):
        parser.add_argument("base_url", help="the site's address, e.g. https://arenda.example.ru")

    def handle(self, *args, base_url, **options):
        base = base_url.rstrip("/")
        failed = []
        for kind, register, path in (
            ("max", max_channel.subscribe, "/integrations/max/webhook/"),
            ("vk", vk.register, "/integrations/vk/webhook/"),
            ("avito", avito.subscribe, None),
        ):
            if not config.get(kind).ready:
                self.stdout.write(f"{kind}: not set up, skipped")
                continue
            if path is None:
                path = f"/integrations/avito/webhook/{config.ensure_generated('avito')}/"
            error = register(base + path)
            if error:
                failed.append(kind)
                self.stderr.write(f"{kind}: {error}")
            else:
                self.stdout.write(f"{kind}: webhook set: {base}{path}")
        if failed:
            raise CommandError(f"not set: {', '.join(failed)}")
