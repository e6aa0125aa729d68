"""What a track says of a trip (pure arithmetic over ``Sample``s, no provider, no database):
the engine hours and the distance (the counters' growth over the window), the first and
last movement, the time with the engine on, and the time spent within a radius of the site.
A figure the track cannot give is None — shown as missing, never as zero."""

import itertools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from arenda.integrations.telematics.base import Sample

EARTH_RADIUS_M = 6_371_000
MOVING_KMH = 3  # slower is standing (GPS jitter)
JITTER_M = 50  # a position that moved less between two messages stood still


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points, metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class Evidence:
    samples: int
    engine_hours: float | None  # the counter's growth
    distance_km: float | None  # the odometer's growth, else the track's length
    first_movement: datetime | None
    last_movement: datetime | None
    ignition_hours: float | None  # time between messages with the ignition on
    hours_on_site: float | None  # time between messages within the radius of the site


def _within(sample: Sample, site: tuple[float, float], radius_m: float) -> bool:
    return (
        sample.lat is not None
        and sample.lon is not None
        and distance_m((sample.lat, sample.lon), site) <= radius_m
    )


def _moving(samples: list[Sample]) -> list[datetime]:
    """When the unit moved: by the speed a tracker reports, else (ISO 15143-3 gives
    positions only) by positions that moved faster than walking and beyond the jitter."""
    if any(s.speed_kmh is not None for s in samples):
        return [s.at for s in samples if s.speed_kmh is not None and s.speed_kmh >= MOVING_KMH]
    placed = [s for s in samples if s.lat is not None and s.lon is not None]
    moving = []
    for before, after in itertools.pairwise(placed):
        seconds = (after.at - before.at).total_seconds()
        metres = distance_m((before.lat, before.lon), (after.lat, after.lon))
        if seconds > 0 and metres > JITTER_M and metres / seconds * 3.6 >= MOVING_KMH:
            moving.extend(at for at in (before.at, after.at) if not moving or moving[-1] != at)
    return moving


def _growth(values: list[float]) -> float | None:
    return round(max(values[-1] - values[0], 0.0), 2) if len(values) >= 2 else None


def summarize(
    samples: list[Sample], *, site: tuple[float, float] | None = None, radius_m: float = 300
) -> Evidence:
    samples = sorted(samples, key=lambda sample: sample.at)
    hours = [s.engine_hours for s in samples if s.engine_hours is not None]
    odometer = [s.odometer_km for s in samples if s.odometer_km is not None]
    positions = [(s.lat, s.lon) for s in samples if s.lat is not None and s.lon is not None]
    distance = _growth(odometer)
    if distance is None and len(positions) >= 2:
        distance = round(sum(distance_m(a, b) for a, b in itertools.pairwise(positions)) / 1000, 2)
    moving = _moving(samples)
    ignition = on_site = timedelta()
    known_ignition = any(s.ignition is not None for s in samples)
    for this, following in itertools.pairwise(samples):
        step = following.at - this.at
        if this.ignition:
            ignition += step
        if site is not None and _within(this, site, radius_m) and _within(following, site, radius_m):
            on_site += step  # both ends on site: the time between them was spent there
    return Evidence(
        samples=len(samples),
        engine_hours=_growth(hours),
        distance_km=distance,
        first_movement=moving[0] if moving else None,
        last_movement=moving[-1] if moving else None,
        ignition_hours=round(ignition.total_seconds() / 3600, 2)
        if known_ignition and len(samples) >= 2
        else None,
        hours_on_site=round(on_site.total_seconds() / 3600, 2) if site is not None and positions else None,
    )
