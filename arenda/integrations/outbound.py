"""Where the app may call out to, with credentials (docs/security.md, «Outbound calls and 1C
credentials»).

An outbound address saved by a user (a 1C base's OData URL) could otherwise point the
server, and the password it sends, at anything it can reach: the cloud's metadata service,
a link-local device, a host of the caller's choosing. So:

- ``check_url`` — at save (a model's ``clean``): http(s) with a host; never a link-local or
  metadata address (``FORBIDDEN_NETWORKS``, ``METADATA_HOSTS``); and, when the setting
  ``OUTBOUND_ALLOWED_HOSTS`` lists hosts, only one of them;
- ``OutboundTransport`` — at connect time: the host is checked again, resolved, refused if
  any of its addresses is forbidden, and the connection goes to the address that was
  checked (TLS still verifies the host's name), so a DNS answer that changes between the
  check and the connection (DNS rebinding) cannot lead elsewhere.

Loopback and private networks stay allowed: a 1C server usually sits on the company
network, or on the same machine. ``OUTBOUND_ALLOWED_HOSTS`` narrows it down to the known
ones.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

FORBIDDEN_NETWORKS = (
    ipaddress.ip_network("169.254.0.0/16"),  # IPv4 link-local, cloud metadata (169.254.169.254)
    ipaddress.ip_network("fe80::/10"),  # IPv6 link-local
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS metadata over IPv6
)
# Names that reach a metadata service whatever they resolve to where the app is checked.
METADATA_HOSTS = frozenset(
    {"metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal"}
)


class OutboundRefused(ValueError):
    """An address the app does not call. ``message`` is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _ip(host: str):
    """The address a host is written as (an IPv4-mapped IPv6 one as IPv4; the forms
    ``inet_aton`` accepts, such as ``2852039166`` or ``0xa9.0xfe.0xa9.0xfe``), or None."""
    text = host.strip("[]").split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        if not text or set(text.lower()) - set("0123456789abcdefx."):
            return None
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def forbidden_ip(value) -> bool:
    """Whether an address (text) lies in a forbidden network; a host name is not an address."""
    address = _ip(str(value))
    if address is None:
        return False
    return any(address in net for net in FORBIDDEN_NETWORKS if net.version == address.version)


def allowed_hosts() -> list[str]:
    return [
        entry.strip().lower() for entry in getattr(settings, "OUTBOUND_ALLOWED_HOSTS", []) if entry.strip()
    ]


def host_allowed(host: str) -> bool:
    """Whether ``OUTBOUND_ALLOWED_HOSTS`` (when set) lists ``host``: a name, ``*.domain`` for
    its subdomains, an address or a network (``10.1.0.0/16``)."""
    entries = allowed_hosts()
    if not entries:
        return True
    host = host.lower().rstrip(".")
    address = _ip(host)
    for entry in entries:
        if entry.startswith("*."):
            if host.endswith(entry[1:]):
                return True
        elif "/" in entry:
            try:
                if address is not None and address in ipaddress.ip_network(entry, strict=False):
                    return True
            except (ValueError, TypeError):
                continue
        elif address is not None and _ip(entry) is not None:
            if address == _ip(entry):
                return True
        elif host == entry.rstrip("."):
            return True
    return False


def check_host(host: str) -> None:
    """Refuse a host the app does not call (without resolving it)."""
    host = (host or "").lower().rstrip(".")
    if not host:
        raise OutboundRefused(_("The address has no host."))
    if host in METADATA_HOSTS or forbidden_ip(host):
        raise OutboundRefused(
            _("%(host)s is a link-local or cloud metadata address; the app does not call it.")
            % {"host": host}
        )
    if not host_allowed(host):
        raise OutboundRefused(
            _("%(host)s is not among the hosts the app may call (OUTBOUND_ALLOWED_HOSTS).") % {"host": host}
        )


def check_url(url: str) -> None:
    """Refuse an outbound URL at save time (see the module's docstring)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 — a bad port raises here
    except ValueError:
        raise OutboundRefused(_("This is not a valid address.")) from None
    if parts.scheme not in ("http", "https"):
        raise OutboundRefused(_("Only http:// and https:// addresses are called."))
    check_host(host)


def resolve_checked(host: str, port: int) -> list[str]:
    """The host's addresses, refused if any of them is forbidden (``check_host`` first)."""
    check_host(host)
    literal = _ip(host)
    if literal is not None:
        return [str(literal)]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise httpx.ConnectError(f"{host}: {exc}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    bad = [address for address in addresses if forbidden_ip(address)]
    if bad:
        raise OutboundRefused(
            _(
                "%(host)s resolves to a link-local or cloud metadata address (%(address)s); the app does not call it."
            )
            % {"host": host, "address": bad[0]}
        )
    if not addresses:
        raise httpx.ConnectError(f"{host}: no address")
    return addresses


class OutboundTransport(httpx.HTTPTransport):
    """An httpx transport that checks every request's host at connect time and connects to
    the address it checked (see the module's docstring). ``OutboundRefused`` propagates."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        address = resolve_checked(host, port)[0]
        if _ip(host) is None:
            if "host" not in request.headers:
                request.headers["Host"] = request.url.netloc.decode("ascii")
            if request.url.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": host}
            request.url = request.url.copy_with(host=address)
        return super().handle_request(request)
