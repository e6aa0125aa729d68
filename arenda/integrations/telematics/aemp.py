"""ISO 15143-3 (AEMP 2.0): the mixed-fleet telematics API the machine makers (Caterpillar,
Komatsu, Volvo CE, Liebherr, John Deere…) and the tracker vendors (Trackunit, Samsara…)
publish, over plain REST ``GET``s answering XML or, with ``Accept: application/json``, JSON
(shapes: ``fake_aemp.py``). Authentication is the provider's: a Bearer token or HTTP Basic.

- **Fleet snapshot**: ``GET …/Fleet/{page}`` (pages from 1) → ``{"Links", "Version",
  "SnapshotTime", "Equipment": [...]}``; each item has ``EquipmentHeader`` (``OEMName``,
  ``Model``, ``EquipmentID``, ``SerialNumber``, ``PIN``) and the latest value of each data
  element, each with its own ``datetime``: ``Location`` (``Latitude``, ``Longitude``,
  ``Altitude``), ``CumulativeOperatingHours`` (``Hour``), ``Distance`` (``OdometerUnits``,
  ``Odometer``), fuel and others we do not read. A unit is known by its ``EquipmentID``
  (its ``SerialNumber`` when the provider gives no ID).
- **One unit**: ``GET …/Fleet/Equipment/ID/{id}`` → one item in the same shape.
- **Time series**: ``GET …/Fleet/Equipment/ID/{id}/{element}/{startUTC}/{endUTC}/{page}``
  with the dates as ``YYYY-MM-DDTHH:MM:SSZ``; ``CumulativeOperatingHours``, ``Locations``
  (its records under ``Location``) and ``Distance``, each a list of records with a
  ``datetime``. The three are merged into one ``Sample`` per distinct time. AEMP gives
  neither the ignition nor the speed: they stay None.
- **Paging**: every answer carries ``Links`` (``rel`` self, prev, next, last; ``href``); the
  ``next`` one is followed (at most ``MAX_PAGES`` pages, never twice the same page, only on
  the configured server — the credentials go nowhere else).

Providers differ in the details, so the reading is lenient: key names in any case
(``cumulativeOperatingHours``), the body wrapped in a one-element list, numbers as text,
datetimes without a zone (UTC), the odometer in kilometres, miles or metres.

Retried (``TelematicsError(retry=True)``): the network, timeouts, HTTP 5xx and 429, an
answer that is not JSON; final: 401/403 (the credentials), 404 (an unknown unit), other 4xx
and the redirects (not followed: the credentials stay on the configured server).
"""

from datetime import UTC, datetime
from urllib.parse import quote, urljoin, urlsplit

import httpx

from arenda.integrations.outbound import OutboundRefused, OutboundTransport
from arenda.integrations.telematics.base import Provider, Sample, Snapshot, TelematicsError

MAX_PAGES = 100
SERIES = ("CumulativeOperatingHours", "Locations", "Distance")
KM_PER_MILE = 1.609344
ODOMETER_KM = {
    **dict.fromkeys(("", "km", "kilometre", "kilometres", "kilometer", "kilometers"), 1.0),
    **dict.fromkeys(("mi", "mile", "miles"), KM_PER_MILE),
    **dict.fromkeys(("m", "metre", "metres", "meter", "meters"), 0.001),
}


class _Unknown(Exception):
    """HTTP 404: the path (a unit, a page) is not there."""


def _get(item, *names):
    """``item[name]`` for the first of ``names`` present, in any letter case; else None."""
    if not isinstance(item, dict):
        return None
    for name in names:
        if name in item:
            return item[name]
    lowered = {str(key).lower(): value for key, value in item.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _when(value) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


def _stamp(at: datetime) -> str:
    at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _odometer_km(record) -> float | None:
    value = _number(_get(record, "Odometer"))
    units = str(_get(record, "OdometerUnits") or "").strip().lower()
    factor = ODOMETER_KM.get(units)
    if value is None or factor is None:
        return None  # an odometer in units we do not know is missing, not guessed
    return round(value * factor, 6)


def _body(answer):
    """The answer's object: some providers wrap it in a one-element list; [] is empty."""
    if isinstance(answer, list):
        return answer[0] if answer and isinstance(answer[0], dict) else {}
    return answer if isinstance(answer, dict) else {}


def _records(value) -> list[dict]:
    if isinstance(value, dict):
        return [value]
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


class AempProvider(Provider):
    name = "aemp"

    def __init__(
        self, *, url: str, token: str = "", username: str = "", password: str = "", timeout: float = 10
    ):
        self.url = url.rstrip("/")
        self.token, self.username, self.password = token, username, password
        self.timeout = timeout
        parts = urlsplit(self.url)
        self._origin = (parts.scheme, parts.netloc)

    # --- transport -----------------------------------------------------------------------------
    def _client(self) -> httpx.Client:
        headers = {"Accept": "application/json"}
        auth = None
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.username or self.password:
            auth = httpx.BasicAuth(self.username, self.password)
        return httpx.Client(transport=OutboundTransport(), timeout=self.timeout, headers=headers, auth=auth)

    def _fetch(self, client: httpx.Client, url: str):
        """One GET → the decoded JSON (None when there is no content); ``_Unknown`` on 404."""
        try:
            response = client.get(url)
        except OutboundRefused as exc:
            raise TelematicsError(exc.message, retry=False)
        except httpx.HTTPError as exc:
            raise TelematicsError(f"AEMP: {type(exc).__name__} {exc}".strip(), retry=True)
        status = response.status_code
        if status in (401, 403):
            raise TelematicsError(f"AEMP refused the credentials (HTTP {status})", retry=False)
        if status == 404:
            raise _Unknown(url)
        if status == 429 or status >= 500:
            raise TelematicsError(f"AEMP: HTTP {status}", retry=True)
        if status >= 300:  # a redirect (to a login page) or a request AEMP will not take
            raise TelematicsError(f"AEMP: HTTP {status} at {urlsplit(url).path}", retry=False)
        if status == 204 or not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise TelematicsError(f"AEMP: not JSON (HTTP {status})", retry=True)

    def _next(self, body: dict, current: str) -> str | None:
        """The ``next`` link's address, when it stays on the configured server."""
        for link in _records(_get(body, "Links")):
            if str(_get(link, "rel") or "").strip().lower() != "next":
                continue
            href = str(_get(link, "href") or "").strip()
            if not href:
                return None
            if href.startswith("/") and not href.startswith("//"):
                base_path = urlsplit(self.url).path
                # relative to the API's root when it does not repeat the root's own path
                href = (
                    urljoin(current, href)
                    if base_path and href.startswith(base_path + "/")
                    else self.url + href
                )
            else:
                href = urljoin(current, href)
            parts = urlsplit(href)
            return href if (parts.scheme, parts.netloc) == self._origin else None
        return None

    def _pages(self, client: httpx.Client, first: str):
        """The bodies of the pages from ``first`` on, following ``next`` links; a 404 after
        the first page ends the list."""
        url, seen = first, set()
        while url and url not in seen and len(seen) < MAX_PAGES:
            seen.add(url)
            try:
                answer = self._fetch(client, url)
            except _Unknown:
                if url == first:
                    raise
                return
            body = _body(answer)
            yield body
            url = self._next(body, url)

    # --- the interface -------------------------------------------------------------------------
    def _snapshot(self, item: dict, snapshot_time: datetime | None = None) -> Snapshot:
        header = _get(item, "EquipmentHeader") or {}
        unit_id = str(_get(header, "EquipmentID") or _get(header, "SerialNumber") or "").strip()
        name = " ".join(str(_get(header, key) or "").strip() for key in ("OEMName", "Model", "SerialNumber"))
        location = _get(item, "Location")
        location = location if isinstance(location, dict) else {}
        hours = _get(item, "CumulativeOperatingHours")
        hours = hours if isinstance(hours, dict) else {}
        distance = _get(item, "Distance")
        distance = distance if isinstance(distance, dict) else {}
        values = {
            "lat": _number(_get(location, "Latitude")),
            "lon": _number(_get(location, "Longitude")),
            "engine_hours": _number(_get(hours, "Hour")),
            "odometer_km": _odometer_km(distance) if distance else None,
        }
        times = [_when(_get(part, "datetime")) for part in (location, hours, distance) if part]
        times = [at for at in times if at is not None]
        at = max(times) if times else snapshot_time
        last = None
        if at is not None and any(value is not None for value in values.values()):
            last = Sample(at=at, **values)
        return Snapshot(unit_id=unit_id, name=" ".join(name.split()), last=last)

    def units(self) -> list[Snapshot]:
        found = []
        with self._client() as client:
            try:
                for body in self._pages(client, f"{self.url}/Fleet/1"):
                    snapshot_time = _when(_get(body, "SnapshotTime"))
                    items = _records(_get(body, "Equipment"))
                    found.extend(self._snapshot(item, snapshot_time) for item in items)
                    if not items:
                        break
            except _Unknown:
                raise TelematicsError(f"AEMP: no fleet at {self.url}/Fleet/1 (HTTP 404)", retry=False)
        return [unit for unit in found if unit.unit_id]

    def snapshot(self, unit_id: str) -> Snapshot:
        url = f"{self.url}/Fleet/Equipment/ID/{quote(str(unit_id), safe='')}"
        with self._client() as client:
            try:
                body = _body(self._fetch(client, url))
            except _Unknown:
                raise TelematicsError(f"AEMP does not know unit {unit_id}", retry=False)
        equipment = _records(_get(body, "Equipment"))
        item = equipment[0] if equipment else body
        if not isinstance(_get(item, "EquipmentHeader"), dict):
            raise TelematicsError(f"AEMP does not know unit {unit_id}", retry=False)
        snapshot = self._snapshot(item, _when(_get(body, "SnapshotTime")))
        return snapshot if snapshot.unit_id else Snapshot(str(unit_id), snapshot.name, snapshot.last)

    def _series(self, client: httpx.Client, unit_id: str, element: str, start: datetime, end: datetime):
        first = (
            f"{self.url}/Fleet/Equipment/ID/{quote(str(unit_id), safe='')}/{element}/"
            f"{_stamp(start)}/{_stamp(end)}/1"
        )
        # a series' records: under its own name; the Locations' under Location
        names = ("Location", "Locations") if element == "Locations" else (element,)
        try:
            for body in self._pages(client, first):
                records = _records(_get(body, *names))
                yield from records
                if not records:
                    return
        except _Unknown:
            raise TelematicsError(f"AEMP does not know unit {unit_id}", retry=False)

    def track(self, unit_id: str, start: datetime, end: datetime) -> list[Sample]:
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
        end = end if end.tzinfo else end.replace(tzinfo=UTC)
        if start > end:
            return []
        merged: dict[datetime, dict] = {}
        with self._client() as client:
            for element in SERIES:
                for record in self._series(client, unit_id, element, start, end):
                    at = _when(_get(record, "datetime"))
                    if at is None or not start <= at <= end:
                        continue
                    values = merged.setdefault(at, {})
                    if element == "CumulativeOperatingHours":
                        values["engine_hours"] = _number(_get(record, "Hour"))
                    elif element == "Locations":
                        values["lat"] = _number(_get(record, "Latitude"))
                        values["lon"] = _number(_get(record, "Longitude"))
                    else:
                        values["odometer_km"] = _odometer_km(record)
        return [Sample(at=at, **merged[at]) for at in sorted(merged)]
