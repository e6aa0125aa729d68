from arenda.integrations.messaging.fake_server import FakeCommand
from arenda.integrations.onec.fake import FakeOneC


class Command(FakeCommand):
    help = "Run a fake 1C standard OData interface for tests and the demo."
    port_env = "FAKE_1C_PORT"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--username", default="odata")
        parser.add_argument("--password", default="demo-odata-1c")

    def make_fake(self, host, port, *, username="odata", password="demo-odata-1c", **options):
        return FakeOneC(host, port, username=username, password=password)

    def describe(self, fake, **options):
        return f"fake 1C on {fake.url}/<base>/odata/standard.odata/ (control: POST /_control, GET /_dump)"
