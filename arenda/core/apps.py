from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from arenda.core import audit, checks
from arenda.core.sqlite import install_unicode_like


class CoreConfig(AppConfig):
    name = "arenda.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        install_unicode_like()
        audit.connect()
        checks.register_all()
