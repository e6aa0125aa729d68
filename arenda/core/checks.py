"""System checks of the installation's own settings (``manage.py check``; ``runserver`` and
``migrate`` print them too)."""

from django.conf import settings
from django.core import checks


def encryption_key_is_set(app_configs, **kwargs):
    """Without ENCRYPTION_KEY the 1C passwords are encrypted with SECRET_KEY, which a fresh
    install keeps in DATA_DIR beside the SQLite file: one backup then holds the data and the key."""
    if settings.DEBUG or settings.ENCRYPTION_KEY_SET:
        return []
    return [
        checks.Warning(
            "ENCRYPTION_KEY is not set: secrets kept in the database (1C passwords) are encrypted "
            "with SECRET_KEY.",
            hint="Set ENCRYPTION_KEY in the environment to a random value kept out of DATA_DIR and "
            "out of the database's backups (README.md, «Configuration»). Changing it makes the "
            "stored passwords unreadable: enter them again.",
            id="arenda.W001",
        )
    ]


def register_all():
    checks.register(encryption_key_is_set, checks.Tags.security)
