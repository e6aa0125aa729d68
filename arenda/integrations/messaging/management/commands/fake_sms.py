from django.core.management.base import BaseCommand

from arenda.integrations.messaging import fake_sms
from arenda.integrations.messaging.fake_server import announce, port_from_env
from arenda.integrations.messaging.fake_sms import FakeSms


class Command(BaseCommand):
    help = "Run a fake SMS gateway (SMS.ru and SMSC) for tests and the demo."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port", type=int, default=None, help="Default: FAKE_SMS_PORT, else a free port (0)."
        )
        parser.add_argument("--port-file", help="Write the URL with the port it got into this file.")

    def handle(self, *args, host, port, port_file, **options):
        if port is None:
            port = port_from_env("FAKE_SMS_PORT")
        fake = FakeSms(host, port)
        self.stdout.write(
            f"fake SMS gateway on {fake.url}: SMS_SMSRU_URL={fake.url} SMS_API_ID={fake_sms.API_ID}, "
            f"or SMS_SMSC_URL={fake.url}/sys SMS_LOGIN={fake_sms.LOGIN} SMS_PASSWORD={fake_sms.PASSWORD} "
            "(control: POST /_control, POST /_status, GET /_sent)"
        )
        self.stdout.flush()
        announce(fake.url, port_file)
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.server_close()
