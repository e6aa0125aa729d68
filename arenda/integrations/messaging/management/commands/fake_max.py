from arenda.integrations.messaging.fake_max import FakeMax
from arenda.integrations.messaging.fake_server import FakeCommand


class Command(FakeCommand):
    help = "Run a fake MAX Bot API server for tests and the demo."
    port_env = "FAKE_MAX_PORT"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--token", default=None, help="The only bot token taken (default: any).")

    def make_fake(self, host, port, *, token=None, **options):
        return FakeMax(host, port, token=token)

    def describe(self, fake, *, token=None, **options):
        return (
            f"fake MAX Bot API on {fake.url}: MAX_API_URL={fake.url} MAX_BOT_TOKEN={token or '<any>'} "
            "(control: POST /_control, POST /_update, GET /_sent)"
        )
