from django.core.management.base import BaseCommand

from arenda.integrations.onec.fake import FakeOneC


class Command(BaseCommand):
    help = "Run a fake 1C standard OData interface for tests and the demo."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8081)
        parser.add_argument("--username", default="odata")
        parser.add_argument("--password", default="demo-odata-1c")

    def handle(self, *args, host, port, username, password, **options):
        fake = FakeOneC(host, port, username=username, password=password)
        self.stdout.write(
            f"fake 1C on {fake.url}/<base>/odata/standard.odata/ (control: POST /_control, GET /_dump)"
        )
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.server_close()
