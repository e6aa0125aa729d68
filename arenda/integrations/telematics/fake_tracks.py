"""What the fake trackers (``fake_wialon.py``, ``fake_aemp.py``) share: a trip's points
(from the base to the site at 40 km/h, a jitter of a few metres on the site, back again),
``add_trip`` and its ``POST /_trip`` form, the failures ``POST /_control`` orders for the
next API calls, and a request handler that answers the control endpoints (``/_control``,
``/_trip``, ``/_sent``, ``/_reset``) and leaves the rest to the fake's API."""

import json
import math
from datetime import UTC, datetime
from urllib.parse import SplitResult, urlsplit

from arenda.integrations.messaging.fake_server import FakeServer, JsonHandler

MOSCOW = (55.7512, 37.6184)
SPEED_KMH = 40
SERVER_ERROR = "<html><body><h1>500 Internal Server Error</h1></body></html>"


def _between(a: tuple, b: tuple, share: float) -> tuple:
    return a[0] + (b[0] - a[0]) * share, a[1] + (b[1] - a[1]) * share


def trip_points(b0: int, b1: int, b2: int, b3: int, step: int, site: tuple, base: tuple):
    """A trip's (time, (lat, lon), seconds driven so far), from the base (at ``b0``) to the
    site (``b1``), on it until ``b2`` (a jitter of a few metres), back at the base at
    ``b3``: every ``step`` seconds and at those four times."""
    times = sorted(set(range(b0, b3 + 1, step)) | {b1, b2, b3})
    for n, t in enumerate(times):
        driven = (min(t, b1) - b0) + max(0, min(t, b3) - b2)
        if t == b3 and b3 > b2:
            point = base
        elif t < b1:
            point = _between(base, site, (t - b0) / (b1 - b0))
        elif t <= b2:
            point = (site[0] + 0.00006 * math.sin(n * 1.7), site[1] + 0.00006 * math.cos(n * 2.3))
        else:
            point = _between(site, base, (t - b2) / (b3 - b2))
        yield t, point, driven


class TrackerFake(FakeServer):
    """A fake tracker's server. ``self.units`` maps ``unit_key(id)`` to a unit with a
    ``base`` and a time-ordered list ``unit[track]`` of dicts with ``t`` (epoch seconds);
    ``reset`` also sets what ``/_control`` changes: ``fail`` ("none"), ``fail_times`` (0)
    and ``delay`` (seconds)."""

    unit_key: type  # how ``add_trip`` and ``/_trip`` spell a unit's id in ``self.units``
    track: str  # the unit's list a trip extends ("messages", "records")

    # --- tracks --------------------------------------------------------------------------------
    def add_trip(
        self,
        unit_id: int | str,
        start: datetime,
        *,
        drive_to_minutes: float,
        work_hours: float,
        drive_back_minutes: float,
        site: tuple,
        base: tuple | None = None,
        step_minutes: float = 5,
    ) -> int:
        """Append one working trip to the unit's track (Wialon's messages; AEMP's times, each
        with a record in every series); → how many were added. Trips go in time order
        (ValueError otherwise); KeyError for an unknown unit."""
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        if min(drive_to_minutes, work_hours, drive_back_minutes) < 0 or step_minutes <= 0:
            raise ValueError("durations must be >= 0 and step_minutes > 0")
        with self.lock:
            unit = self.units[self.unit_key(unit_id)]
            site, base = tuple(site), tuple(base or unit["base"])
            b0 = int(start.timestamp())
            b1 = b0 + round(drive_to_minutes * 60)
            b2 = b1 + round(work_hours * 3600)
            b3 = b2 + round(drive_back_minutes * 60)
            if unit[self.track] and b0 <= unit[self.track][-1]["t"]:
                raise ValueError(f"a trip must start after the unit's last {self.track.removesuffix('s')}")
            step = max(1, round(step_minutes * 60))
            points = trip_points(b0, b1, b2, b3, step, site, base)
            return self._add_track(unit, (b0, b1, b2, b3), points, site, base)

    def _add_track(self, unit: dict, bounds: tuple, points, site: tuple, base: tuple) -> int:
        """Under the lock: append the trip's ``points`` (from ``trip_points``; ``bounds`` are
        its b0…b3) to ``unit[track]``, move the unit's counters to the end; → how many."""
        raise NotImplementedError

    @staticmethod
    def _trip_start(text: str) -> datetime:
        return datetime.fromisoformat(text)

    def trip(self, body: dict) -> tuple[int, dict]:
        """``POST /_trip``: ``add_trip`` from a JSON object → (HTTP status, answer)."""
        try:
            start = self._trip_start(str(body["start"]))
            start = start if start.tzinfo else start.replace(tzinfo=UTC)
            added = self.add_trip(
                self.unit_key(body["unit_id"]),
                start,
                drive_to_minutes=float(body.get("drive_to_minutes", 0)),
                work_hours=float(body.get("work_hours", 0)),
                drive_back_minutes=float(body.get("drive_back_minutes", 0)),
                site=tuple(float(v) for v in body["site"]),
                base=tuple(float(v) for v in body["base"]) if body.get("base") else None,
                step_minutes=float(body.get("step_minutes", 5)),
            )
        except KeyError as exc:
            return 400, {"ok": False, "detail": f"missing or unknown: {exc}"}
        except (TypeError, ValueError) as exc:
            return 400, {"ok": False, "detail": str(exc)}
        return 200, {"ok": True, "messages": added}

    # --- control -------------------------------------------------------------------------------
    def control(self, body: dict) -> dict:
        with self.lock:
            if "fail" in body:
                self.fail = str(body["fail"])
                self.fail_times = int(body.get("times", 1))
            if "delay" in body:
                self.delay = float(body["delay"])
            self._control(body)
        return {"ok": True}

    def _control(self, body: dict) -> None:
        """Under the lock: the fake's own ``/_control`` settings."""

    def _spend_failure(self) -> str:
        """Under the lock: the failure the next API call gets (``"none"`` when none is left
        of those ``/_control`` ordered), counted off."""
        if self.fail_times <= 0 or self.fail == "none":
            return "none"
        self.fail_times -= 1
        return self.fail

    def sent(self) -> dict:
        raise NotImplementedError


class TrackerHandler(JsonHandler):
    """Answers ``/_control``, ``/_trip`` (a JSON object, else 400), ``/_sent`` and
    ``/_reset`` with any verb; every other request goes to ``_api``."""

    server: TrackerFake

    def _route(self, verb: str) -> None:
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8", "replace")
        fake = self.server
        if parts.path in ("/_control", "/_trip"):
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                body = None
            if not isinstance(body, dict):
                return self._answer(400, {"ok": False, "detail": "the body must be a JSON object"})
            if parts.path == "/_control":
                return self._answer(200, fake.control(body))
            return self._answer(*fake.trip(body))
        if parts.path == "/_sent":
            return self._answer(200, fake.sent())
        if parts.path == "/_reset":
            fake.reset()
            return self._answer(200, {"ok": True})
        return self._api(verb, parts, raw)

    def _api(self, verb: str, parts: SplitResult, raw: str) -> None:
        """Answer a call of the fake's API (``raw``: the request body)."""
        raise NotImplementedError
