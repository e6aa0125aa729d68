"""The discrepancies report (``arenda/reports/discrepancies.py``): the trips whose waybill
disagrees with the tracker, by state (open by default, accepted, dismissed, all), period
(the last 30 days by default, by the read window's start), unit and the deal's manager;
missing figures shown as missing; the open ones' suggested hours and the money at stake at
the booking's rates; who may see it; pages; bad filters as the form's errors; the XLSX; a
fixed number of queries whatever the rows."""

import io
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from arenda.bookings.models import TripEvidence
from arenda.core import roles
from arenda.core.roles import Role
from arenda.flows.trips import waybill_record
from arenda.reports import views
from tests import factories as f
from tests.bookings.test_waybills import job, sheet
from tests.reports.conftest import MONTH, msk, trip

pytestmark = pytest.mark.django_db
URL = "/reports/discrepancies/"
D = Decimal


def evidence(
    *,
    day: int,
    hours="8",
    engine="10.20",
    on_site=None,
    km="0",
    distance=None,
    suggested_hours="2.20",
    suggested_km=None,
    flagged=True,
    decision="",
    reason="",
    by=None,
    unit=None,
    manager=None,
    customer=None,
    driver=None,
    rate="3500.00",
    rate_km="0",
    month: int = 10,
) -> TripEvidence:
    """A trip of that day (a booking, its waybill) and what the tracker said of it."""
    unit = unit or f.UnitFactory()
    driver = driver or f.DriverFactory()
    deal = f.DealFactory(manager=manager, **({"counterparty": customer} if customer else {}))
    start = msk(day, 8, month=month)
    booking = f.BookingFactory(
        deal=deal,
        start=start,
        end=start + timedelta(hours=10),
        busy_until=start + timedelta(hours=10),
        unit=unit,
        driver=driver,
        equipment_type=unit.equipment_type,
        rate_per_hour=D(rate),
        rate_per_km=D(rate_km),
        status="completed",
    )
    waybill = trip(day=day, month=month, hours=hours, km=km, unit=unit, driver=driver, booking=booking)
    return f.TripEvidenceFactory(
        waybill=waybill,
        unit=unit,
        tracker_id=str(unit.pk),
        fetched_at=waybill.finished_at + timedelta(hours=1),
        engine_hours=None if engine is None else D(engine),
        hours_on_site=None if on_site is None else D(on_site),
        distance_km=None if distance is None else D(distance),
        flagged=flagged,
        suggested_hours=None if suggested_hours is None else D(suggested_hours),
        suggested_km=None if suggested_km is None else D(suggested_km),
        decision=decision,
        decision_reason=reason,
        decided_by=by,
        decided_at=timezone.now() if decision else None,
    )


@pytest.fixture
def world(make_user):
    boss = make_user(Role.MANAGER, full_name="Петров Олег")
    crane = f.UnitFactory(plate="А123ВС77")
    open_hours = evidence(
        day=3,
        hours="8",
        engine="10.20",
        suggested_hours="2.20",
        unit=crane,
        manager=boss,
        customer=f.CounterpartyFactory(name="ООО «Мостострой»"),
        driver=f.DriverFactory(full_name="Иванов Пётр"),
    )
    # no hour counter: the time on site decides; a booking billed by the km, its km too
    open_km = evidence(
        day=5,
        hours="5",
        km="10",
        engine=None,
        on_site="7.35",
        distance="25.5",
        suggested_hours="2.35",
        suggested_km="15.5",
        rate="3000.00",
        rate_km="45.50",
    )
    dismissed = evidence(
        day=7,
        engine="9.00",
        suggested_hours="1.00",
        decision="dismissed",
        reason="Прогрев на базе, заказчик не платит",
        by=boss,
        unit=crane,
    )
    # accepted: the corrected waybill now agrees with the tracker (no longer flagged)
    accepted = evidence(
        day=9,
        hours="10.20",
        engine="10.20",
        flagged=False,
        suggested_hours=None,
        decision="accepted",
        by=boss,
    )
    agreeing = evidence(day=11, hours="8", engine="8.10", flagged=False, suggested_hours=None)
    september = evidence(day=28, month=9, suggested_hours="3.00")
    return {
        "boss": boss,
        "crane": crane,
        "open_hours": open_hours,
        "open_km": open_km,
        "dismissed": dismissed,
        "accepted": accepted,
        "agreeing": agreeing,
        "september": september,
    }


def ids(response) -> list[int]:
    return [row["id"] for row in response.context["rows"]]


# --- what it lists and adds up -------------------------------------------------------------------
def test_the_open_discrepancies_with_their_figures_totals_and_money_at_stake(ui, world):
    response = ui(Role.MANAGER).get(URL + MONTH)
    assert response.status_code == 200
    assert ids(response) == [world["open_hours"].pk, world["open_km"].pk]
    first, second = response.context["rows"]
    assert first["customer"] == "ООО «Мостострой»" and first["driver"] == "Иванов Пётр"
    assert first["plate"] == "А123ВС77" and first["waybill_hours"] == D("8.00")
    assert first["engine_hours"] == D("10.20") and first["difference"] == D("2.20")
    assert first["at_stake"] == D("7700.00")  # 2.2 h × 3 500,00
    # without an engine figure: missing, not zero; the difference is the time on site's
    assert second["engine_hours"] is None and second["hours_on_site"] == D("7.35")
    assert second["difference"] == D("2.35")
    assert (second["waybill_km"], second["tracker_km"], second["suggested_km"]) == (
        D("10"),
        D("25.5"),
        D("15.5"),
    )
    assert second["at_stake"] == D("7755.25")  # 2.35 × 3 000,00 + 15.5 × 45,50
    totals = response.context["totals"]
    assert totals["count"] == 2 and totals["open"] == 2
    assert totals["suggested_hours"] == D("4.55") and totals["at_stake"] == D("15455.25")

    page = response.content.decode()
    assert "15\u202f455,25\u00a0₽" in page and "7\u202f755,25\u00a0₽" in page
    assert f'href="{world["open_hours"].booking.get_absolute_url()}"' in page
    row = page.split(f'href="{world["open_km"].booking.get_absolute_url()}"')[1].split("</tr>")[0]
    assert '<td class="hours col-engine_hours">—</td>' in row
    assert "Waiting for a decision" in row


def test_the_states(ui, world):
    client = ui(Role.MANAGER)
    dismissed = client.get(URL + MONTH + "&state=dismissed")
    assert ids(dismissed) == [world["dismissed"].pk]
    page = dismissed.content.decode()
    assert "Прогрев на базе, заказчик не платит" in page and "Петров Олег" in page
    # a dismissed one is not at stake
    assert dismissed.context["totals"]["at_stake"] == 0 and dismissed.context["totals"]["open"] == 0
    accepted = client.get(URL + MONTH + "&state=accepted")
    assert ids(accepted) == [world["accepted"].pk]
    assert "Accepted into the waybill" in accepted.content.decode()
    everything = client.get(URL + MONTH + "&state=all")
    expected = {world[k].pk for k in ("open_hours", "open_km", "dismissed", "accepted")}
    assert set(ids(everything)) == expected, "the one that agrees is never listed"
    totals = everything.context["totals"]
    assert totals["count"] == 4 and totals["open"] == 2 and totals["at_stake"] == D("15455.25")


def test_the_period_by_the_read_window_and_the_last_30_days_by_default(ui, world):
    client = ui(Role.MANAGER)
    september = client.get(URL + "?period=custom&start=2026-09-01&end=2026-09-30")
    assert ids(september) == [world["september"].pk]
    with time_machine.travel(msk(31, 12), tick=False):
        response = client.get(URL)
        assert response.status_code == 200
        period = response.context["report"].period
        assert (period.start.isoformat(), period.end.isoformat(), period.preset) == (
            "2026-10-02",
            "2026-10-31",
            "last_30",
        )
        assert set(ids(response)) == {world["open_hours"].pk, world["open_km"].pk}
    with time_machine.travel(msk(6, 12), tick=False):
        # 7.09–6.10: the September trip of the 28th too
        assert set(ids(client.get(URL))) == {
            world["september"].pk,
            world["open_hours"].pk,
            world["open_km"].pk,
        }


def test_the_unit_and_the_managers_filters(ui, world):
    client = ui(Role.DIRECTOR)
    by_unit = client.get(URL + MONTH + f"&state=all&unit={world['crane'].pk}")
    assert set(ids(by_unit)) == {world["open_hours"].pk, world["dismissed"].pk}
    assert f'name="unit" value="{world["crane"].pk}"' in by_unit.content.decode()
    by_manager = client.get(URL + MONTH + f"&manager={world['boss'].pk}")
    assert ids(by_manager) == [world["open_hours"].pk]
    assert "Петров Олег" in by_manager.content.decode()


def test_a_trip_recorded_through_the_flow_is_listed_with_its_booking(ui, make_user):
    booking = job(rate="4000.00")
    waybill = waybill_record(booking=booking, data=sheet(booking, hours="8"), by=booking.deal.manager).waybill
    f.TripEvidenceFactory(
        waybill=waybill,
        engine_hours=D("9.50"),
        flagged=True,
        suggested_hours=D("1.50"),
    )
    response = ui(Role.MANAGER).get(URL + f"?manager={booking.deal.manager_id}")
    (row,) = response.context["rows"]
    assert row["booking"] == booking.pk and row["at_stake"] == D("6000.00")
    assert f'href="{booking.get_absolute_url()}"' in response.content.decode()


def test_nothing_to_show_says_so(ui):
    response = ui(Role.MANAGER).get(URL + MONTH)
    assert response.status_code == 200 and response.context["rows"] == []
    assert "No discrepancies in this period." in response.content.decode()


def test_sorted_by_the_money_at_stake(ui, world):
    response = ui(Role.MANAGER).get(URL + MONTH + "&sort=-at_stake")
    assert ids(response) == [world["open_km"].pk, world["open_hours"].pk]


# --- who, pages, bad input ---------------------------------------------------------------------
@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.DIRECTOR, Role.ACCOUNTANT])
def test_the_roles_that_see_the_reports_see_it_and_it_is_on_the_index(ui, role):
    client = ui(role)
    assert client.get(URL).status_code == 200
    index = client.get("/reports/").content.decode()
    assert f'href="{URL}"' in index and "Discrepancies" in index


def test_who_may_not_see_the_reports_may_not_see_it(client, ui, monkeypatch):
    response = client.get(URL)
    assert response.status_code == 302 and "/login" in response["Location"]
    monkeypatch.setitem(roles.MATRIX, "report", {**roles.MATRIX["report"], Role.MANAGER: roles.NONE})
    assert ui(Role.MANAGER).get(URL).status_code == 403


def test_pages(ui, world, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client = ui(Role.MANAGER)
    first = client.get(URL + MONTH + "&state=all")
    assert len(first.context["rows"]) == 2 and first.context["pages"] == 2
    assert "Page 1 of 2" in first.content.decode() and "page=2" in first.content.decode()
    second = client.get(URL + MONTH + "&state=all&page=2")
    assert len(second.context["rows"]) == 2
    assert set(ids(first)) | set(ids(second)) == {
        world[k].pk for k in ("open_hours", "open_km", "dismissed", "accepted")
    }
    # the totals are the period's, not the page's
    assert second.context["totals"]["count"] == 4


BAD = [
    ("state=bogus", "state"),
    ("unit=999999", "unit"),
    ("manager=abc", "manager"),
    ("manager=999999", "manager"),
    ("period=custom&start=bad&end=2026-10-31", "start"),
    ("period=custom&start=2026-10-31&end=2026-10-01", "end"),
    ("period=yesterday", "period"),
    ("sort=password", "sort"),
    ("page=0", "page"),
]


@pytest.mark.parametrize("query,field", BAD)
def test_a_bad_filter_is_the_forms_error_never_a_500(ui, query, field):
    """As every report answers a bad parameter: the page with the form's error, a 400."""
    response = ui(Role.MANAGER).get(URL + "?" + query)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert "cannot be built" in response.content.decode()


# --- the XLSX ---------------------------------------------------------------------------------
def test_the_xlsx_has_the_rows_and_the_totals(ui, world):
    response = ui(Role.DIRECTOR).get(URL + MONTH + "&state=all&format=xlsx")
    assert response.status_code == 200
    assert 'filename="discrepancies_2026-10-01_2026-10-31.xlsx"' in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert "State: All flagged" in rows[0][0]
    header = next(r for r in rows if r and "Waybill hours" in r)
    col = {name: header.index(name) for name in header if name}
    body = [r for r in rows if r and isinstance(r[col["Booking"]], int)]
    assert len(body) == 4
    by_booking = {r[col["Booking"]]: r for r in body}
    first = by_booking[world["open_hours"].booking_id]
    assert first[col["Plate"]] == "А123ВС77" and D(str(first[col["At stake"]])) == D("7700")
    km = by_booking[world["open_km"].booking_id]
    assert km[col["Tracker engine hours"]] is None, "missing stays empty, not 0"
    dismissed = by_booking[world["dismissed"].booking_id]
    assert "Прогрев на базе" in dismissed[col["State"]] and "Петров Олег" in dismissed[col["State"]]
    totals = rows[-1]
    assert totals[0] == "Total" and D(str(totals[col["At stake"]])) == D("15455.25")
    assert D(str(totals[col["Suggested, +h"]])) == D("4.55")


# --- queries ----------------------------------------------------------------------------------
def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        assert response.status_code == 200, url
    return len(ctx)


def test_the_queries_do_not_grow_with_the_rows(ui, make_user):
    boss = make_user(Role.MANAGER)
    unit = f.UnitFactory()
    client = ui(Role.DIRECTOR)

    def add(n, first=0):  # one trip a day: the unit is never booked twice at once
        for i in range(first, first + n):
            evidence(
                day=1 + i % 28,
                manager=boss,
                unit=unit if i % 2 else None,
                decision=["", "", "dismissed", "accepted"][i % 4],
                by=boss if i % 4 >= 2 else None,
                reason="нет" if i % 4 == 2 else "",
                suggested_km="5.0" if i % 3 else None,
                rate_km="40",
            )

    urls = [
        URL + MONTH + "&state=all",
        URL + MONTH + f"&unit={unit.pk}&manager={boss.pk}",
        URL + MONTH + "&state=all&format=xlsx",
        URL + MONTH + "&format=csv",
    ]
    add(3)
    small = {url: _count(client, url) for url in urls}
    add(12, first=3)
    assert len(client.get(URL + MONTH + "&state=all").context["rows"]) == 15
    large = {url: _count(client, url) for url in urls}
    assert large == small
    print("discrepancies query counts", small)
    assert max(small.values()) <= 12, small  # PostgreSQL adds the report's SET LOCAL and a cursor
