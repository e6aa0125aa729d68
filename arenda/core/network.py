"""The address of the person behind a request, the one place it is worked out: the sign-in
lockout (django-axes, ``AXES_CLIENT_IP_CALLABLE``), the intake rate limit and the audit log
read it.

Without ``TRUSTED_PROXIES`` the connection's own address counts and ``X-Forwarded-For`` is
ignored: anyone can send that header. With it — the number of reverse proxies in front of
the app, or their addresses — each proxy is known to append the address it received the
request from, so the hops are read from the right: past the trusted proxies, the next
address is the client's, and what a client wrote into the header itself (further left)
is never believed.

Why not python-ipware: it counts only the proxies listed in the header, while nginx and
most proxies do not list themselves (their address is the connection's), and it answers
nothing for a header of a single address — the common case behind one proxy.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings


def _address(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


@lru_cache(maxsize=16)
def _networks(trusted: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted)


def client_address(request) -> str:
    """The client's IP address as a string ('' when the connection has none)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = settings.TRUSTED_PROXIES
    if not trusted:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") or ""
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()] + [remote]
    if isinstance(trusted, int):
        client = hops[max(len(hops) - 1 - trusted, 0)]
    else:
        networks = _networks(tuple(trusted))
        index = len(hops) - 1
        while index > 0 and (ip := _address(hops[index])) is not None and any(ip in net for net in networks):
            index -= 1
        client = hops[index]
    return client if _address(client) is not None else remote
