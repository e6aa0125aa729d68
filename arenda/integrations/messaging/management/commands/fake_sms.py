from arenda.integrations.messaging import fake_sms
from arenda.integrations.messaging.fake_server import FakeCommand
from arenda.integrations.messaging.fake_sms import FakeSms


class Command(FakeCommand):
    help = "Run a fake SMS gateway (SMS.ru and SMSC) for tests and the demo."
    port_env = "FAKE_SMS_PORT"

    def make_fake(self, host, port, **options):
        return FakeSms(host, port)

    def describe(self, fake, **options):
        return (
            f"fake SMS gateway on {fake.url}: SMS_SMSRU_URL={fake.url} SMS_API_ID={fake_sms.API_ID}, "
            f"or SMS_SMSC_URL={fake.url}/sys SMS_LOGIN={fake_sms.LOGIN} SMS_PASSWORD={fake_sms.PASSWORD} "
            "(control: POST /_control, POST /_status, GET /_sent)"
        )
