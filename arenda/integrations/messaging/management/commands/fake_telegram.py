from arenda.integrations.messaging.fake_server import FakeCommand
from arenda.integrations.messaging.fake_telegram import FakeTelegram


class Command(FakeCommand):
    help = "Run a fake Telegram Bot API server for tests and the demo."
    port_env = "FAKE_TELEGRAM_PORT"

    def make_fake(self, host, port, **options):
        return FakeTelegram(host, port)

    def describe(self, fake, **options):
        return f"fake Telegram Bot API on {fake.url} (control: POST /_control, GET /_sent)"
