"""The day board (``arenda/bookings/dayboard.py``, ``docs/day-board.md``): blocks placed by
percent of the day, maintenance hatched, unqualified drivers marked, the current-time line;
the move endpoint decides through the same service as the picker (accepted, refused busy /
maintenance / not qualified / stale, 400 naming the field); two managers moving into one
slot at once cannot double-book; the queries do not grow with the blocks."""

import html
import threading
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from arenda.bookings import services
from arenda.bookings.models import Booking
from arenda.bookings.services import BookingConflict
from arenda.bookings.timeline import day_start
from arenda.core.models import CalendarDay
from arenda.core.roles import Role
from arenda.core.workcalendar import WorkCalendar
from arenda.directory.models import Driver, Unit
from tests.factories import (
    BookingFactory,
    DealFactory,
    DriverDocumentFactory,
    DriverFactory,
    EquipmentTypeFactory,
    EquipmentTypeRequirementFactory,
    MaintenanceWindowFactory,
    TripEvidenceFactory,
    UnitFactory,
    WaybillFactory,
)

DAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
BOARD = reverse("bookings:day_board")
MOVE = reverse("bookings:day_board_move")


def at(hour: float, day: date = DAY) -> datetime:
    return day_start(day) + timedelta(hours=hour)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def manager_client(client, make_user):
    client.force_login(make_user(Role.MANAGER))
    return client


def placed(unit, driver, start, end, customer="ООО «Мостострой»"):
    booking = BookingFactory(
        deal=DealFactory(counterparty__name=customer),
        equipment_type=unit.equipment_type,
        start=start,
        end=end,
        site_address="Москва, ул. Строителей, 5",
    )
    return services.booking_reserve(booking=booking, unit=unit, driver=driver, by=None)


def move(client, booking, **changes):
    booking.refresh_from_db()
    data = {
        "booking": booking.pk,
        "unit": booking.unit_id,
        "driver": booking.driver_id,
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "version": booking.updated_at.isoformat(),
        "day": DAY.isoformat(),
        "days": "1",
        "by": "unit",
    }
    data.update(changes)
    return client.post(MOVE, data)


# --- rendering --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_blocks_are_placed_by_hour_with_maintenance_warnings_and_the_current_time(manager_client):
    crane = EquipmentTypeFactory(name="Автокран")
    first, second = UnitFactory(equipment_type=crane, capacity_t=50), UnitFactory(equipment_type=crane)
    booking = placed(first, DriverFactory(), at(8), at(14))
    MaintenanceWindowFactory(unit=second, start=at(12), end=at(18), reason="ТО-2")
    # a document required after the reservation: the board flags it (as the timeline does)
    EquipmentTypeRequirementFactory(equipment_type=crane)

    page = manager_client.get(BOARD + f"?day={DAY}").content.decode()

    assert f'data-booking="{booking.pk}"' in page
    assert 'x="33.333%"' in page and 'width="25.000%"' in page, "08:00–14:00 of 24 hours"
    assert "Мостострой" in page and "Москва, ул. Строителей, 5" in page and "db-block st-reserved" in page
    assert 'class="db-mnt" x="50.000%" width="25.000%"' in page and "ТО-2: 12:00–18:00" in page
    assert "db-unqualified" in page and "db-warn" in page
    assert 'class="db-now" x="41.667%"' in page, "10:00 of the day"
    assert reverse("bookings:booking_reserve", args=[booking.pk]) in page, "the no-JS fallback"


@pytest.mark.django_db
def test_three_days_by_driver_and_no_current_time_line_on_another_day(manager_client):
    driver = DriverFactory(full_name="Алексеев Алексей")
    booking = placed(UnitFactory(), driver, at(8, DAY + timedelta(days=1)), at(20, DAY + timedelta(days=1)))

    page = manager_client.get(BOARD + f"?day={DAY + timedelta(days=1)}&days=3&by=driver").content.decode()

    assert "Алексеев Алексей" in page and f'data-booking="{booking.pk}"' in page
    assert 'x="11.111%"' in page, "08:00 of the first of three days"
    assert "db-now" not in page, "now is before this range"
    assert "hours-72" in page


@pytest.mark.django_db
def test_the_timeline_links_each_day_into_the_day_board(manager_client):
    page = manager_client.get(reverse("bookings:timeline") + "?start=2026-12-07").content.decode()
    assert f"{BOARD}?day=2026-12-07&by=unit" in page
    back = manager_client.get(BOARD + f"?day={DAY}").content.decode()
    assert reverse("bookings:timeline") + "?start=2026-12-07" in back


@pytest.mark.django_db
def test_non_working_hours_are_greyed_from_the_working_calendar(manager_client):
    """The default week works 08:00–20:00 on weekdays: a Monday greys the night either side."""
    page = manager_client.get(BOARD + f"?day={DAY}").content.decode()
    assert 'class="db-off" x="0.000%" width="33.333%"' in page, "00:00–08:00"
    assert 'class="db-off" x="83.333%" width="16.667%"' in page, "20:00–24:00"
    assert "db-days-off" not in page


@pytest.mark.django_db
def test_a_day_off_and_an_admins_override_follow_the_calendar(manager_client):
    CalendarDay.objects.create(date=date(2026, 12, 12), is_working=True, start=time(10), end=time(14))
    page = manager_client.get(BOARD + "?day=2026-12-12&days=3").content.decode()
    # Saturday 12th worked 10:00–14:00 by the admin's word; Sunday 13th wholly off; Monday as usual
    assert 'class="db-off" x="0.000%" width="13.889%"' in page, "Saturday 00:00–10:00"
    assert 'class="db-off" x="19.444%" width="58.333%"' in page, "Sat 14:00 to Mon 08:00, one stretch"
    assert "db-days-off" in page and "13.12" in page and "12.12 —" not in page


@pytest.mark.django_db
def test_a_public_holiday_is_greyed_and_named(manager_client):
    new_year = date(2027, 1, 1)
    name = WorkCalendar(new_year, new_year).holiday_name(new_year)
    assert name, "the production calendar names the 1st of January"
    page = manager_client.get(BOARD + f"?day={new_year}").content.decode()
    assert 'class="db-off" x="0.000%" width="100.000%"' in page
    assert name in html.unescape(page)


@pytest.mark.django_db
def test_queries_do_not_grow_with_the_blocks(manager_client, django_assert_max_num_queries):
    crane = EquipmentTypeFactory()
    EquipmentTypeRequirementFactory(equipment_type=crane)
    units = [UnitFactory(equipment_type=crane) for _ in range(6)]

    def add(n):
        for i in range(n):
            unit = units[i % len(units)]
            slot = len(Booking.objects.filter(unit=unit))
            driver = DriverDocumentFactory().driver  # the medical certificate the type requires
            placed(unit, driver, at(slot * 3), at(slot * 3 + 2), customer=f"ООО «Заказчик {i}»")
            MaintenanceWindowFactory(unit=unit, start=at(20 + slot * 0.5), end=at(20 + slot * 0.5 + 0.25))

    add(2)
    with django_assert_max_num_queries(30) as few:
        manager_client.get(BOARD + f"?day={DAY}")
    add(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = manager_client.get(BOARD + f"?day={DAY}").content.decode()
    assert page.count("data-booking=") == 10


# --- the tracker's discrepancies ----------------------------------------------------------------
def evidence_of(booking, *, flagged=True, decision=""):
    """A waybill of the booking and what the tracker said of it: more hours than written."""
    return TripEvidenceFactory(
        waybill=WaybillFactory(booking=booking, hours="6"),
        engine_hours="8.50",
        flagged=flagged,
        suggested_hours="2.50" if flagged else None,
        decision=decision,
        decision_reason="Прогрев" if decision == "dismissed" else "",
    )


def block_of(page: str, booking) -> str:
    return page.split(f'data-booking="{booking.pk}"')[1].split("</foreignObject>")[0]


@pytest.mark.django_db
def test_a_block_whose_waybill_the_tracker_contradicts_is_badged_until_decided(manager_client):
    crane = EquipmentTypeFactory()
    units = [UnitFactory(equipment_type=crane) for _ in range(4)]
    contradicted = placed(units[0], DriverFactory(), at(8), at(12))
    evidence_of(contradicted)
    dismissed = placed(units[1], DriverFactory(), at(8), at(12))
    evidence_of(dismissed, decision="dismissed")
    agreeing = placed(units[2], DriverFactory(), at(8), at(12))
    evidence_of(agreeing, flagged=False)
    untracked = placed(units[3], DriverFactory(), at(8), at(12))

    page = manager_client.get(BOARD + f"?day={DAY}", headers={"Accept-Language": "en"}).content.decode()

    badged = block_of(page, contradicted)
    assert 'class="db-discrepancy" title="The waybill differs from the tracker"' in badged
    assert "The waybill differs from the tracker" in badged.split('title="', 1)[1].split('"')[0], (
        "the tooltip"
    )
    for quiet in (dismissed, agreeing, untracked):
        assert "db-discrepancy" not in block_of(page, quiet), quiet
    assert page.count('class="db-discrepancy"') == 1
    by_driver = manager_client.get(BOARD + f"?day={DAY}&by=driver").content.decode()
    assert "db-discrepancy" in block_of(by_driver, contradicted)


@pytest.mark.django_db
def test_the_discrepancy_badges_cost_no_query_per_block(manager_client, django_assert_max_num_queries):
    crane = EquipmentTypeFactory()
    units = [UnitFactory(equipment_type=crane) for _ in range(5)]

    def add(n, first):
        for i in range(first, first + n):
            booking = placed(units[i % 5], DriverFactory(), at(i // 5 * 3), at(i // 5 * 3 + 2))
            evidence_of(booking, decision="" if i % 2 else "dismissed")

    add(2, 0)
    with django_assert_max_num_queries(30) as few:
        manager_client.get(BOARD + f"?day={DAY}")
    add(8, 2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = manager_client.get(BOARD + f"?day={DAY}").content.decode()
    assert page.count("data-booking=") == 10 and page.count('class="db-discrepancy"') == 5


# --- moves --------------------------------------------------------------------------------------
@pytest.fixture
def yard():
    crane = EquipmentTypeFactory()
    return {
        "a": UnitFactory(equipment_type=crane),
        "b": UnitFactory(equipment_type=crane),
        "ivan": DriverFactory(),
        "petr": DriverFactory(),
    }


@pytest.mark.django_db
def test_an_accepted_move_saves_and_re_renders_the_board(manager_client, yard):
    booking = placed(yard["a"], yard["ivan"], at(8), at(12))
    response = move(
        manager_client, booking, unit=yard["b"].pk, start=at(9).isoformat(), end=at(14).isoformat()
    )
    assert response.status_code == 200
    booking.refresh_from_db()
    assert (booking.unit, booking.start, booking.end) == (yard["b"], at(9), at(14))
    assert f'data-booking="{booking.pk}"' in response.content.decode()
    assert 'x="37.500%"' in response.content.decode()


@pytest.mark.django_db
def test_a_move_into_a_busy_slot_is_refused_naming_the_booking_in_the_way(manager_client, yard):
    placed(yard["b"], yard["petr"], at(8), at(12), customer="ООО «Занято»")
    booking = placed(yard["a"], yard["ivan"], at(14), at(16))
    response = move(
        manager_client, booking, unit=yard["b"].pk, start=at(10).isoformat(), end=at(12).isoformat()
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "unit_busy" and "Занято" in body["conflicts"][0]
    booking.refresh_from_db()
    assert booking.unit == yard["a"] and booking.start == at(14), "nothing saved"


@pytest.mark.django_db
def test_a_move_into_maintenance_is_refused(manager_client, yard):
    MaintenanceWindowFactory(unit=yard["b"], start=at(12), end=at(18))
    booking = placed(yard["a"], yard["ivan"], at(8), at(12))
    response = move(
        manager_client, booking, unit=yard["b"].pk, start=at(13).isoformat(), end=at(15).isoformat()
    )
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "unit_maintenance", response.json()


@pytest.mark.django_db
def test_a_move_to_an_unqualified_driver_is_refused_naming_what_is_missing(manager_client, yard):
    booking = placed(yard["a"], yard["ivan"], at(8), at(12))
    EquipmentTypeRequirementFactory(equipment_type=yard["a"].equipment_type)
    response = move(manager_client, booking, driver=yard["petr"].pk, by="driver")
    assert response.status_code == 409
    assert response.json()["code"] == "driver_not_qualified" and response.json()["missing"]


@pytest.mark.django_db
def test_a_stale_board_is_refused(manager_client, yard):
    booking = placed(yard["a"], yard["ivan"], at(8), at(12))
    seen = booking.updated_at
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):  # another manager, a minute later
        services.booking_update(booking=booking, by=None, notes="changed elsewhere")
    response = move(
        manager_client, booking, start=at(9).isoformat(), end=at(13).isoformat(), version=seen.isoformat()
    )
    assert response.status_code == 409 and response.json()["code"] == "stale_board"
    booking.refresh_from_db()
    assert booking.start == at(8)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start": "tomorrow"}, "start"),
        ({"end": ""}, "end"),
        ({"unit": "999999"}, "unit"),
        ({"version": "x"}, "version"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(manager_client, yard, changes, field):
    booking = placed(yard["a"], yard["ivan"], at(8), at(12))
    response = move(manager_client, booking, **changes)
    assert response.status_code == 400 and field in response.json()["errors"]


@pytest.mark.django_db
def test_an_end_before_the_start_names_the_end(manager_client, yard):
    booking = placed(yard["a"], yard["ivan"], at(8), at(12))
    response = move(manager_client, booking, end=at(7).isoformat())
    assert response.status_code == 400 and list(response.json()["errors"]) == ["end"]


@pytest.mark.django_db
def test_only_who_may_change_bookings_may_move_and_see_the_handles(client, make_user, yard):
    booking = placed(yard["a"], yard["ivan"], at(8), at(12))
    assert move(client, booking).status_code == 302, "anonymous: to the login page"
    client.force_login(make_user(Role.ACCOUNTANT))
    assert move(client, booking, start=at(9).isoformat(), end=at(13).isoformat()).status_code == 403
    page = client.get(BOARD + f"?day={DAY}").content.decode()
    assert f'data-booking="{booking.pk}"' in page and "data-movable" not in page
    client.force_login(make_user(Role.MANAGER))
    assert client.get(MOVE).status_code == 405


# --- two managers at once ----------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_managers_moving_into_one_slot_cannot_double_book(is_postgres):
    if not is_postgres:
        pytest.skip("row locks across threads need PostgreSQL")
    crane = EquipmentTypeFactory()
    target, a, b = (UnitFactory(equipment_type=crane) for _ in range(3))
    first = placed(a, DriverFactory(), at(8), at(10))
    second = placed(b, DriverFactory(), at(8), at(10))
    barrier = threading.Barrier(2)
    outcomes = {}

    def worker(booking_id):
        try:
            booking = Booking.objects.get(pk=booking_id)
            barrier.wait()
            services.booking_move(
                booking=booking,
                unit=Unit.objects.get(pk=target.pk),
                driver=Driver.objects.get(pk=booking.driver_id),
                start=at(12),
                end=at(15),
                version=booking.updated_at,
                by=None,
            )
            outcomes[booking_id] = "ok"
        except BookingConflict as exc:
            outcomes[booking_id] = exc.code
        except Exception as exc:  # anything else fails the test
            outcomes[booking_id] = f"error: {exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(pk,)) for pk in (first.pk, second.pk)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes.values()) == ["ok", "unit_busy"]
    assert Booking.objects.filter(unit=target).count() == 1
