"""A fake Wialon Remote API server (Gurtam) for the tests and the demo (``manage.py
fake_wialon``), in the shapes of ``../shared/samples/wialon`` (the real one is
``https://hst-api.wialon.com/wialon/ajax.html``).

One endpoint, ``POST /wialon/ajax.html`` (GET with a query string too): form fields ``svc``,
``params`` (a JSON string), ``sid``. Every answer is HTTP 200 JSON; errors are
``{"error": N}`` (sometimes with ``"reason"``): 1 no such session (unknown, logged out or
idle longer than ``session_ttl`` seconds), 2 unknown ``svc``, 4 bad input, 7 unknown unit,
8 bad token, 1001 no messages in the interval. Methods: ``token/login``, ``core/logout``,
``core/search_items``, ``core/search_item``, ``unit/calc_last``,
``messages/load_interval``, ``core/batch``.

Tracks are made by ``add_trip`` (or ``POST /_trip``; the route is ``fake_tracks.py``'s),
deterministically: ignition on at the start, driving at 40 km/h from the base to the site,
the engine running on the site (speed 0, a jitter of a few metres), driving back, ignition
off. Message ``p``: ``ign``
(0/1), ``engine_hours`` (cumulative hours), ``mileage`` (cumulative km), ``pwr_ext`` (V).
Engine hours grow only while the ignition is on, mileage only while driving (40 km/h × the
driving time); the unit's counters (``cneh`` hours, ``cnm`` km) and ``pos`` move to the end.

Control:

- ``POST /_control {"fail": "500"|"timeout"|"error5"|"error1003"|"none", "times": N,
  "delay": s}`` — the next N calls of any ``svc`` but ``token/login`` fail that way:
  HTTP 500; an answer only after ``delay`` seconds (2); ``{"error": 5}``;
  ``{"error": 1003, "reason": "LIMIT api_concurrent"}``. ``{"expire_sessions": true}``
  ends every session; ``{"session_ttl": s}`` changes the idle lifetime;
- ``POST /_trip {"unit_id", "start": ISO-8601, "drive_to_minutes", "work_hours",
  "drive_back_minutes", "site": [lat, lon], "base"?: [lat, lon], "step_minutes"?}`` →
  ``{"ok": true, "messages": N}``;
- ``GET /_sent`` → ``{"calls": [{"svc", "params", "sid"}], "logins": N, "units": [...]}``;
  ``POST /_reset``.
"""

import copy
import fnmatch
import json
import math
import secrets
import time
from urllib.parse import SplitResult, parse_qsl

from arenda.integrations.telematics.fake_tracks import (
    MOSCOW,
    SERVER_ERROR,
    SPEED_KMH,
    TrackerFake,
    TrackerHandler,
)

TOKEN = "wialon-test-token"
ENDPOINT = "/wialon/ajax.html"
FLAG_BASE, FLAG_LAST, FLAG_COUNTERS = 1, 1024, 8192
DEFAULT_UNITS = [
    {"id": 734455, "nm": "Автокран КС-55713 А123ВС77", "cneh": 5123.4, "cnm": 84210.5, "base": MOSCOW},
    {"id": 734456, "nm": "Экскаватор-погрузчик JCB 3CX Е456КМ77", "cneh": 2890.25, "cnm": 31540.2},
    {
        "id": 734457,
        "nm": "Телескопический погрузчик Manitou MT 1840 О789РТ77",
        "cneh": 1460.5,
        "cnm": 12875.0,
    },
]
FAILURES = {"error5": {"error": 5}, "error1003": {"error": 1003, "reason": "LIMIT api_concurrent"}}


def _course(a: tuple, b: tuple) -> int:
    if a == b:
        return 0
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return round(math.degrees(math.atan2(y, x))) % 360


def _formatted(value: float, unit: str) -> dict:
    return {"value": value, "format": {"value": f"{value:.2f} {unit}"}}


class FakeWialon(TrackerFake):
    unit_key = int
    track = "messages"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str | None = TOKEN,
        units: list[dict] | None = None,
        session_ttl: float = 300,
    ):
        self.token = token
        self.session_ttl = session_ttl
        self._unit_specs = copy.deepcopy(units if units is not None else DEFAULT_UNITS)
        super().__init__(host, port)

    def reset(self) -> None:
        with self.lock:
            self.units: dict[int, dict] = {}
            for spec in self._unit_specs:
                base = tuple(spec.get("base") or spec.get("pos") or MOSCOW)
                self.units[int(spec["id"])] = {
                    "id": int(spec["id"]),
                    "nm": spec["nm"],
                    "cneh": float(spec.get("cneh", 0)),
                    "cnm": float(spec.get("cnm", 0)),
                    "cnkb": int(spec.get("cnkb", 20480)),
                    "base": base,
                    "pos": None,
                    "messages": [],
                }
            self.sessions: dict[str, float] = {}  # sid → monotonic time of the last call
            self.calls: list[dict] = []
            self.logins = 0
            self.fail, self.fail_times, self.delay = "none", 0, 2.0

    # --- tracks --------------------------------------------------------------------------------
    def _add_track(self, unit: dict, bounds: tuple, points, site: tuple, base: tuple) -> int:
        b0, b1, b2, b3 = bounds
        eh0, km0 = unit["cneh"], unit["cnm"]
        course_to, course_back = _course(base, site), _course(site, base)
        messages = []
        for n, (t, point, driven) in enumerate(points):
            # on the road but at the very start (standing at the base) and at the return
            speed = SPEED_KMH if b0 < t < b1 or b2 < t < b3 else 0
            course = course_to if t <= b2 else course_back
            ignition = 0 if t == b3 else 1
            pos = {"y": round(point[0], 6), "x": round(point[1], 6), "z": 150, "s": speed, "c": course}
            params = {
                "pwr_ext": 28.1 if ignition else 25.4,
                "ign": ignition,
                "engine_hours": round(eh0 + (t - b0) / 3600, 6),
                "mileage": round(km0 + SPEED_KMH * driven / 3600, 6),
            }
            messages.append(
                {"t": t, "f": 3, "tp": "ud", "pos": pos | {"sc": 12 + n % 4}, "i": ignition, "o": 0}
                | {"lc": 0, "rt": t + 1, "p": params}
            )
        last = messages[-1]
        unit["messages"].extend(messages)
        unit["cneh"], unit["cnm"] = last["p"]["engine_hours"], last["p"]["mileage"]
        unit["pos"] = {"t": last["t"], **last["pos"]}
        return len(messages)

    # --- the Remote API ------------------------------------------------------------------------
    def call(self, svc: str, raw_params: str, sid: str, host: str) -> tuple[int, dict | list | str, float]:
        """→ (HTTP status, body, seconds to wait before answering)."""
        with self.lock:
            try:
                params = json.loads(raw_params) if raw_params.strip() else {}
            except ValueError:
                params = None
            self.calls.append({"svc": svc, "params": raw_params if params is None else params, "sid": sid})
            fail = self._spend_failure() if svc != "token/login" else "none"
            if fail == "500":
                return 500, SERVER_ERROR, 0
            if fail in FAILURES:
                return 200, dict(FAILURES[fail]), 0
            delay = self.delay if fail == "timeout" else 0
            if params is None:
                return 200, {"error": 4}, delay
            return 200, self._dispatch(svc, params, sid, host), delay

    def _dispatch(self, svc: str, params, sid: str, host: str):
        if svc == "token/login":
            return self._login(params, host)
        if svc not in METHODS:
            return {"error": 2}
        now = time.monotonic()
        last = self.sessions.get(sid)
        if last is None or now - last > self.session_ttl:
            self.sessions.pop(sid, None)
            return {"error": 1}
        self.sessions[sid] = now
        if svc == "core/logout":
            del self.sessions[sid]
            return {"error": 0}
        if svc == "core/batch":
            if not isinstance(params, list):
                return {"error": 4}
            if not all(isinstance(c, dict) for c in params):
                return {"error": 4}
            return [self._dispatch(str(c.get("svc", "")), c.get("params") or {}, sid, host) for c in params]
        if not isinstance(params, dict):
            return {"error": 4}
        try:
            return getattr(self, METHODS[svc])(params)
        except (KeyError, TypeError, ValueError):
            return {"error": 4}

    def _login(self, params, host: str) -> dict:
        token = params.get("token") if isinstance(params, dict) else None
        if not token or not isinstance(token, str) or (self.token is not None and token != self.token):
            return {"error": 8}
        sid = secrets.token_hex(16)
        self.sessions[sid] = time.monotonic()
        self.logins += 1
        user = {"nm": "arenda_api", "cls": 1, "id": 50935, "prp": {"tz": "134228528", "language": "ru"}}
        user |= {"crt": 50930, "bact": 50936, "fl": 6, "hm": "", "uacl": 2097795}
        classes = {"avl_hw": 4, "avl_resource": 3, "avl_retranslator": 7, "avl_route": 6}
        classes |= {"avl_unit": 2, "avl_unit_group": 5, "user": 1}
        return {
            "host": host,
            "eid": sid,
            "gis_sid": secrets.token_hex(16),
            "au": "arenda_api",
            "tm": int(time.time()),
            "user": user,
            "classes": classes,
            "features": {"unlim": 1, "svcs": {}},
        }

    def _item(self, unit: dict, flags: int) -> dict:
        item = {}
        if flags & FLAG_BASE:
            item |= {"nm": unit["nm"], "cls": 2, "id": unit["id"], "mu": 0, "uacl": 880333094911}
        if flags & FLAG_LAST:
            lmsg = unit["messages"][-1] if unit["messages"] else None
            item |= {"pos": dict(unit["pos"]) if unit["pos"] else None, "lmsg": copy.deepcopy(lmsg)}
        if flags & FLAG_COUNTERS:
            item |= {"cfl": 785, "cnm": round(unit["cnm"], 2), "cneh": round(unit["cneh"], 6)}
            item |= {"cnkb": unit["cnkb"]}
        return item

    def _search_items(self, params: dict) -> dict:
        spec = params["spec"]
        flags = int(params.get("flags", FLAG_BASE))
        found = []
        if spec.get("itemsType") == "avl_unit":
            mask = str(spec.get("propValueMask") or "*").lower()
            by_id = spec.get("propName") == "sys_id"
            for unit in sorted(self.units.values(), key=lambda u: u["nm"]):
                if fnmatch.fnmatchcase((str(unit["id"]) if by_id else unit["nm"]).lower(), mask):
                    found.append(unit)
        start, end = int(params.get("from", 0)), int(params.get("to", 0))
        chosen = found[start : (end + 1 if end else None)]
        search_spec = {k: spec.get(k, "") for k in ("itemsType", "propName", "propValueMask", "sortType")}
        return {
            "searchSpec": search_spec | {"propType": spec.get("propType", ""), "or_logic": "0"},
            "dataFlags": flags,
            "totalItemsCount": len(found),
            "indexFrom": start,
            "indexTo": start + len(chosen) - 1 if chosen else 0,
            "items": [self._item(unit, flags) for unit in chosen],
        }

    def _search_item(self, params: dict) -> dict:
        unit = self.units.get(int(params["id"]))
        if unit is None:
            return {"error": 7}
        flags = int(params.get("flags", FLAG_BASE))
        return {"item": self._item(unit, flags), "flags": flags}

    def _calc_last(self, params: dict):
        ids = [int(i) for i in params["itemIds"]]
        if any(i not in self.units for i in ids):
            return {"error": 7}
        answer = []
        for unit in (self.units[i] for i in ids):
            row = {"i": unit["id"], "mileage": _formatted(round(unit["cnm"], 2), "km")}
            row["engine_hours"] = _formatted(round(unit["cneh"], 6), "h")
            if unit["pos"]:
                pos = unit["pos"]
                row["pos"] = {
                    "y": pos["y"],
                    "x": pos["x"],
                    "c": pos["c"],
                    "z": _formatted(float(pos["z"]), "m"),
                }
            answer.append(row)
        return answer

    def _load_interval(self, params: dict) -> dict:
        unit = self.units.get(int(params["itemId"]))
        if unit is None:
            return {"error": 7}
        start, end = int(params["timeFrom"]), int(params["timeTo"])
        flags, mask = int(params.get("flags", 0)), int(params.get("flagsMask", 0))
        count = int(params.get("loadCount", 0xFFFFFFFF))
        if flags & mask & 0xFF00:  # our messages are all data messages (type 0x0000)
            return {"error": 1001}
        messages = [copy.deepcopy(m) for m in unit["messages"] if start <= m["t"] <= end][:count]
        if not messages:
            return {"error": 1001}
        return {"count": len(messages), "messages": messages}

    # --- control -------------------------------------------------------------------------------
    def _control(self, body: dict) -> None:
        if "session_ttl" in body:
            self.session_ttl = float(body["session_ttl"])
        if body.get("expire_sessions"):
            self.sessions.clear()

    def sent(self) -> dict:
        with self.lock:
            units = [
                {k: unit[k] for k in ("id", "nm", "cneh", "cnm", "pos")} | {"messages": len(unit["messages"])}
                for unit in self.units.values()
            ]
            return {"calls": copy.deepcopy(self.calls), "logins": self.logins, "units": units}


METHODS = {
    "core/logout": None,
    "core/batch": None,
    "core/search_items": "_search_items",
    "core/search_item": "_search_item",
    "unit/calc_last": "_calc_last",
    "messages/load_interval": "_load_interval",
}


class _Handler(TrackerHandler):
    server: FakeWialon

    def _api(self, verb: str, parts: SplitResult, raw: str) -> None:
        if parts.path != ENDPOINT:
            return self._answer(404, "<html><body>404 Not Found</body></html>")
        form = dict(parse_qsl(parts.query, keep_blank_values=True))
        if verb == "POST":
            form |= dict(parse_qsl(raw, keep_blank_values=True))
        status, body, delay = self.server.call(
            form.get("svc", ""), form.get("params", ""), form.get("sid", ""), self.client_address[0]
        )
        self._answer(status, body, delay)


FakeWialon.handler_class = _Handler
