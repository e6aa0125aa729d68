"""The intake webhook's own rules — which sources it serves, its rate limit, and how a
PBX's call event becomes a request — around ``services.intake_receive``."""

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from arenda.crm.models import Lead

log = logging.getLogger(__name__)

# "manual" is what a user types in the UI; every other channel may post here.
INTAKE_SOURCES = frozenset(Lead.Source.values) - {Lead.Source.MANUAL}
RATE_WINDOW = 60  # seconds


def rate_limit_wait(source: str, ip: str) -> int:
    """Seconds the caller must wait; 0 while it is within ``INTAKE_RATE_LIMIT`` requests
    per minute for this source and address. Counts live in the cache, so several
    processes share them only with a shared cache (``CACHE_URL=redis://…``)."""
    now = time.time()
    key = f"intake-rate:{source}:{ip}:{int(now // RATE_WINDOW)}"
    try:
        cache.add(key, 0, timeout=RATE_WINDOW * 2)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=RATE_WINDOW * 2)
            count = 1
    except Exception:
        # A cache outage must not lose customers' requests: let them in, loudly.
        log.exception("intake rate limit: the cache failed; request let through")
        return 0
    if count <= settings.INTAKE_RATE_LIMIT:
        return 0
    return max(1, math.ceil(RATE_WINDOW - now % RATE_WINDOW))


def _duration(seconds: int) -> str:
    minutes, seconds = divmod(seconds, 60)
    if minutes:
        return _("%(minutes)s min %(seconds)s s") % {"minutes": minutes, "seconds": seconds}
    return _("%(seconds)s s") % {"seconds": seconds}


def call_event_request(event: dict) -> dict:
    """A validated call event (docs/intake.md) as ``intake_receive`` arguments. Each event
    of a call is its own entry (``call_id:event``): "incoming" then "completed" are two
    lines of the lead, a redelivered one is none."""
    when = timezone.localtime(event.get("started_at") or timezone.now()).strftime("%H:%M")
    kind = event["event"]
    if kind == "missed":
        text = _("Missed call at %(time)s") % {"time": when}
    elif kind == "completed":
        text = _("Call at %(time)s, %(duration)s") % {
            "time": when,
            "duration": _duration(event.get("duration") or 0),
        }
    else:
        text = _("Incoming call at %(time)s") % {"time": when}
    if event.get("called"):
        text += " " + _("(line %(line)s)") % {"line": event["called"]}
    return {
        "phone": event["caller"],
        "message": text,
        "external_id": f"{event['call_id']}:{kind}",
        "recording_url": event.get("recording_url") or "",
    }
