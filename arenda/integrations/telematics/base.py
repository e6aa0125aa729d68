"""The one small interface every telematics provider implements (Wialon, ISO 15143-3):
what a tracker says of a unit — its last position and counters, and its track over an
interval — in one shape the trips' evidence is computed from.

Counters are cumulative (engine hours since the machine was built, the odometer): the work
in an interval is the difference between its last and first samples. A value a provider
does not give is None — missing, never zero.
"""

from dataclasses import dataclass
from datetime import datetime


class TelematicsError(Exception):
    """The provider could not answer. ``retry``: worth asking again later (down, slow,
    busy); otherwise the request itself is wrong (a bad token, an unknown unit)."""

    def __init__(self, message: str, *, retry: bool):
        super().__init__(message)
        self.message, self.retry = message, retry


@dataclass(frozen=True)
class Sample:
    """One message of the tracker."""

    at: datetime
    lat: float | None = None
    lon: float | None = None
    speed_kmh: float | None = None
    ignition: bool | None = None
    engine_hours: float | None = None  # the counter, cumulative
    odometer_km: float | None = None  # cumulative


@dataclass(frozen=True)
class Snapshot:
    """The unit now: its last known position and counters."""

    unit_id: str
    name: str
    last: Sample | None


class Provider:
    name: str

    def units(self) -> list[Snapshot]:
        """Every unit the account sees, with its last position and counters."""
        raise NotImplementedError

    def snapshot(self, unit_id: str) -> Snapshot:
        """One unit now (``TelematicsError`` when unknown)."""
        raise NotImplementedError

    def track(self, unit_id: str, start: datetime, end: datetime) -> list[Sample]:
        """The unit's messages within ``[start, end]``, oldest first; [] when there are none."""
        raise NotImplementedError
