"""A fake ISO 15143-3 (AEMP 2.0) fleet API for the tests and the demo (``manage.py
fake_aemp``), answering JSON in the standard's shapes (element names as in its XML schema,
as the makers' and Trackunit's JSON exports give them).

Every call needs ``Authorization: Bearer <token>`` (any non-empty token when ``token`` is
None) or HTTP Basic with ``username``/``password``; else HTTP 401. Endpoints (all ``GET``):

- ``/Fleet/{page}`` → ``{"Links", "Version", "SnapshotTime", "Equipment": [item…]}``, an item
  being ``{"EquipmentHeader": {"OEMName", "Model", "EquipmentID", "SerialNumber"},
  "Location": {"datetime", "Latitude", "Longitude", "Altitude", "AltitudeUnits"},
  "CumulativeOperatingHours": {"datetime", "Hour"}, "Distance": {"datetime",
  "OdometerUnits", "Odometer"}}`` (an element the unit has no reading of is left out; a unit
  without an ``id`` has no ``EquipmentID`` and is known by its serial number);
- ``/Fleet/Equipment/ID/{id}`` → one item (with ``Version`` and ``SnapshotTime``); 404 for
  an unknown one;
- ``/Fleet/Equipment/ID/{id}/{element}/{startUTC}/{endUTC}/{page}``, element
  ``CumulativeOperatingHours``, ``Locations`` or ``Distance`` → ``{"Links", "Version",
  "EquipmentHeader", <records>}``, the records (oldest first, both ends included) under
  ``CumulativeOperatingHours``, ``Location`` or ``Distance``; 400 for a bad date or page or
  the dates out of order, 404 for an unknown unit or element.

Pages (from 1) hold ``page_size`` records (50) or units; ``Links`` (absolute ``href``s) give
``self``, ``prev``, ``next`` and ``last``; a page past the last is empty.

Tracks are made by ``add_trip`` (or ``POST /_trip``), deterministically and in the same
way as ``fake_wialon.py`` (both from ``fake_tracks.py``): driving at 40 km/h from the base
to the site, working on the site (a jitter of a few metres), driving back. Every ``step_minutes`` (and at arrival, departure
and return) each of the three series gets a record: the engine hours grow all the trip
(drive to + work + drive back), the odometer only while driving (40 km/h × the driving
time; given in the unit's ``odometer_units``, kilometres or miles); the unit's snapshot
moves to the end. A unit with ``"odometer": None`` has no ``Distance`` at all.

Control:

- ``POST /_control {"fail": "500"|"timeout"|"429"|"none", "times": N, "delay": s,
  "page_size": n}`` — the next N API calls fail that way: HTTP 500; an answer only after
  ``delay`` seconds (2); HTTP 429;
- ``POST /_trip {"unit_id", "start": ISO-8601, "drive_to_minutes", "work_hours",
  "drive_back_minutes", "site": [lat, lon], "base"?: [lat, lon], "step_minutes"?}`` →
  ``{"ok": true, "messages": N}`` (N times, each with a record in every series);
- ``GET /_sent`` → ``{"calls": [{"path", "auth"}], "units": [...]}`` (``auth``:
  ``"Bearer <token>"``, ``"Basic <user name>"`` or ``""``); ``POST /_reset``.
"""

import base64
import binascii
import copy
import math
from datetime import UTC, datetime
from urllib.parse import SplitResult, quote, unquote

from arenda.integrations.telematics.fake_tracks import (
    MOSCOW,
    SERVER_ERROR,
    SPEED_KMH,
    TrackerFake,
    TrackerHandler,
)

TOKEN = "aemp-test-token"
USERNAME, PASSWORD = "aemp-test", "aemp-test-password"
PAGE_SIZE = 50
VERSION = "1"
KM_PER_MILE = 1.609344
READ_AT = "2024-11-30T18:00:00Z"  # the default units' last reading before any trip
DEFAULT_UNITS = [
    {
        "id": "AEMP-1001",
        "oem": "Liebherr",
        "model": "LTM 1030-2.1",
        "serial": "074512",
        "hours": 3210.5,
        "odometer": 45120.0,
        "base": MOSCOW,
    },
    {
        "id": "AEMP-1002",
        "oem": "Komatsu",
        "model": "PW160-11",
        "serial": "K60412",
        "hours": 4875.25,
        "odometer": 18640.0,
        "base": (55.6586, 37.8341),
    },
    {
        "id": "AEMP-1003",
        "oem": "JCB",
        "model": "540-140 Hi-Viz",
        "serial": "2841536",
        "hours": 1460.5,
        "odometer": 12875.0,
        "base": (55.9117, 37.4159),
    },
]
SERIES = {
    "CumulativeOperatingHours": "CumulativeOperatingHours",
    "Locations": "Location",
    "Distance": "Distance",
}
MILES = {"mi", "mile", "miles"}


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> int:
    """A path's date → epoch seconds (ValueError when it is not one); no zone is UTC."""
    at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return int((at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp())


class FakeAemp(TrackerFake):
    unit_key = str
    track = "records"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str | None = TOKEN,
        units: list[dict] | None = None,
        username: str | None = USERNAME,
        password: str = PASSWORD,
        page_size: int = PAGE_SIZE,
    ):
        self.token, self.username, self.password = token, username, password
        self.default_page_size = page_size
        self._unit_specs = copy.deepcopy(units if units is not None else DEFAULT_UNITS)
        super().__init__(host, port)

    def reset(self) -> None:
        with self.lock:
            self.units: dict[str, dict] = {}
            for spec in self._unit_specs:
                key = str(spec.get("id") or spec["serial"])
                odometer_units = str(spec.get("odometer_units") or "kilometre")
                odometer = spec.get("odometer", 0)
                factor = KM_PER_MILE if odometer_units.lower() in MILES else 1.0
                base = tuple(spec.get("base") or MOSCOW)
                read_at = spec.get("at", READ_AT)
                self.units[key] = {
                    "id": key,
                    "header": {
                        "OEMName": str(spec.get("oem") or ""),
                        "Model": str(spec.get("model") or ""),
                        **({"EquipmentID": key} if spec.get("id") else {}),
                        "SerialNumber": str(spec.get("serial") or key),
                    },
                    "odometer_units": odometer_units,
                    "base": base,
                    # the last reading (the snapshot): time, position, counters (km inside)
                    "last": {
                        "t": _parse_time(read_at) if read_at else None,
                        "lat": base[0],
                        "lon": base[1],
                        "hours": float(spec.get("hours", 0)),
                        "km": None if odometer is None else float(odometer) * factor,
                    },
                    "records": [],
                }
            self.calls: list[dict] = []
            self.fail, self.fail_times, self.delay = "none", 0, 2.0
            self.page_size = self.default_page_size

    # --- tracks --------------------------------------------------------------------------------
    @staticmethod
    def _trip_start(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    def _add_track(self, unit: dict, bounds: tuple, points, site: tuple, base: tuple) -> int:
        b0 = bounds[0]
        hours0, km0 = unit["last"]["hours"], unit["last"]["km"]
        records = [
            {
                "t": t,
                "lat": round(point[0], 6),
                "lon": round(point[1], 6),
                "hours": round(hours0 + (t - b0) / 3600, 6),
                "km": None if km0 is None else round(km0 + SPEED_KMH * driven / 3600, 6),
            }
            for t, point, driven in points
        ]
        unit["records"].extend(records)
        unit["last"] = dict(records[-1])
        return len(records)

    # --- the API -------------------------------------------------------------------------------
    def _odometer(self, unit: dict, km: float) -> dict:
        miles = unit["odometer_units"].lower() in MILES
        return {
            "OdometerUnits": unit["odometer_units"],
            "Odometer": round(km / KM_PER_MILE if miles else km, 6),
        }

    def _item(self, unit: dict) -> dict:
        item = {"EquipmentHeader": dict(unit["header"])}
        last = unit["last"]
        if last["t"] is None:
            return item
        at = _iso(last["t"])
        item["Location"] = {
            "datetime": at,
            "Latitude": last["lat"],
            "Longitude": last["lon"],
            "Altitude": 150.0,
            "AltitudeUnits": "metre",
        }
        item["CumulativeOperatingHours"] = {"datetime": at, "Hour": last["hours"]}
        if last["km"] is not None:
            item["Distance"] = {"datetime": at, **self._odometer(unit, last["km"])}
        return item

    def _links(self, root: str, path: str, page: int, last: int) -> list[dict]:
        links = [{"rel": "self", "href": f"{root}{path}/{page}"}]
        if page > 1:
            links.append({"rel": "prev", "href": f"{root}{path}/{min(page - 1, last)}"})
        if page < last:
            links.append({"rel": "next", "href": f"{root}{path}/{page + 1}"})
        links.append({"rel": "last", "href": f"{root}{path}/{last}"})
        return links

    def _record(self, unit: dict, element: str, record: dict) -> dict:
        at = _iso(record["t"])
        if element == "CumulativeOperatingHours":
            return {"datetime": at, "Hour": record["hours"]}
        if element == "Locations":
            position = {"Latitude": record["lat"], "Longitude": record["lon"]}
            return {"datetime": at, **position, "Altitude": 150.0, "AltitudeUnits": "metre"}
        return {"datetime": at, **self._odometer(unit, record["km"])}

    def call(self, path: str, auth: str, root: str) -> tuple[int, dict | str, float]:
        """One API call → (HTTP status, body, seconds to wait before answering)."""
        with self.lock:
            self.calls.append({"path": path, "auth": self._who(auth)})
            fail = self._spend_failure()
            if fail == "500":
                return 500, SERVER_ERROR, 0
            if fail == "429":
                return 429, {"message": "Too Many Requests"}, 0
            delay = self.delay if fail == "timeout" else 0
            if not self._authorized(auth):
                return 401, {"message": "Unauthorized"}, delay
            status, body = self._dispatch(path, root)
            return status, body, delay

    def _who(self, auth: str) -> str:
        scheme, _, value = auth.strip().partition(" ")
        if scheme.lower() == "basic":
            try:
                user = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                user = "?"
            return f"Basic {user}"
        return auth.strip()

    def _authorized(self, auth: str) -> bool:
        scheme, _, value = auth.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer":
            return bool(value) and (self.token is None or value == self.token)
        if scheme.lower() == "basic" and self.username is not None:
            try:
                user, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return user == self.username and password == self.password
        return False

    def _dispatch(self, path: str, root: str) -> tuple[int, dict]:
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if len(parts) == 2 and parts[0] == "Fleet":
            return self._fleet(parts[1], root)
        if len(parts) >= 4 and parts[:3] == ["Fleet", "Equipment", "ID"]:
            unit = self.units.get(parts[3])
            if unit is None:
                return 404, {"message": f"no equipment {parts[3]}"}
            if len(parts) == 4:
                snapshot_time = {"Version": VERSION, "SnapshotTime": _iso(int(datetime.now(UTC).timestamp()))}
                return 200, snapshot_time | self._item(unit)
            if len(parts) == 8:
                return self._series(unit, *parts[4:], root)
        return 404, {"message": "not found"}

    def _page(self, text: str) -> int:
        page = int(text)
        if page < 1:
            raise ValueError("pages start at 1")
        return page

    def _fleet(self, page_text: str, root: str) -> tuple[int, dict]:
        try:
            page = self._page(page_text)
        except ValueError:
            return 400, {"message": "the page must be a positive number"}
        units = sorted(self.units.values(), key=lambda unit: unit["id"])
        last = max(1, math.ceil(len(units) / self.page_size))
        chosen = units[(page - 1) * self.page_size : page * self.page_size]
        return 200, {
            "Links": self._links(root, "/Fleet", page, last),
            "Version": VERSION,
            "SnapshotTime": _iso(int(datetime.now(UTC).timestamp())),
            "Equipment": [self._item(unit) for unit in chosen],
        }

    def _series(self, unit: dict, element: str, start: str, end: str, page_text: str, root: str):
        if element not in SERIES:
            return 404, {"message": f"no data element {element}"}
        try:
            t0, t1, page = _parse_time(start), _parse_time(end), self._page(page_text)
        except ValueError:
            return 400, {"message": "dates as YYYY-MM-DDTHH:MM:SSZ and a page from 1"}
        if t0 > t1:
            return 400, {"message": "the start date is after the end date"}
        records = [r for r in unit["records"] if t0 <= r["t"] <= t1]
        if element == "Distance" and unit["last"]["km"] is None:
            records = []
        last = max(1, math.ceil(len(records) / self.page_size))
        chosen = records[(page - 1) * self.page_size : page * self.page_size]
        path = f"/Fleet/Equipment/ID/{quote(unit['id'], safe='')}/{element}/{start}/{end}"
        return 200, {
            "Links": self._links(root, path, page, last),
            "Version": VERSION,
            "EquipmentHeader": dict(unit["header"]),
            SERIES[element]: [self._record(unit, element, r) for r in chosen],
        }

    # --- control -------------------------------------------------------------------------------
    def _control(self, body: dict) -> None:
        if "page_size" in body:
            self.page_size = max(1, int(body["page_size"]))

    def sent(self) -> dict:
        with self.lock:
            units = []
            for unit in self.units.values():
                last = unit["last"]
                units.append(
                    {
                        "id": unit["id"],
                        "name": " ".join(unit["header"][key] for key in ("OEMName", "Model", "SerialNumber")),
                        "hours": last["hours"],
                        "odometer_km": last["km"],
                        "at": _iso(last["t"]) if last["t"] is not None else None,
                        "position": [last["lat"], last["lon"]],
                        "messages": len(unit["records"]),
                    }
                )
            return {"calls": copy.deepcopy(self.calls), "units": units}


class _Handler(TrackerHandler):
    server: FakeAemp

    def _api(self, verb: str, parts: SplitResult, raw: str) -> None:
        if verb != "GET":
            return self._answer(405, {"message": "only GET"})
        host, port = self.server.server_address[:2]
        root = "http://" + (self.headers.get("Host") or f"{host}:{port}")
        status, body, delay = self.server.call(parts.path, self.headers.get("Authorization") or "", root)
        self._answer(status, body, delay)


FakeAemp.handler_class = _Handler
