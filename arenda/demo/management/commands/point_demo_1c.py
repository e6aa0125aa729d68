from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from arenda.demo.running import is_local, point_bases_at


class Command(BaseCommand):
    help = "Point the 1C bases that use a fake 1C on this machine at the running one (make run)."

    def add_arguments(self, parser):
        parser.add_argument("url", help="The fake 1C, e.g. http://127.0.0.1:40123")

    def handle(self, *args, url, **options):
        if not is_local(url) or not url.startswith(("http://", "https://")):
            raise CommandError(_("url: a fake 1C on this machine, e.g. http://127.0.0.1:8081"))
        changed = point_bases_at(url)
        self.stdout.write(_("1C bases pointed at %(url)s: %(count)d") % {"url": url, "count": changed})
