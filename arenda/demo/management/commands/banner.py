from django.core.management.base import BaseCommand

from arenda.demo.banner import banner_lines


class Command(BaseCommand):
    help = "Print where this copy of Arenda runs, its fakes and the demo logins (make run prints it last)."

    def handle(self, *args, **options):
        self.stdout.write("\n".join(banner_lines()))
