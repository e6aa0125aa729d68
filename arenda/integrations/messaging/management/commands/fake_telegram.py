from django.core.management.base import BaseCommand

from arenda.integrations.messaging.fake_telegram import FakeTelegram


class Command(BaseCommand):
    help = "Run a fake Telegram Bot API server for tests and the demo."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8082)

    def handle(self, *args, host, port, **options):
        fake = FakeTelegram(host, port)
        self.stdout.write(f"fake Telegram Bot API on {fake.url} (control: POST /_control, GET /_sent)")
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.server_close()
