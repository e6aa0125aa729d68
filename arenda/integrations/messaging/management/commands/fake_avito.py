from arenda.integrations.messaging.fake_avito import FakeAvito
from arenda.integrations.messaging.fake_server import FakeCommand


class Command(FakeCommand):
    help = "Run a fake Avito Messenger API server for tests and the demo."
    port_env = "FAKE_AVITO_PORT"

    def make_fake(self, host, port, **options):
        return FakeAvito(host, port)

    def describe(self, fake, **options):
        return (
            f"fake Avito Messenger API on {fake.url}: AVITO_API_URL={fake.url} "
            f"AVITO_CLIENT_ID={fake.client_id} AVITO_CLIENT_SECRET={fake.client_secret} "
            f"AVITO_ACCOUNT_ID={fake.account_id} (control: POST /_control, POST /_update, GET /_sent)"
        )
