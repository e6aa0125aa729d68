from django.core.management.base import BaseCommand

from arenda.integrations.messaging.fake_server import announce, port_from_env
from arenda.integrations.messaging.fake_telegram import FakeTelegram


class Command(BaseCommand):
    help = "Run a fake Telegram Bot API server for tests and the demo."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port", type=int, default=None, help="Default: FAKE_TELEGRAM_PORT, else a free port (0)."
        )
        parser.add_argument("--port-file", help="Write the URL with the port it got into this file.")

    def handle(self, *args, host, port, port_file, **options):
        if port is None:
            port = port_from_env("FAKE_TELEGRAM_PORT")
        fake = FakeTelegram(host, port)
        self.stdout.write(f"fake Telegram Bot API on {fake.url} (control: POST /_control, GET /_sent)")
        self.stdout.flush()
        announce(fake.url, port_file)
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.server_close()
