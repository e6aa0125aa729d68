"""The ISO 15143-3 (AEMP 2.0) adapter against the fake: units with their counters, a trip's
three series merged into one track and what it sums to, paging, Bearer and Basic
authentication, the provider's errors sorted into retry and final."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from arenda.integrations.telematics.aemp import AempProvider
from arenda.integrations.telematics.base import TelematicsError
from arenda.integrations.telematics.evidence import summarize
from arenda.integrations.telematics.fake_aemp import PASSWORD, TOKEN, USERNAME, FakeAemp

START = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)
SITE = (55.8123, 37.4987)
CRANE = "AEMP-1001"


@pytest.fixture
def fake():
    server = FakeAemp("127.0.0.1", 0)
    server.start()
    yield server
    server.stop()


def provider(fake, timeout=2, **credentials):
    return AempProvider(url=fake.url, timeout=timeout, **(credentials or {"token": TOKEN}))


def control(fake, **body):
    httpx.post(f"{fake.url}/_control", json=body, timeout=5).raise_for_status()


def calls(fake) -> list[dict]:
    return httpx.get(f"{fake.url}/_sent", timeout=5).json()["calls"]


def test_units_come_with_their_counters(fake):
    units = {unit.unit_id: unit for unit in provider(fake).units()}
    assert set(units) == {"AEMP-1001", "AEMP-1002", "AEMP-1003"}
    crane = units[CRANE]
    assert crane.name.startswith("Liebherr LTM 1030-2.1 ") and crane.name == crane.name.strip()
    assert crane.last.engine_hours == 3210.5 and crane.last.odometer_km == 45120.0
    assert (crane.last.lat, crane.last.lon) == (55.7512, 37.6184)
    assert crane.last.at == datetime(2024, 11, 30, 18, tzinfo=UTC)
    assert crane.last.ignition is None and crane.last.speed_kmh is None

    fake.add_trip(CRANE, START, drive_to_minutes=30, work_hours=2, drive_back_minutes=30, site=SITE)
    crane = provider(fake).snapshot(CRANE)
    assert crane.unit_id == CRANE and crane.last.at == START + timedelta(hours=3)
    assert crane.last.engine_hours == pytest.approx(3210.5 + 3)
    assert crane.last.odometer_km == pytest.approx(45120.0 + 40)
    assert crane.last.lat == pytest.approx(55.7512, abs=0.01)


def test_an_unknown_unit_is_final(fake):
    with pytest.raises(TelematicsError) as caught:
        provider(fake).snapshot("NOPE-1")
    assert caught.value.retry is False and "NOPE-1" in caught.value.message
    with pytest.raises(TelematicsError) as caught:
        provider(fake).track("NOPE-1", START, START + timedelta(hours=1))
    assert caught.value.retry is False and "does not know" in caught.value.message


def test_a_trip_merges_three_series_and_sums_to_its_engine_hours_and_time_on_site(fake):
    added = fake.add_trip(CRANE, START, drive_to_minutes=45, work_hours=9.5, drive_back_minutes=45, site=SITE)
    track = provider(fake).track(CRANE, START - timedelta(hours=1), START + timedelta(hours=13))
    assert len(track) == added > 100  # one sample a time, over three pages of each series
    assert [s.at for s in track] == sorted({s.at for s in track})
    assert track[0].at == START and track[-1].at == START + timedelta(hours=11)
    assert all(s.engine_hours is not None and s.lat is not None and s.odometer_km is not None for s in track)
    assert all(s.ignition is None and s.speed_kmh is None for s in track)
    evidence = summarize(track, site=SITE, radius_m=300)
    assert evidence.engine_hours == pytest.approx(11.0, abs=0.01)
    assert evidence.hours_on_site == pytest.approx(9.5, abs=0.1)
    assert evidence.distance_km == pytest.approx(40 * 1.5, abs=0.01)

    paths = [call["path"] for call in calls(fake)]
    for element in ("CumulativeOperatingHours", "Locations", "Distance"):
        pages = [p for p in paths if f"/{CRANE}/{element}/" in p]
        assert (
            pages[0] == f"/Fleet/Equipment/ID/{CRANE}/{element}/2026-12-04T04:00:00Z/2026-12-04T18:00:00Z/1"
        )
        assert [p.rsplit("/", 1)[1] for p in pages] == ["1", "2", "3"]

    assert provider(fake).track(CRANE, START - timedelta(days=3), START - timedelta(days=2)) == []
    assert provider(fake).track(CRANE, START, START - timedelta(hours=1)) == []


def test_a_window_cuts_the_track_and_a_sample_has_what_its_time_has(fake):
    fake.add_trip(CRANE, START, drive_to_minutes=7, work_hours=0.5, drive_back_minutes=0, site=SITE)
    track = provider(fake).track(CRANE, START + timedelta(minutes=5), START + timedelta(minutes=7))
    assert [s.at for s in track] == [START + timedelta(minutes=5), START + timedelta(minutes=7)]
    assert track[-1].engine_hours == pytest.approx(3210.5 + 7 / 60)
    assert track[-1].odometer_km == pytest.approx(45120.0 + 40 * 7 / 60)


def test_the_fleet_is_read_over_its_pages(fake):
    units = [
        {"id": f"AEMP-{n:04d}", "oem": "Volvo", "model": "EW160E", "serial": f"V{n}", "hours": n}
        for n in range(1, 124)
    ]
    many = FakeAemp("127.0.0.1", 0, units=units)
    many.start()
    try:
        found = provider(many).units()
        assert len(found) == 123 and found[0].unit_id == "AEMP-0001" and found[0].name == "Volvo EW160E V1"
        assert [call["path"] for call in calls(many)] == ["/Fleet/1", "/Fleet/2", "/Fleet/3"]
    finally:
        many.stop()


def test_bearer_and_basic_authentication(fake):
    provider(fake).units()
    provider(fake, username=USERNAME, password=PASSWORD).snapshot(CRANE)
    assert [call["auth"] for call in calls(fake)] == [f"Bearer {TOKEN}", f"Basic {USERNAME}"]


@pytest.mark.parametrize(
    "credentials", [{"token": "wrong"}, {"username": USERNAME, "password": "wrong"}, {"token": ""}]
)
def test_refused_credentials_are_final(fake, credentials):
    with pytest.raises(TelematicsError) as caught:
        provider(fake, **credentials).units()
    assert caught.value.retry is False and "credentials" in caught.value.message


@pytest.mark.parametrize("failure", ["500", "429"])
def test_aemp_failures_are_retried_later(fake, failure):
    control(fake, fail=failure, times=1)
    with pytest.raises(TelematicsError) as caught:
        provider(fake).units()
    assert caught.value.retry is True
    assert "AEMP" in caught.value.message and failure in caught.value.message
    assert provider(fake).units()  # the next time it answers


def test_a_failure_in_the_middle_of_a_track_is_a_retry(fake):
    fake.add_trip(CRANE, START, drive_to_minutes=45, work_hours=9.5, drive_back_minutes=45, site=SITE)
    aemp = provider(fake)
    window = (START, START + timedelta(hours=12))
    complete = aemp.track(CRANE, *window)
    control(fake, fail="500", times=1)
    with pytest.raises(TelematicsError) as caught:
        aemp.track(CRANE, *window)
    assert caught.value.retry is True
    assert aemp.track(CRANE, *window) == complete


def test_a_slow_aemp_is_a_retry(fake):
    control(fake, fail="timeout", times=1, delay=2)
    with pytest.raises(TelematicsError) as caught:
        provider(fake, timeout=0.5).units()
    assert caught.value.retry is True and "AEMP" in caught.value.message


def test_an_odometer_in_miles_is_converted_and_a_missing_one_stays_missing():
    units = [
        {"id": "US-1", "oem": "Caterpillar", "model": "950M", "serial": "EJB01234", "hours": 100.0}
        | {"odometer": 1000.0, "odometer_units": "mile"},
        {"oem": "Komatsu", "model": "PC210LC-11", "serial": "K60412", "hours": 50.0, "odometer": None},
        {"id": "NEW-1", "oem": "Hitachi", "model": "ZX135US-7", "serial": "HCM1", "at": None},
    ]
    fake = FakeAemp("127.0.0.1", 0, units=units)
    fake.start()
    try:
        aemp = provider(fake)
        found = {unit.unit_id: unit for unit in aemp.units()}
        assert found["US-1"].last.odometer_km == pytest.approx(1609.344)
        assert found["K60412"].last.odometer_km is None and found["K60412"].last.engine_hours == 50.0
        assert found["K60412"].name == "Komatsu PC210LC-11 K60412"
        assert found["NEW-1"].last is None  # nothing reported yet

        fake.add_trip("US-1", START, drive_to_minutes=30, work_hours=1, drive_back_minutes=30, site=SITE)
        track = aemp.track("US-1", START, START + timedelta(hours=3))
        assert track[0].odometer_km == pytest.approx(1609.344)
        assert track[-1].odometer_km - track[0].odometer_km == pytest.approx(40, abs=0.001)

        fake.add_trip("K60412", START, drive_to_minutes=30, work_hours=1, drive_back_minutes=30, site=SITE)
        track = aemp.track("K60412", START, START + timedelta(hours=3))
        assert track and all(s.odometer_km is None and s.engine_hours is not None for s in track)
        assert summarize(track).distance_km > 0  # from the positions
    finally:
        fake.stop()


def test_the_variations_providers_answer_with(monkeypatch):
    """Keys in another case, the body in a list, numbers as text, times without a zone,
    relative links, a ``next`` that loops back or leaves the server, an answer not JSON."""
    pages = {
        "/api/Fleet/1": [
            {
                "equipment": [
                    {
                        "equipmentHeader": {"oemName": "Bobcat", "model": "S770", "serialNumber": "B3BU11"},
                        "cumulativeOperatingHours": {"hour": "812.40", "datetime": "2025-03-01T10:00:00"},
                        "distance": {"odometerUnits": "KILOMETRE", "odometer": 15.5, "datetime": "bad"},
                    }
                ],
                "links": [{"rel": "next", "href": "/Fleet/2"}],
            }
        ],
        "/api/Fleet/2": {
            "Equipment": [{"EquipmentHeader": {"EquipmentID": "X-2", "OEMName": "Bobcat", "Model": "E35z"}}],
            "Links": [{"rel": "next", "href": "/Fleet/1"}],  # loops back: the end
        },
        "/api/Fleet/Equipment/ID/B3BU11/Locations/2025-03-01T00:00:00Z/2025-03-02T00:00:00Z/1": {
            "Location": [{"datetime": "2025-03-01T10:00:00Z", "Latitude": "55.1", "Longitude": "37.2"}],
            "Links": [{"rel": "next", "href": "https://elsewhere.example/steal"}],
        },
        "/api/Fleet/Equipment/ID/B3BU11/Distance/2025-03-01T00:00:00Z/2025-03-02T00:00:00Z/1": [],
    }
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.endswith("/CumulativeOperatingHours/2025-03-01T00:00:00Z/2025-03-02T00:00:00Z/1"):
            return httpx.Response(204)
        if request.url.path == "/api/Fleet/Equipment/ID/BROKEN":
            return httpx.Response(200, text="<html>maintenance</html>")
        if request.url.path in pages:
            return httpx.Response(200, json=pages[request.url.path])
        return httpx.Response(404)

    monkeypatch.setattr(
        AempProvider, "_client", lambda self: httpx.Client(transport=httpx.MockTransport(answer))
    )
    aemp = AempProvider(url="https://oem.example/api/", token="t")
    units = aemp.units()
    assert [(u.unit_id, u.name) for u in units] == [("B3BU11", "Bobcat S770 B3BU11"), ("X-2", "Bobcat E35z")]
    assert units[0].last.at == datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert units[0].last.engine_hours == 812.4 and units[0].last.odometer_km == 15.5
    assert units[1].last is None
    assert seen == ["/api/Fleet/1", "/api/Fleet/2"]

    day = datetime(2025, 3, 1, tzinfo=UTC)
    track = aemp.track("B3BU11", day, day + timedelta(days=1))
    assert [(s.at.hour, s.lat, s.lon, s.engine_hours) for s in track] == [(10, 55.1, 37.2, None)]
    assert not any("steal" in path for path in seen)

    with pytest.raises(TelematicsError) as caught:
        aemp.snapshot("BROKEN")
    assert caught.value.retry is True and "not JSON" in caught.value.message
