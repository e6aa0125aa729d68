from arenda.integrations.messaging.fake_server import FakeCommand
from arenda.integrations.telematics.fake_wialon import TOKEN, FakeWialon


class Command(FakeCommand):
    help = "Run a fake Wialon Remote API server (Gurtam) for tests and the demo."
    port_env = "FAKE_WIALON_PORT"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--token", default=TOKEN, help=f"The only token taken (default: {TOKEN}).")
        parser.add_argument("--any-token", action="store_true", help="Take any non-empty token.")
        parser.add_argument("--session-ttl", type=float, default=300, help="Idle session lifetime, seconds.")

    def make_fake(self, host, port, *, token=TOKEN, any_token=False, session_ttl=300, **options):
        return FakeWialon(host, port, token=None if any_token else token, session_ttl=session_ttl)

    def describe(self, fake, **options):
        return (
            f"fake Wialon Remote API on {fake.url}/wialon/ajax.html: WIALON_API_URL={fake.url} "
            f"WIALON_TOKEN={fake.token or '<any>'} "
            "(control: POST /_control, POST /_trip, GET /_sent, POST /_reset)"
        )
