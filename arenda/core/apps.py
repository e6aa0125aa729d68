from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from arenda.core import audit, checks, observability
from arenda.core.sqlite import install_unicode_like


class CoreConfig(AppConfig):
    name = "arenda.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        install_unicode_like()
        audit.connect()
        observability.connect()
        checks.register_all()
