from django.core.management.base import BaseCommand

from arenda.integrations.messaging.fake_max import FakeMax
from arenda.integrations.messaging.fake_server import announce, port_from_env


class Command(BaseCommand):
    help = "Run a fake MAX Bot API server for tests and the demo."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port", type=int, default=None, help="Default: FAKE_MAX_PORT, else a free port (0)."
        )
        parser.add_argument("--port-file", help="Write the URL with the port it got into this file.")
        parser.add_argument("--token", default=None, help="The only bot token taken (default: any).")

    def handle(self, *args, host, port, port_file, token, **options):
        if port is None:
            port = port_from_env("FAKE_MAX_PORT")
        fake = FakeMax(host, port, token=token)
        self.stdout.write(
            f"fake MAX Bot API on {fake.url}: MAX_API_URL={fake.url} MAX_BOT_TOKEN={token or '<any>'} "
            "(control: POST /_control, POST /_update, GET /_sent)"
        )
        self.stdout.flush()
        announce(fake.url, port_file)
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.server_close()
