import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from arenda.integrations.messaging import config
from arenda.integrations.messaging.channels.telegram import api_url


class Command(BaseCommand):
    help = "Point the Telegram bot at this site's webhook, with TELEGRAM_WEBHOOK_SECRET as its secret token."

    def add_arguments(self, parser):
        parser.add_argument("url", help="https://<host>/integrations/telegram/webhook/")

    def handle(self, *args, url, **options):
        cfg = config.get("telegram")
        if not (cfg.token and cfg.webhook_secret):
            raise CommandError(
                "Set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET (or the channels page) first."
            )
        payload = {
            "url": url,
            "secret_token": cfg.webhook_secret,
            "allowed_updates": ["message", "callback_query"],
        }
        try:
            answer = httpx.post(
                api_url("setWebhook", cfg), json=payload, timeout=settings.TELEGRAM_TIMEOUT
            ).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise CommandError(f"Telegram did not answer: {exc}")
        if not answer.get("ok"):
            raise CommandError(f"Telegram refused: {answer.get('description')}")
        self.stdout.write(f"webhook set: {url}")
