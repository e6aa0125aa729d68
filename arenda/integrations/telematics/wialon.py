"""Wialon Remote API (Gurtam): one endpoint, ``POST …/wialon/ajax.html`` with ``svc``,
``params`` (a JSON string) and ``sid``; errors come back as HTTP 200 ``{"error": N}``
(shapes: ``fake_wialon.py``, from Gurtam's published reference).

- **Session**: ``token/login`` gives the session id (``eid``); it is kept in the cache and
  reused — Wialon allows about 120 logins a minute per address and a session lives some
  five minutes idle — and renewed once when Wialon says it is gone (errors 1, 1011).
- **Units**: ``core/search_items`` with the base, last-position and counters flags: the
  engine-hours (``cneh``) and mileage (``cnm``) counters and the last position.
- **Track**: ``messages/load_interval`` (data messages only) — position, speed, and the
  device's parameters: ignition, engine hours, mileage, under the names the fleet's
  trackers use (``params``). Error 1001 (nothing in the interval) is an empty track.

Retried (``TelematicsError(retry=True)``): the network, HTTP 5xx, Wialon's 5, 6, 9, 10 and
its limits (1003–1005); final: a bad token (8), access denied or an unknown unit (7).
"""

import hashlib
import json
from datetime import UTC, datetime

import httpx
from django.core.cache import cache

from arenda.integrations.outbound import OutboundRefused, OutboundTransport
from arenda.integrations.telematics.base import Provider, Sample, Snapshot, TelematicsError

UNIT_FLAGS = 1 | 1024 | 8192  # base, last message and position, counters
SESSION_GONE = {1, 1011}
RETRY = {5, 6, 9, 10, 1003, 1004, 1005}
NO_MESSAGES = 1001
DEFAULT_PARAMS = {"ignition": "ign", "engine_hours": "engine_hours", "odometer_km": "mileage"}


def _when(value) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) and value > 0 else None


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class WialonProvider(Provider):
    name = "wialon"

    def __init__(self, *, url: str, token: str, timeout: float = 10, params: dict | None = None):
        self.url = url.rstrip("/") + "/wialon/ajax.html"
        self.token, self.timeout = token, timeout
        self.params = {**DEFAULT_PARAMS, **(params or {})}
        digest = hashlib.sha256(f"{self.url}\n{token}".encode()).hexdigest()[:24]
        self._session_key = f"wialon-sid:{digest}"

    # --- transport -----------------------------------------------------------------------------
    def _post(self, svc: str, params: dict, sid: str = ""):
        data = {"svc": svc, "params": json.dumps(params)}
        if sid:
            data["sid"] = sid
        try:
            with httpx.Client(transport=OutboundTransport(), timeout=self.timeout) as client:
                response = client.post(self.url, data=data)
        except OutboundRefused as exc:
            raise TelematicsError(exc.message, retry=False)
        except httpx.HTTPError as exc:
            raise TelematicsError(f"Wialon: {type(exc).__name__} {exc}".strip(), retry=True)
        if response.status_code >= 500:
            raise TelematicsError(f"Wialon: HTTP {response.status_code}", retry=True)
        try:
            return response.json()
        except ValueError:
            raise TelematicsError(f"Wialon: not JSON (HTTP {response.status_code})", retry=True)

    def _login(self) -> str:
        answer = self._post("token/login", {"token": self.token, "fl": 1})
        error = answer.get("error") if isinstance(answer, dict) else None
        if error or not isinstance(answer, dict) or not answer.get("eid"):
            raise TelematicsError(f"Wialon refused the token (error {error})", retry=error in RETRY)
        cache.set(self._session_key, answer["eid"], timeout=240)
        return answer["eid"]

    def call(self, svc: str, params: dict):
        """One call in the session (logging in first or again when needed)."""
        sid = cache.get(self._session_key) or self._login()
        for attempt in range(2):
            answer = self._post(svc, params, sid)
            error = answer.get("error") if isinstance(answer, dict) else None
            if not error:
                cache.touch(self._session_key, 240)
                return answer
            if error in SESSION_GONE and attempt == 0:
                cache.delete(self._session_key)
                sid = self._login()
                continue
            if error == NO_MESSAGES:
                return {"count": 0, "messages": []}
            reason = answer.get("reason") or ""
            raise TelematicsError(f"Wialon error {error} {reason}".strip(), retry=error in RETRY)
        raise TelematicsError("Wialon: the session was lost twice", retry=True)

    # --- the interface -------------------------------------------------------------------------
    def _snapshot(self, item: dict) -> Snapshot:
        pos = item.get("pos") if isinstance(item.get("pos"), dict) else {}
        at = _when(pos.get("t"))
        last = None
        if at is not None:
            last = Sample(
                at=at,
                lat=_number(pos.get("y")),
                lon=_number(pos.get("x")),
                speed_kmh=_number(pos.get("s")),
                engine_hours=_number(item.get("cneh")),
                odometer_km=_number(item.get("cnm")),
            )
        return Snapshot(unit_id=str(item.get("id")), name=str(item.get("nm") or ""), last=last)

    def units(self) -> list[Snapshot]:
        spec = {"itemsType": "avl_unit", "propName": "sys_name", "propValueMask": "*", "sortType": "sys_name"}
        answer = self.call(
            "core/search_items", {"spec": spec, "force": 1, "flags": UNIT_FLAGS, "from": 0, "to": 0}
        )
        return [self._snapshot(item) for item in answer.get("items") or () if isinstance(item, dict)]

    def snapshot(self, unit_id: str) -> Snapshot:
        if not str(unit_id).isdigit():
            raise TelematicsError("Wialon unit ids are numbers", retry=False)
        answer = self.call("core/search_item", {"id": int(unit_id), "flags": UNIT_FLAGS})
        item = answer.get("item")
        if not isinstance(item, dict):
            raise TelematicsError(f"Wialon does not know unit {unit_id}", retry=False)
        return self._snapshot(item)

    def track(self, unit_id: str, start: datetime, end: datetime) -> list[Sample]:
        if not str(unit_id).isdigit():
            raise TelematicsError("Wialon unit ids are numbers", retry=False)
        answer = self.call(
            "messages/load_interval",
            {
                "itemId": int(unit_id),
                "timeFrom": int(start.timestamp()),
                "timeTo": int(end.timestamp()),
                "flags": 0,
                "flagsMask": 0xFF00,
                "loadCount": 0xFFFFFFFF,
            },
        )
        samples = []
        for message in answer.get("messages") or ():
            at = _when(message.get("t")) if isinstance(message, dict) else None
            if at is None:
                continue
            pos = message.get("pos") if isinstance(message.get("pos"), dict) else {}
            values = message.get("p") if isinstance(message.get("p"), dict) else {}
            ignition = values.get(self.params["ignition"])
            samples.append(
                Sample(
                    at=at,
                    lat=_number(pos.get("y")),
                    lon=_number(pos.get("x")),
                    speed_kmh=_number(pos.get("s")),
                    ignition=bool(ignition) if isinstance(ignition, int | float) else None,
                    engine_hours=_number(values.get(self.params["engine_hours"])),
                    odometer_km=_number(values.get(self.params["odometer_km"])),
                )
            )
        samples.sort(key=lambda sample: sample.at)
        return samples
