"""The fake ISO 15143-3 (AEMP 2.0) API (``arenda/integrations/telematics/fake_aemp.py``): no
database."""

import math
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from arenda.integrations.telematics.fake_aemp import PASSWORD, TOKEN, USERNAME, FakeAemp

CRANE = "AEMP-1001"
SITE = (55.8304, 37.4512)
BASE = (55.7512, 37.6184)
START = datetime(2024, 12, 2, 8, 0, tzinfo=UTC)
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def fake():
    server = FakeAemp("127.0.0.1", 0)
    server.start()
    yield server
    server.stop()


def get(fake, path, headers=BEARER, timeout=5.0, **kw):
    return httpx.get(f"{fake.url}{path}", headers=headers, timeout=timeout, **kw)


def series(fake, unit, element, start, end, page=1):
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return get(
        fake, f"/Fleet/Equipment/ID/{unit}/{element}/{start.strftime(stamp)}/{end.strftime(stamp)}/{page}"
    )


def control(fake, **body):
    assert httpx.post(f"{fake.url}/_control", json=body).json() == {"ok": True}


def metres(a, b) -> float:
    dy = (a[0] - b[0]) * 111_320
    dx = (a[1] - b[1]) * 111_320 * math.cos(math.radians(a[0]))
    return math.hypot(dx, dy)


def link(body, rel):
    return next((item["href"] for item in body["Links"] if item["rel"] == rel), None)


def test_bearer_basic_and_no_credentials(fake):
    assert get(fake, "/Fleet/1").status_code == 200
    assert get(fake, "/Fleet/1", auth=(USERNAME, PASSWORD), headers={}).status_code == 200
    assert get(fake, "/Fleet/1", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert get(fake, "/Fleet/1", auth=(USERNAME, "wrong"), headers={}).status_code == 401
    assert get(fake, "/Fleet/1", headers={}).status_code == 401
    calls = httpx.get(f"{fake.url}/_sent").json()["calls"]
    assert [call["auth"] for call in calls] == [
        f"Bearer {TOKEN}",
        f"Basic {USERNAME}",
        "Bearer wrong",
        f"Basic {USERNAME}",
        "",
    ]
    assert calls[0]["path"] == "/Fleet/1"

    anyone = FakeAemp("127.0.0.1", 0, token=None, username=None)
    anyone.start()
    try:
        assert get(anyone, "/Fleet/1", headers={"Authorization": "Bearer whatever"}).status_code == 200
        assert get(anyone, "/Fleet/1", headers={"Authorization": "Bearer"}).status_code == 401
        assert get(anyone, "/Fleet/1", auth=(USERNAME, PASSWORD), headers={}).status_code == 401
    finally:
        anyone.stop()


def test_the_fleet_snapshot_and_one_unit(fake):
    body = get(fake, "/Fleet/1").json()
    assert body["Version"] and body["SnapshotTime"].endswith("Z")
    assert link(body, "self").endswith("/Fleet/1") and link(body, "next") is None
    assert link(body, "last").endswith("/Fleet/1")
    crane = next(item for item in body["Equipment"] if item["EquipmentHeader"]["EquipmentID"] == CRANE)
    header = crane["EquipmentHeader"]
    assert (header["OEMName"], header["Model"]) == ("Liebherr", "LTM 1030-2.1") and header["SerialNumber"]
    assert crane["CumulativeOperatingHours"]["Hour"] == 3210.5
    assert crane["Distance"] == {
        "datetime": "2024-11-30T18:00:00Z",
        "OdometerUnits": "kilometre",
        "Odometer": 45120.0,
    }
    assert (crane["Location"]["Latitude"], crane["Location"]["Longitude"]) == BASE
    assert {item["EquipmentHeader"]["EquipmentID"] for item in body["Equipment"]} == {
        "AEMP-1001",
        "AEMP-1002",
        "AEMP-1003",
    }

    one = get(fake, f"/Fleet/Equipment/ID/{CRANE}").json()
    assert one["EquipmentHeader"] == header and one["CumulativeOperatingHours"]["Hour"] == 3210.5
    assert get(fake, "/Fleet/Equipment/ID/NOPE-1").status_code == 404
    assert get(fake, "/Fleet/0").status_code == 400
    assert get(fake, "/Nothing/here").status_code == 404


def test_fleet_pages(fake):
    control(fake, page_size=2)
    first = get(fake, "/Fleet/1").json()
    assert len(first["Equipment"]) == 2 and link(first, "next").endswith("/Fleet/2")
    second = httpx.get(link(first, "next"), headers=BEARER).json()
    assert len(second["Equipment"]) == 1 and link(second, "next") is None
    assert link(second, "prev").endswith("/Fleet/1")
    assert get(fake, "/Fleet/3").json()["Equipment"] == []


def test_trip_series_and_counters(fake):
    added = fake.add_trip(CRANE, START, drive_to_minutes=40, work_hours=6.5, drive_back_minutes=35, site=SITE)
    day_start, day_end = START - timedelta(hours=1), START + timedelta(hours=23)
    records = {}
    for element, key in (("CumulativeOperatingHours", "CumulativeOperatingHours"), ("Locations", "Location")):
        page, found = 1, []
        while True:
            body = series(fake, CRANE, element, day_start, day_end, page).json()
            assert body["EquipmentHeader"]["EquipmentID"] == CRANE
            found.extend(body[key])
            if link(body, "next") is None:
                break
            page += 1
        assert page == math.ceil(added / 50) > 1  # 50 records a page
        records[element] = found
    hours, places = records["CumulativeOperatingHours"], records["Locations"]
    assert len(hours) == len(places) == added
    end = START + timedelta(minutes=40 + 35, hours=6.5)
    assert hours[0]["datetime"] == "2024-12-02T08:00:00Z" and hours[-1]["datetime"] == end.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert hours[0]["Hour"] == 3210.5
    assert hours[-1]["Hour"] - hours[0]["Hour"] == pytest.approx(6.5 + 75 / 60)
    assert [h["datetime"] for h in hours] == sorted({h["datetime"] for h in hours})

    distance = series(fake, CRANE, "Distance", day_start, day_end).json()["Distance"]
    assert distance[0]["Odometer"] == 45120.0 and distance[0]["OdometerUnits"] == "kilometre"
    last_page = math.ceil(added / 50)
    last = series(fake, CRANE, "Distance", day_start, day_end, last_page).json()["Distance"][-1]
    assert last["Odometer"] - distance[0]["Odometer"] == pytest.approx(40 * 75 / 60)

    first_point = (places[0]["Latitude"], places[0]["Longitude"])
    assert (
        metres(first_point, BASE) < 1 and metres((places[-1]["Latitude"], places[-1]["Longitude"]), BASE) < 1
    )
    arrive = (START + timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    leave = (START + timedelta(minutes=40, hours=6.5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    on_site = [p for p in places if arrive <= p["datetime"] <= leave]
    assert len(on_site) > 70
    assert all(metres((p["Latitude"], p["Longitude"]), SITE) <= 20 for p in on_site)

    crane = get(fake, f"/Fleet/Equipment/ID/{CRANE}").json()
    assert crane["CumulativeOperatingHours"] == hours[-1]
    assert crane["Distance"]["Odometer"] == last["Odometer"]
    assert crane["Location"]["datetime"] == hours[-1]["datetime"]

    # nothing random: the same trip on another fake gives the same records
    other = FakeAemp("127.0.0.1", 0)
    try:
        other.add_trip(CRANE, START, drive_to_minutes=40, work_hours=6.5, drive_back_minutes=35, site=SITE)
        assert other.units[CRANE]["records"] == fake.units[CRANE]["records"]
    finally:
        other.server_close()
    with pytest.raises(ValueError):  # trips go in time order
        fake.add_trip(CRANE, START, drive_to_minutes=1, work_hours=1, drive_back_minutes=1, site=SITE)
    with pytest.raises(KeyError):
        fake.add_trip("NOPE", START, drive_to_minutes=1, work_hours=1, drive_back_minutes=1, site=SITE)


def test_series_errors_and_empty_intervals(fake):
    stamp = "2024-12-02T08:00:00Z"
    assert get(fake, f"/Fleet/Equipment/ID/NOPE/Locations/{stamp}/{stamp}/1").status_code == 404
    assert get(fake, f"/Fleet/Equipment/ID/{CRANE}/FuelUsed/{stamp}/{stamp}/1").status_code == 404
    assert get(fake, f"/Fleet/Equipment/ID/{CRANE}/Locations/yesterday/{stamp}/1").status_code == 400
    assert get(fake, f"/Fleet/Equipment/ID/{CRANE}/Locations/{stamp}/{stamp}/0").status_code == 400
    out_of_order = f"/Fleet/Equipment/ID/{CRANE}/Locations/{stamp}/2024-12-01T08:00:00Z/1"
    assert get(fake, out_of_order).status_code == 400
    empty = series(fake, CRANE, "CumulativeOperatingHours", START, START + timedelta(days=1)).json()
    assert empty["CumulativeOperatingHours"] == [] and link(empty, "next") is None


def test_trip_control_miles_and_a_unit_without_an_odometer():
    units = [
        {"id": "US-1", "oem": "Caterpillar", "model": "950M", "serial": "EJB01234", "hours": 100.0}
        | {"odometer": 1000.0, "odometer_units": "mile"},
        {"oem": "Komatsu", "model": "PC210LC-11", "serial": "K60412", "hours": 50.0, "odometer": None},
    ]
    fake = FakeAemp("127.0.0.1", 0, units=units)
    fake.start()
    try:
        form = {"unit_id": "US-1", "start": "2024-12-03T09:00:00Z", "drive_to_minutes": 30, "work_hours": 2}
        answer = httpx.post(f"{fake.url}/_trip", json=form | {"drive_back_minutes": 30, "site": list(SITE)})
        assert answer.status_code == 200 and answer.json()["ok"] and answer.json()["messages"] > 20
        assert (
            httpx.post(
                f"{fake.url}/_trip", json={"unit_id": "NOPE", "start": "2024-12-03T09:00:00Z", "site": [1, 2]}
            ).status_code
            == 400
        )
        assert httpx.post(f"{fake.url}/_trip", json={"unit_id": "US-1"}).status_code == 400
        assert httpx.post(f"{fake.url}/_trip", json=[1]).status_code == 400

        us = get(fake, "/Fleet/Equipment/ID/US-1").json()
        assert us["Distance"]["OdometerUnits"] == "mile"
        assert us["Distance"]["Odometer"] == pytest.approx(1000 + 40 / 1.609344)  # an hour on the road

        fake.add_trip("K60412", START, drive_to_minutes=10, work_hours=1, drive_back_minutes=10, site=SITE)
        komatsu = get(fake, "/Fleet/Equipment/ID/K60412").json()
        assert "EquipmentID" not in komatsu["EquipmentHeader"] and "Distance" not in komatsu
        assert komatsu["CumulativeOperatingHours"]["Hour"] == pytest.approx(50 + 1 + 20 / 60)
        window = (START, START + timedelta(hours=2))
        assert series(fake, "K60412", "Distance", *window).json()["Distance"] == []
        assert len(series(fake, "K60412", "Locations", *window).json()["Location"]) > 10
        sent = httpx.get(f"{fake.url}/_sent").json()["units"]
        assert [unit["id"] for unit in sent] == ["US-1", "K60412"] and sent[1]["odometer_km"] is None
        assert sent[0]["messages"] == answer.json()["messages"]
    finally:
        fake.stop()


def test_injected_failures_and_reset(fake):
    control(fake, fail="500", times=1)
    assert get(fake, "/Fleet/1").status_code == 500
    assert get(fake, "/Fleet/1").status_code == 200

    control(fake, fail="429", times=2)
    assert get(fake, "/Fleet/1").status_code == 429
    assert get(fake, "/Fleet/1").status_code == 429
    assert get(fake, "/Fleet/1").status_code == 200

    control(fake, fail="timeout", times=1, delay=1)
    with pytest.raises(httpx.TimeoutException):
        get(fake, "/Fleet/1", timeout=0.3)
    assert get(fake, "/Fleet/1").status_code == 200

    control(fake, fail="500", times=5)
    control(fake, fail="none", times=0)
    assert get(fake, "/Fleet/1").status_code == 200

    fake.add_trip(CRANE, START, drive_to_minutes=10, work_hours=1, drive_back_minutes=10, site=SITE)
    httpx.post(f"{fake.url}/_reset")
    sent = httpx.get(f"{fake.url}/_sent").json()
    assert sent["calls"] == [] and all(unit["messages"] == 0 for unit in sent["units"])
    assert sent["units"][0]["hours"] == 3210.5
