from arenda.integrations.messaging.fake_server import FakeCommand
from arenda.integrations.messaging.fake_vk import FakeVk


class Command(FakeCommand):
    help = "Run a fake VK API and Callback API server for tests and the demo."
    port_env = "FAKE_VK_PORT"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--token", default=None, help="The only access token taken (default: any).")
        parser.add_argument("--group-id", type=int, default=200000001)

    def make_fake(self, host, port, *, token=None, group_id=200000001, **options):
        return FakeVk(host, port, token=token, group_id=group_id)

    def describe(self, fake, *, token=None, group_id=200000001, **options):
        return (
            f"fake VK API on {fake.url}: VK_API_URL={fake.url} VK_TOKEN={token or '<any>'} "
            f"VK_GROUP_ID={group_id} VK_CONFIRMATION_CODE={fake.confirmation_code} "
            "(control: POST /_control, POST /_callback, POST /_update, GET /_sent)"
        )
