"""``/metrics`` for Prometheus (docs/metrics.md). It is served only to a scraper that sends
``Authorization: Bearer <METRICS_TOKEN>`` or connects from an address in
``METRICS_ALLOWED_ADDRESSES`` (the client's address as ``arenda/core/network.py`` reads it);
anyone else — and everyone while neither is set — gets the ordinary 404 page, so the
endpoint does not show that it exists."""

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from arenda.core.network import client_address
from arenda.ops.metrics import exposition


def _token_matches(request) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _address_allowed(request) -> bool:
    networks = settings.METRICS_ALLOWED_ADDRESSES
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(entry, strict=False) for entry in networks)


def may_scrape(request) -> bool:
    return _token_matches(request) or _address_allowed(request)


@never_cache
def metrics(request):
    if not may_scrape(request):
        raise Http404
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
