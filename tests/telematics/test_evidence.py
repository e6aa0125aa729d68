"""The arithmetic of a trip's evidence: counters' growth, movement, ignition and the time on
site; what the track cannot tell is None, not zero."""

from datetime import UTC, datetime, timedelta

from arenda.integrations.telematics.base import Sample
from arenda.integrations.telematics.evidence import distance_m, summarize

START = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)
SITE = (55.8, 37.5)
BASE = (55.75, 37.62)


def sample(minutes, at, *, speed=0.0, ign=True, hours=None, km=None):
    return Sample(
        at=START + timedelta(minutes=minutes),
        lat=at[0],
        lon=at[1],
        speed_kmh=speed,
        ignition=ign,
        engine_hours=hours,
        odometer_km=km,
    )


def test_a_day_on_site_is_summed_from_the_counters_and_the_positions():
    track = [
        sample(0, BASE, speed=40, hours=100.0, km=1000.0),
        sample(30, SITE, hours=100.5, km=1012.0),
        *[sample(30 + 60 * h, SITE, hours=100.5 + h, km=1012.0) for h in range(1, 10)],
        sample(600, SITE, speed=35, hours=109.5, km=1012.0),
        sample(630, BASE, ign=False, hours=110.0, km=1024.0),
    ]
    evidence = summarize(track, site=SITE, radius_m=300)
    assert evidence.engine_hours == 10.0 and evidence.distance_km == 24.0
    assert evidence.first_movement == START and evidence.last_movement == START + timedelta(minutes=600)
    assert evidence.hours_on_site == 9.5  # from arriving (0:30) to leaving (10:00)
    assert evidence.ignition_hours == 10.5


def test_missing_figures_are_none_not_zero():
    evidence = summarize([Sample(at=START)])
    assert evidence.engine_hours is None and evidence.distance_km is None
    assert evidence.ignition_hours is None and evidence.hours_on_site is None
    assert evidence.first_movement is None and evidence.samples == 1
    assert summarize([]).samples == 0


def test_without_an_odometer_the_track_length_is_the_distance():
    track = [sample(0, BASE, speed=40), sample(30, SITE, speed=40)]
    evidence = summarize(track)
    assert evidence.distance_km == round(distance_m(BASE, SITE) / 1000, 2)
    assert 9 < evidence.distance_km < 10
