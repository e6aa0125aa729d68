from arenda.integrations.messaging.fake_server import FakeCommand
from arenda.integrations.telematics.fake_aemp import PAGE_SIZE, PASSWORD, TOKEN, USERNAME, FakeAemp


class Command(FakeCommand):
    help = "Run a fake ISO 15143-3 (AEMP 2.0) fleet API for tests and the demo."
    port_env = "FAKE_AEMP_PORT"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--token", default=TOKEN, help=f"The only bearer token taken (default: {TOKEN}).")
        parser.add_argument("--any-token", action="store_true", help="Take any non-empty bearer token.")
        parser.add_argument("--username", default=USERNAME, help=f"HTTP Basic user (default: {USERNAME}).")
        parser.add_argument(
            "--password", default=PASSWORD, help=f"HTTP Basic password (default: {PASSWORD})."
        )
        parser.add_argument("--page-size", type=int, default=PAGE_SIZE, help="Records or units per page.")

    def make_fake(
        self,
        host,
        port,
        *,
        token=TOKEN,
        any_token=False,
        username=USERNAME,
        password=PASSWORD,
        page_size=PAGE_SIZE,
        **options,
    ):
        return FakeAemp(
            host,
            port,
            token=None if any_token else token,
            username=username,
            password=password,
            page_size=page_size,
        )

    def describe(self, fake, **options):
        return (
            f"fake ISO 15143-3 (AEMP 2.0) API on {fake.url}/Fleet/1: AEMP_API_URL={fake.url} "
            f"AEMP_TOKEN={fake.token or '<any>'} (or AEMP_USERNAME={fake.username} "
            f"AEMP_PASSWORD={fake.password}) "
            "(control: POST /_control, POST /_trip, GET /_sent, POST /_reset)"
        )
