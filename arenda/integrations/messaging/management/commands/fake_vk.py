from django.core.management.base import BaseCommand

from arenda.integrations.messaging.fake_server import announce, port_from_env
from arenda.integrations.messaging.fake_vk import FakeVk


class Command(BaseCommand):
    help = "Run a fake VK API and Callback API server for tests and the demo."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port", type=int, default=None, help="Default: FAKE_VK_PORT, else a free port (0)."
        )
        parser.add_argument("--port-file", help="Write the URL with the port it got into this file.")
        parser.add_argument("--token", default=None, help="The only access token taken (default: any).")
        parser.add_argument("--group-id", type=int, default=200000001)

    def handle(self, *args, host, port, port_file, token, group_id, **options):
        if port is None:
            port = port_from_env("FAKE_VK_PORT")
        fake = FakeVk(host, port, token=token, group_id=group_id)
        self.stdout.write(
            f"fake VK API on {fake.url}: VK_API_URL={fake.url} VK_TOKEN={token or '<any>'} "
            f"VK_GROUP_ID={group_id} VK_CONFIRMATION_CODE={fake.confirmation_code} "
            "(control: POST /_control, POST /_callback, POST /_update, GET /_sent)"
        )
        self.stdout.flush()
        announce(fake.url, port_file)
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.server_close()
