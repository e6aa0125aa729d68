"""What an error report may show: Django's debug page and the e-mailed reports list the
settings and the request's environment, where a database or cache URL carries its password."""

import re

from django.views.debug import SafeExceptionReporterFilter

# scheme://user:password@host → scheme://********@host (the user too: it names an account).
_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)
SUBSTITUTE = SafeExceptionReporterFilter.cleansed_substitute


def mask_url_credentials(text: str) -> str:
    return _URL_CREDENTIALS.sub(rf"\g<scheme>{SUBSTITUTE}@", text)


class MaskingExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter hides settings named like API, TOKEN, KEY, SECRET, PASS, SIGNATURE
    (so every *_TOKEN, *_PASSWORD, *_KEY); this one also masks the credentials inside any URL
    (DATABASE_URL, CACHE_URL, a cache's LOCATION, the same in the request's environment)."""

    def cleanse_setting(self, key, value):
        value = super().cleanse_setting(key, value)
        if type(value) is str:  # not lazy objects that only pretend to be strings
            return mask_url_credentials(value)
        return value
