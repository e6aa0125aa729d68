from django.core.management.base import BaseCommand

from arenda.integrations.messaging.fake_avito import FakeAvito
from arenda.integrations.messaging.fake_server import announce, port_from_env


class Command(BaseCommand):
    help = "Run a fake Avito Messenger API server for tests and the demo."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port", type=int, default=None, help="Default: FAKE_AVITO_PORT, else a free port (0)."
        )
        parser.add_argument("--port-file", help="Write the URL with the port it got into this file.")

    def handle(self, *args, host, port, port_file, **options):
        if port is None:
            port = port_from_env("FAKE_AVITO_PORT")
        fake = FakeAvito(host, port)
        self.stdout.write(
            f"fake Avito Messenger API on {fake.url}: AVITO_API_URL={fake.url} "
            f"AVITO_CLIENT_ID={fake.client_id} AVITO_CLIENT_SECRET={fake.client_secret} "
            f"AVITO_ACCOUNT_ID={fake.account_id} (control: POST /_control, POST /_update, GET /_sent)"
        )
        self.stdout.flush()
        announce(fake.url, port_file)
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.server_close()
