from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Running Arenda for years: backups, health, metrics, error reports (docs/operations.md).
    An entry point: it reads every app and no app imports it."""

    name = "arenda.ops"
    label = "ops"
    verbose_name = _("Operations")
