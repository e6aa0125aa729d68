"""The configured telematics platforms (``settings.py``, «Telematics»; docs/telematics.md):
a unit's ``tracker_provider`` names one of them."""

from django.conf import settings
from django.utils.translation import gettext as _

from arenda.integrations.telematics.aemp import AempProvider
from arenda.integrations.telematics.base import Provider, TelematicsError
from arenda.integrations.telematics.wialon import WialonProvider

NAMES = {"wialon": "Wialon", "aemp": "ISO 15143-3"}


def configured(name: str) -> bool:
    if name == "wialon":
        return bool(settings.WIALON_API_URL and settings.WIALON_TOKEN)
    if name == "aemp":
        return bool(settings.AEMP_API_URL and (settings.AEMP_TOKEN or settings.AEMP_USERNAME))
    return False


def provider(name: str) -> Provider:
    """The adapter of a platform, from the settings; ``TelematicsError`` (final) when the
    platform is unknown or not configured."""
    if not configured(name):
        raise TelematicsError(
            _("%(platform)s is not configured: the admin sets its address and key (docs/telematics.md).")
            % {"platform": NAMES.get(name, name or "—")},
            retry=False,
        )
    timeout = settings.TELEMATICS_TIMEOUT
    if name == "wialon":
        return WialonProvider(url=settings.WIALON_API_URL, token=settings.WIALON_TOKEN, timeout=timeout)
    return AempProvider(
        url=settings.AEMP_API_URL,
        token=settings.AEMP_TOKEN,
        username=settings.AEMP_USERNAME,
        password=settings.AEMP_PASSWORD,
        timeout=timeout,
    )
