"""A small client of the 1C standard OData interface (OData v3, ``$format=json``).

Every call answers parsed JSON or raises one of the typed errors below; ``retryable``
on the error class says whether trying again later can help (a 1C that is down, slow or
failing inside) or not (wrong password, an object not published in the base, a request
1C refuses). Numbers come back as ``Decimal``: 1C sends amounts as JSON numbers.
"""

import json
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from arenda.integrations.outbound import OutboundRefused, OutboundTransport

EMPTY_REF = "00000000-0000-0000-0000-000000000000"


class OneCError(Exception):
    retryable = False

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message, self.status = message, status

    def __str__(self):
        return self.message


class Unauthorized(OneCError):
    """401: the user name or password is wrong (or the user may not use OData)."""


class NotFound(OneCError):
    """404: the entity set is not published in the base, or the object does not exist."""


class Refused(OneCError):
    """Another 4xx: 1C understood the request and will not do it."""


class BadAnswer(OneCError):
    """A 2xx that is not 1C's JSON (a proxy page, a wrong URL)."""


class Redirected(OneCError):
    """A 3xx: not followed — the base's password would go to wherever it points
    (docs/security.md, «Outbound calls and 1C credentials»)."""


class AddressRefused(OneCError):
    """The base's address is one the app does not call (``integrations/outbound.py``)."""


class ServerError(OneCError):
    retryable = True


class Timeout(OneCError):
    retryable = True


class Unreachable(OneCError):
    """No connection, or the connection dropped before an answer (the request may have
    been carried out)."""

    retryable = True


class Guid(str):
    """A reference value: written ``guid'…'`` in a filter."""


def literal(value) -> str:
    """An OData v3 literal for ``$filter``."""
    if isinstance(value, Guid):
        return f"guid'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return f"datetime'{value.replace(tzinfo=None).isoformat(timespec='seconds')}'"
    if isinstance(value, date):
        return f"datetime'{value.isoformat()}T00:00:00'"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no OData literal for {value!r}")


def where(conditions: dict) -> str:
    """``{"ИНН": "7701…", "Posted": True}`` → ``ИНН eq '7701…' and Posted eq true``."""
    return " and ".join(f"{field} eq {literal(value)}" for field, value in conditions.items())


def key(ref: str) -> str:
    return f"(guid'{ref}')"


def one_c_date(value: date) -> str:
    """1C's Edm.DateTime: local time, no zone."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="seconds")
    return f"{value.isoformat()}T00:00:00"


def _encode(value):
    if isinstance(value, Decimal):
        # JSON has no decimals; amounts of at most 15 significant digits survive a float.
        return float(value)
    raise TypeError(f"cannot send {value!r} to 1C")


class Client:
    def __init__(self, url: str, username: str, password: str, timeout: float | None = None, **kwargs):
        self.url = url.rstrip("/") + "/"
        timeout = timeout or getattr(settings, "ONEC_TIMEOUT", 15.0)
        # Redirects are never followed (the password would follow them); every connection
        # goes through the outbound checks, made again when the address is resolved — and no
        # proxy from the environment, whose transport would skip them (docs/security.md).
        kwargs.setdefault("transport", OutboundTransport())
        self.http = httpx.Client(
            auth=(username, password),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={"Accept": "application/json"},
            follow_redirects=False,
            trust_env=False,
            **kwargs,
        )

    @classmethod
    def for_base(cls, base) -> "Client":
        return cls(base.odata_url, base.username, base.password)

    def close(self):
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- the calls ---------------------------------------------------------------------------
    def list(self, entity_set: str, conditions: dict | None = None) -> list[dict]:
        query = {"$filter": where(conditions)} if conditions else {}
        return self._call("GET", entity_set, query).get("value", [])

    def get(self, entity_set: str, ref: str) -> dict:
        return self._call("GET", entity_set + key(ref))

    def create(self, entity_set: str, data: dict) -> dict:
        return self._call("POST", entity_set, body=data)

    def patch(self, entity_set: str, ref: str, data: dict) -> dict:
        return self._call("PATCH", entity_set + key(ref), body=data)

    def post_document(self, entity_set: str, ref: str) -> None:
        self._call("POST", f"{entity_set}{key(ref)}/Post", {"PostingModeOperational": "false"}, empty_ok=True)

    def unpost_document(self, entity_set: str, ref: str) -> None:
        self._call("POST", f"{entity_set}{key(ref)}/Unpost", empty_ok=True)

    def find_or_create(self, entity_set: str, conditions: dict, data: dict) -> dict:
        """The first object matching ``conditions``, else a new one from ``data``."""
        found = [item for item in self.list(entity_set, conditions) if not item.get("DeletionMark")]
        return found[0] if found else self.create(entity_set, {**conditions, **data})

    # --- plumbing ----------------------------------------------------------------------------
    def _call(self, method: str, path: str, query: dict | None = None, body=None, empty_ok=False):
        params = "&".join(f"{name}={quote(str(value), safe='')}" for name, value in (query or {}).items())
        url = self.url + quote(path, safe="()=,/'") + "?$format=json" + (f"&{params}" if params else "")
        content = json.dumps(body, ensure_ascii=False, default=_encode).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        try:
            response = self.http.request(method, url, content=content, headers=headers)
        except OutboundRefused as exc:
            raise AddressRefused(exc.message) from exc
        except httpx.TimeoutException as exc:
            raise Timeout(
                _("1C did not answer in time (%(error)s).") % {"error": type(exc).__name__}
            ) from exc
        except httpx.TransportError as exc:
            raise Unreachable(
                _("No answer from 1C: %(error)s.") % {"error": exc or type(exc).__name__}
            ) from exc
        return self._answer(response, path, empty_ok)

    def _answer(self, response: httpx.Response, path: str, empty_ok: bool):
        status = response.status_code
        if 300 <= status < 400:
            location = response.headers.get("Location", "")
            raise Redirected(
                _(
                    "1C answered %(status)s, a redirect to %(location)s; it is not followed with the "
                    "base's password. Put the final address in the 1C base settings."
                )
                % {"status": status, "location": location[:300] or "?"},
                status,
            )
        if status == 401:
            raise Unauthorized(
                _(
                    "1C refused the user name or password of the base (401). Check them in the 1C base settings."
                ),
                status,
            )
        if status >= 400:
            detail = _error_text(response)
            if status == 404:
                raise NotFound(
                    _(
                        "1C answered 404 for %(path)s: %(detail)s. Is it published in the OData content of the base?"
                    )
                    % {"path": path, "detail": detail},
                    status,
                )
            error = ServerError if status >= 500 else Refused
            raise error(
                _("1C answered %(status)s: %(detail)s") % {"status": status, "detail": detail}, status
            )
        if not response.content and empty_ok:
            return {}
        try:
            data = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise BadAnswer(
                _("1C answered %(status)s with something that is not OData JSON; is the URL right?")
                % {"status": status},
                status,
            )
        return data


def _error_text(response: httpx.Response) -> str:
    """1C's ``{"odata.error": {"code", "message": {"value"}}}``, else the start of the body."""
    try:
        error = response.json()["odata.error"]
        return str(error["message"]["value"])
    except (ValueError, KeyError, TypeError):
        return response.text.strip()[:300] or response.reason_phrase
