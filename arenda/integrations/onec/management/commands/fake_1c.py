from django.core.management.base import BaseCommand

from arenda.integrations.messaging.fake_server import announce, port_from_env
from arenda.integrations.onec.fake import FakeOneC


class Command(BaseCommand):
    help = "Run a fake 1C standard OData interface for tests and the demo."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port", type=int, default=None, help="Default: FAKE_1C_PORT, else a free port (0)."
        )
        parser.add_argument("--port-file", help="Write the URL with the port it got into this file.")
        parser.add_argument("--username", default="odata")
        parser.add_argument("--password", default="demo-odata-1c")

    def handle(self, *args, host, port, port_file, username, password, **options):
        if port is None:
            port = port_from_env("FAKE_1C_PORT")
        fake = FakeOneC(host, port, username=username, password=password)
        self.stdout.write(
            f"fake 1C on {fake.url}/<base>/odata/standard.odata/ (control: POST /_control, GET /_dump)"
        )
        self.stdout.flush()
        announce(fake.url, port_file)
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.server_close()
