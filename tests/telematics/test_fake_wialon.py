"""The fake Wialon Remote API (``arenda/integrations/telematics/fake_wialon.py``): no database."""

import json
import math
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from arenda.integrations.telematics.fake_wialon import TOKEN, FakeWialon

CRANE = 734455
SITE = (55.8304, 37.4512)
START = datetime(2024, 12, 2, 8, 0, tzinfo=UTC)
UNIT_FLAGS = 1 | 1024 | 8192


@pytest.fixture
def fake():
    server = FakeWialon("127.0.0.1", 0)
    server.start()
    yield server
    server.stop()


def call(fake, svc, params, sid="", timeout=5.0):
    data = {"svc": svc, "params": json.dumps(params)} | ({"sid": sid} if sid else {})
    return httpx.post(f"{fake.url}/wialon/ajax.html", data=data, timeout=timeout)


def login(fake, token=TOKEN) -> str:
    answer = call(fake, "token/login", {"token": token, "fl": 1}).json()
    return answer["eid"]


def control(fake, **body):
    assert httpx.post(f"{fake.url}/_control", json=body).json() == {"ok": True}


def metres(a, b) -> float:
    dy = (a[0] - b[0]) * 111_320
    dx = (a[1] - b[1]) * 111_320 * math.cos(math.radians(a[0]))
    return math.hypot(dx, dy)


def test_login_good_and_bad_token(fake):
    answer = call(fake, "token/login", {"token": TOKEN, "fl": 1}).json()
    assert len(answer["eid"]) == 32 and answer["au"] == "arenda_api" and answer["classes"]["avl_unit"] == 2
    assert {"host", "tm", "user", "features"} <= answer.keys()
    assert call(fake, "token/login", {"token": "wrong"}).json() == {"error": 8}
    assert call(fake, "core/search_items", {"spec": {}}, sid="nope").json() == {"error": 1}
    assert call(fake, "core/logout", {}, sid=answer["eid"]).json() == {"error": 0}
    assert call(fake, "core/search_item", {"id": CRANE, "flags": 1}, sid=answer["eid"]).json() == {"error": 1}
    sent = httpx.get(f"{fake.url}/_sent").json()
    assert sent["logins"] == 1 and sent["calls"][0] == {
        "svc": "token/login",
        "params": {"token": TOKEN, "fl": 1},
        "sid": "",
    }


def test_search_items_with_counters_and_calc_last(fake):
    sid = login(fake)
    spec = {"itemsType": "avl_unit", "propName": "sys_name", "propValueMask": "*", "sortType": "sys_name"}
    answer = call(
        fake, "core/search_items", {"spec": spec, "force": 1, "flags": UNIT_FLAGS, "from": 0, "to": 0}, sid
    )
    answer = answer.json()
    assert answer["totalItemsCount"] == 3 and answer["dataFlags"] == UNIT_FLAGS
    crane = next(item for item in answer["items"] if item["id"] == CRANE)
    assert crane["nm"] == "Автокран КС-55713 А123ВС77" and crane["cls"] == 2 and crane["mu"] == 0
    assert crane["cneh"] == 5123.4 and crane["cnm"] == 84210.5 and crane["pos"] is None

    one = call(fake, "core/search_item", {"id": CRANE, "flags": 1}, sid).json()
    assert one["flags"] == 1 and one["item"]["id"] == CRANE and "cneh" not in one["item"]
    assert call(fake, "core/search_item", {"id": 1, "flags": 1}, sid).json() == {"error": 7}

    last = call(fake, "unit/calc_last", {"itemIds": [CRANE, 734456]}, sid).json()
    assert last[0]["i"] == CRANE and last[0]["engine_hours"]["value"] == 5123.4
    assert last[0]["mileage"] == {"value": 84210.5, "format": {"value": "84210.50 km"}}
    assert [row["i"] for row in last] == [CRANE, 734456]


def test_trip_messages_and_counters(fake):
    base = (55.7512, 37.6184)
    added = fake.add_trip(
        CRANE, START, drive_to_minutes=40, work_hours=6.5, drive_back_minutes=35, site=SITE, base=base
    )
    sid = login(fake)
    window = {"itemId": CRANE, "flags": 0, "flagsMask": 65280, "loadCount": 0xFFFFFFFF}
    day = int(START.timestamp()) - 3600
    answer = call(
        fake, "messages/load_interval", window | {"timeFrom": day, "timeTo": day + 86400}, sid
    ).json()
    messages = answer["messages"]
    assert answer["count"] == len(messages) == added
    first, last = messages[0], messages[-1]
    end = START + timedelta(minutes=40 + 35, hours=6.5)
    assert first["t"] == int(START.timestamp()) and last["t"] == int(end.timestamp())
    assert first["tp"] == "ud" and first["p"]["ign"] == 1 and last["p"]["ign"] == 0
    assert first["p"]["engine_hours"] == 5123.4 and first["p"]["mileage"] == 84210.5
    hours = last["p"]["engine_hours"] - first["p"]["engine_hours"]
    assert hours == pytest.approx(6.5 + 75 / 60)
    assert last["p"]["mileage"] - first["p"]["mileage"] == pytest.approx(40 * 75 / 60)
    assert metres((last["pos"]["y"], last["pos"]["x"]), base) < 1

    arrive, leave = START.timestamp() + 40 * 60, START.timestamp() + 40 * 60 + 6.5 * 3600
    on_site = [m for m in messages if arrive <= m["t"] <= leave]
    assert len(on_site) > 70
    for m in on_site:
        assert (
            metres((m["pos"]["y"], m["pos"]["x"]), SITE) <= 20 and m["pos"]["s"] == 0 and m["p"]["ign"] == 1
        )
    assert on_site[0]["p"]["mileage"] == on_site[-1]["p"]["mileage"]
    assert any(m["pos"]["s"] == 40 for m in messages)
    assert [m["t"] for m in messages] == sorted({m["t"] for m in messages})

    unit = call(fake, "core/search_item", {"id": CRANE, "flags": UNIT_FLAGS}, sid).json()["item"]
    assert unit["cneh"] == pytest.approx(5123.4 + 6.5 + 75 / 60) and unit["pos"]["t"] == last["t"]
    assert unit["lmsg"] == last

    # the same trip again (another fake) gives the same messages: nothing random
    other = FakeWialon("127.0.0.1", 0)
    try:
        other.add_trip(
            CRANE, START, drive_to_minutes=40, work_hours=6.5, drive_back_minutes=35, site=SITE, base=base
        )
        assert other.units[CRANE]["messages"] == fake.units[CRANE]["messages"]
    finally:
        other.server_close()
    with pytest.raises(ValueError):  # trips go in time order
        fake.add_trip(CRANE, START, drive_to_minutes=1, work_hours=1, drive_back_minutes=1, site=SITE)


def test_trip_control_form_empty_interval_and_unknown_unit(fake):
    form = {"unit_id": 734456, "start": "2024-12-03T09:00:00Z", "drive_to_minutes": 20, "work_hours": 2}
    answer = httpx.post(f"{fake.url}/_trip", json=form | {"drive_back_minutes": 20, "site": list(SITE)})
    assert answer.status_code == 200 and answer.json()["ok"] and answer.json()["messages"] > 20
    unknown_unit = {"unit_id": 1, "start": "2024-12-03T09:00:00Z", "site": [1, 2]}
    assert httpx.post(f"{fake.url}/_trip", json=unknown_unit).status_code == 400
    assert httpx.post(f"{fake.url}/_trip", json={"unit_id": 1}).status_code == 400
    sid = login(fake)
    window = {"itemId": 734456, "flags": 0, "flagsMask": 65280, "loadCount": 0xFFFFFFFF}
    start = int(datetime(2024, 12, 3, 9, tzinfo=UTC).timestamp())
    loaded = call(
        fake, "messages/load_interval", window | {"timeFrom": start, "timeTo": start + 600}, sid
    ).json()
    assert loaded["count"] == 3  # every 5 minutes, both ends included
    empty = window | {"timeFrom": start - 86400, "timeTo": start - 1}
    assert call(fake, "messages/load_interval", empty, sid).json() == {"error": 1001}
    unknown = window | {"itemId": 1, "timeFrom": start, "timeTo": start + 600}
    assert call(fake, "messages/load_interval", unknown, sid).json() == {"error": 7}
    assert call(fake, "unit/no_such_method", {}, sid).json() == {"error": 2}
    assert httpx.get(f"{fake.url}/_sent").json()["units"][1]["messages"] == answer.json()["messages"]


def test_session_expiry(fake):
    fake.session_ttl = 0.3
    sid = login(fake)
    assert (
        "items"
        in call(fake, "core/search_items", {"spec": {"itemsType": "avl_unit"}, "flags": 1}, sid).json()
    )
    time.sleep(0.5)
    assert call(fake, "core/search_items", {"spec": {"itemsType": "avl_unit"}, "flags": 1}, sid).json() == {
        "error": 1
    }
    fake.session_ttl = 300
    sid = login(fake)
    control(fake, expire_sessions=True)
    assert call(fake, "unit/calc_last", {"itemIds": [CRANE]}, sid).json() == {"error": 1}


def test_injected_failures(fake):
    control(fake, fail="500", times=1)
    sid = login(fake)  # token/login is never failed
    assert call(fake, "unit/calc_last", {"itemIds": [CRANE]}, sid).status_code == 500
    assert call(fake, "unit/calc_last", {"itemIds": [CRANE]}, sid).status_code == 200

    control(fake, fail="error5", times=2)
    assert call(fake, "unit/calc_last", {"itemIds": [CRANE]}, sid).json() == {"error": 5}
    assert call(fake, "unit/calc_last", {"itemIds": [CRANE]}, sid).json() == {"error": 5}
    assert isinstance(call(fake, "unit/calc_last", {"itemIds": [CRANE]}, sid).json(), list)

    control(fake, fail="error1003", times=1)
    assert call(fake, "core/search_item", {"id": CRANE, "flags": 1}, sid).json() == {
        "error": 1003,
        "reason": "LIMIT api_concurrent",
    }

    control(fake, fail="timeout", times=1, delay=1)
    with pytest.raises(httpx.TimeoutException):
        call(fake, "unit/calc_last", {"itemIds": [CRANE]}, sid, timeout=0.3)
    assert call(fake, "unit/calc_last", {"itemIds": [CRANE]}, sid).status_code == 200

    httpx.post(f"{fake.url}/_reset")
    sent = httpx.get(f"{fake.url}/_sent").json()
    assert sent["calls"] == [] and sent["logins"] == 0
