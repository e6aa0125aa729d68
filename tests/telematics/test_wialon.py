"""The Wialon adapter against the fake: units with their counters, a trip's track and what
it sums to, the session kept and renewed, Wialon's errors sorted into retry and final."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.core.cache import cache

from arenda.integrations.telematics.base import TelematicsError
from arenda.integrations.telematics.evidence import summarize
from arenda.integrations.telematics.fake_wialon import FakeWialon
from arenda.integrations.telematics.wialon import WialonProvider

START = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)
SITE = (55.8123, 37.4987)
CRANE = "734455"


@pytest.fixture
def fake():
    cache.clear()
    server = FakeWialon("127.0.0.1", 0)
    server.start()
    yield server
    server.stop()
    cache.clear()


def provider(fake, token="wialon-test-token", timeout=2):
    return WialonProvider(url=fake.url, token=token, timeout=timeout)


def control(fake, **body):
    httpx.post(f"{fake.url}/_control", json=body, timeout=5).raise_for_status()


def logins(fake) -> int:
    return httpx.get(f"{fake.url}/_sent", timeout=5).json()["logins"]


def test_units_come_with_their_counters(fake):
    units = {unit.unit_id: unit for unit in provider(fake).units()}
    assert set(units) == {"734455", "734456", "734457"}
    fake.add_trip(734455, START, drive_to_minutes=30, work_hours=2, drive_back_minutes=30, site=SITE)
    crane = provider(fake).snapshot(CRANE)
    assert crane.last.engine_hours == pytest.approx(5123.4 + 3)
    assert crane.last.odometer_km > 84210.5 and crane.last.lat == pytest.approx(55.7512, abs=0.01)


def test_a_trip_sums_to_its_engine_hours_and_its_time_on_site(fake):
    fake.add_trip(734455, START, drive_to_minutes=45, work_hours=9.5, drive_back_minutes=45, site=SITE)
    track = provider(fake).track(CRANE, START - timedelta(hours=1), START + timedelta(hours=13))
    evidence = summarize(track, site=SITE, radius_m=300)
    assert evidence.engine_hours == pytest.approx(11.0, abs=0.01)
    assert evidence.hours_on_site == pytest.approx(9.5, abs=0.1)
    assert evidence.distance_km > 0 and evidence.first_movement >= START
    assert provider(fake).track(CRANE, START - timedelta(days=3), START - timedelta(days=2)) == []


def test_the_session_is_kept_and_renewed(fake):
    wialon = provider(fake)
    wialon.units()
    wialon.snapshot(CRANE)
    assert logins(fake) == 1
    control(fake, expire_sessions=True)
    wialon.snapshot(CRANE)  # error 1 → a new login, transparently
    assert logins(fake) == 2


@pytest.mark.parametrize(("failure", "retry"), [("500", True), ("error5", True), ("error1003", True)])
def test_wialon_failures_are_retried_later(fake, failure, retry):
    control(fake, fail=failure, times=1)
    with pytest.raises(TelematicsError) as caught:
        provider(fake).units()
    assert caught.value.retry is retry
    assert provider(fake).units()  # the next time it answers


def test_a_slow_wialon_is_a_retry(fake):
    control(fake, fail="timeout", times=1, delay=2)
    with pytest.raises(TelematicsError) as caught:
        provider(fake, timeout=0.5).units()
    assert caught.value.retry is True


def test_a_bad_token_or_an_unknown_unit_is_final(fake):
    with pytest.raises(TelematicsError) as caught:
        provider(fake, token="wrong").units()
    assert caught.value.retry is False
    with pytest.raises(TelematicsError) as caught:
        provider(fake).snapshot("999")
    assert caught.value.retry is False
    with pytest.raises(TelematicsError):
        provider(fake).track("not-a-number", START, START + timedelta(hours=1))
