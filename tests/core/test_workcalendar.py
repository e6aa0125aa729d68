"""The working calendar (arenda/core/workcalendar.py, docs/working-calendar.md)."""

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from arenda.core import workcalendar
from arenda.core.models import CalendarDay, CompanySettings, validate_working_week

pytestmark = pytest.mark.django_db

MSK = ZoneInfo("Europe/Moscow")


def at(y, m, d, hour=0, minute=0) -> datetime:
    return datetime(y, m, d, hour, minute, tzinfo=MSK)


def test_weekday_hours_by_default():
    # 5–11 October 2026: Monday to Sunday, no holiday
    assert workcalendar.working_intervals(date(2026, 10, 5)) == [(at(2026, 10, 5, 8), at(2026, 10, 5, 20))]
    assert workcalendar.working_intervals(date(2026, 10, 10)) == [(at(2026, 10, 10, 9), at(2026, 10, 10, 18))]
    assert workcalendar.working_intervals(date(2026, 10, 11)) == []
    assert not workcalendar.is_working_day(date(2026, 10, 11))
    assert workcalendar.working_hours(at(2026, 10, 5), at(2026, 10, 12)) == Decimal("69.00")


def test_changed_weekday_hours():
    row = CompanySettings.current()
    row.working_week = [["07:30", "19:00"]] * 5 + [None, None]
    row.save()
    assert workcalendar.working_hours(at(2026, 10, 5), at(2026, 10, 12)) == Decimal("57.50")
    assert not workcalendar.is_working_day(date(2026, 10, 10))


@pytest.mark.parametrize("day", [date(2026, 1, 1), date(2026, 1, 7), date(2026, 5, 11), date(2026, 11, 4)])
def test_public_holidays_are_days_off(day):
    # 1 and 7 January, 4 November fall on weekdays in 2026; 9 May is a Saturday, moved to Monday 11 May
    assert day.weekday() < 5
    assert workcalendar.working_intervals(day) == []
    assert not workcalendar.is_working_day(day)


def test_a_transferred_working_saturday_from_the_library():
    # 1 November 2025 (a Saturday) is a working day, the day off moved to 3 November
    calendar = workcalendar.WorkCalendar(date(2025, 11, 1), date(2025, 11, 3))
    assert calendar.hours_of(date(2025, 11, 1)) == (time(9), time(18))  # Saturday hours anyway
    assert calendar.hours_of(date(2025, 11, 3)) is None
    # a company off on Saturdays works the transferred Saturday as a weekday
    row = CompanySettings.current()
    row.working_week = [["08:00", "17:00"]] * 5 + [None, None]
    row.save()
    calendar = workcalendar.WorkCalendar(date(2025, 11, 1), date(2025, 11, 1))
    assert calendar.hours_of(date(2025, 11, 1)) == (time(8), time(17))
    assert calendar.hours_of(date(2025, 11, 8)) is None  # an ordinary Saturday


def test_the_admin_overrides_a_date():
    CalendarDay.objects.create(date=date(2026, 1, 5), is_working=True, start=time(10), end=time(16))
    CalendarDay.objects.create(date=date(2026, 10, 6), is_working=False, note="Переезд")
    assert workcalendar.working_intervals(date(2026, 1, 5)) == [(at(2026, 1, 5, 10), at(2026, 1, 5, 16))]
    assert not workcalendar.is_working_day(date(2026, 10, 6))
    assert workcalendar.working_hours(at(2026, 10, 5), at(2026, 10, 12)) == Decimal("57.00")


def test_ranges_crossing_midnight_and_partial_days():
    # Monday 18:00 to Tuesday 10:00: 2 h on Monday, 2 h on Tuesday
    assert workcalendar.working_hours(at(2026, 10, 5, 18), at(2026, 10, 6, 10)) == Decimal("4.00")
    # inside the night: nothing
    assert workcalendar.working_hours(at(2026, 10, 5, 21), at(2026, 10, 6, 7, 59)) == Decimal("0.00")
    # reversed or empty range
    assert workcalendar.working_hours(at(2026, 10, 6), at(2026, 10, 5)) == Decimal("0.00")
    # a moment given in UTC is read in Moscow time: 05:00 UTC is 08:00 MSK
    utc = ZoneInfo("UTC")
    assert workcalendar.working_hours(
        datetime(2026, 10, 5, 5, tzinfo=utc), datetime(2026, 10, 5, 6, tzinfo=utc)
    ) == Decimal("1.00")


@override_settings(TIME_ZONE="Europe/Moscow")
def test_moscow_has_no_dst_and_a_year_is_the_production_calendar():
    # Moscow keeps UTC+3 all year: 26 March and 29 October 2026 (European DST changes) are 12 h days
    assert workcalendar.working_hours(at(2026, 3, 30), at(2026, 3, 31)) == Decimal("12.00")
    assert workcalendar.working_hours(at(2026, 10, 26), at(2026, 10, 27)) == Decimal("12.00")
    # the production calendar of 2026 for a five-day week: 247 working days
    row = CompanySettings.current()
    row.working_week = [["09:00", "17:00"]] * 5 + [None, None]
    row.save()
    assert workcalendar.working_hours(at(2026, 1, 1), at(2027, 1, 1)) == Decimal(247 * 8)


def test_the_range_spanning_a_new_year_loads_both_years():
    CalendarDay.objects.create(date=date(2027, 1, 11), is_working=False)
    calendar = workcalendar.WorkCalendar(date(2026, 12, 31), date(2026, 12, 31))
    assert calendar.hours_of(date(2027, 1, 11)) is None  # an override in a year loaded on demand
    assert calendar.hours_of(date(2027, 1, 1)) is None  # the library's holiday of that year


@pytest.mark.parametrize(
    "week",
    [
        [["08:00", "20:00"]] * 6,
        [["08:00", "20:00"]] * 6 + ["08:00"],
        [["20:00", "08:00"]] + [None] * 6,
        [["8 am", "20:00"]] + [None] * 6,
    ],
)
def test_a_bad_working_week_is_refused(week):
    with pytest.raises(ValidationError):
        validate_working_week(week)


def test_a_calendar_day_needs_its_hours_when_working():
    day = CalendarDay(date=date(2026, 10, 6), is_working=True, start=time(18), end=time(9))
    with pytest.raises(ValidationError) as caught:
        day.full_clean()
    assert "end" in caught.value.message_dict
    day = CalendarDay(date=date(2026, 10, 6), is_working=False, start=time(9), end=time(18))
    day.full_clean()
    assert day.start is None and day.end is None
