"""The company's working calendar (docs/working-calendar.md): the hours per weekday
(``CompanySettings.working_week``), the Russian production calendar from the ``holidays``
library (public holidays, the days off moved onto weekdays, and the weekends made working
days by a transfer), and the admin's overrides per date (``CalendarDay``) above both.

Everything is computed per day, in the company's time zone (``settings.TIME_ZONE``): a
year's range is 365 steps, never one per hour. A transferred working weekend day works the
hours of the weekday it stands in for — the library does not say which, so the hours of
the first working weekday (Monday by default) are taken; the admin overrides a date when
they differ.

:class:`WorkCalendar` loads the settings, the overrides and the holidays once for a range
of dates; the module-level functions build one per call."""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import holidays
from django.utils import timezone
from django.utils.translation import get_language

from arenda.core.models import CalendarDay, CompanySettings, default_working_week, validate_working_week

COUNTRY = "RU"
Interval = tuple[datetime, datetime]


def _parse_week(raw) -> list[tuple[time, time] | None]:
    return [
        None if entry is None else (time.fromisoformat(entry[0]), time.fromisoformat(entry[1]))
        for entry in raw
    ]


class WorkCalendar:
    """The calendar for the dates ``first``..``last`` (inclusive); a date outside is
    loaded on demand (one more query), so a caller with a wider range stays correct."""

    def __init__(self, first: date, last: date):
        # read, not get_or_create: a report never writes the settings row
        stored = CompanySettings.objects.filter(pk=1).values_list("working_week", flat=True).first()
        self.week = _parse_week(stored or default_working_week())
        self.tz = timezone.get_default_timezone()
        self._loaded: set[int] = set()
        self._overrides: dict[date, CalendarDay] = {}
        self._public = holidays.country_holidays(COUNTRY, years=range(first.year, last.year + 1))
        self._load(first, last)

    def _load(self, first: date, last: date) -> None:
        years = set(range(first.year, last.year + 1)) - self._loaded
        if not years:
            return
        self._overrides.update(
            {
                o.date: o
                for o in CalendarDay.objects.filter(date__year__gte=min(years), date__year__lte=max(years))
            }
        )
        self._loaded |= years

    def _transferred_hours(self) -> tuple[time, time] | None:
        return next((hours for hours in self.week[:5] if hours), None) or next(
            (h for h in self.week if h), None
        )

    def hours_of(self, day: date) -> tuple[time, time] | None:
        """The start and end of work on ``day`` (local times), or ``None`` for a day off."""
        self._load(day, day)
        override = self._overrides.get(day)
        if override is not None:
            return (override.start, override.end) if override.is_working else None
        if day in self._public:  # the library fills a year it was not given on this look-up
            return None
        if day in self._public.weekend_workdays:
            return self.week[day.weekday()] or self._transferred_hours()
        return self.week[day.weekday()]

    def holiday_name(self, day: date) -> str:
        self._load(day, day)
        return self._public.get(day) or ""

    def is_working_day(self, day: date) -> bool:
        return self.hours_of(day) is not None

    def working_intervals(self, day: date) -> list[Interval]:
        """The working time of ``day`` as aware datetimes (empty on a day off)."""
        hours = self.hours_of(day)
        if hours is None:
            return []
        start, end = hours
        return [
            (
                timezone.make_aware(datetime.combine(day, start), self.tz),
                timezone.make_aware(datetime.combine(day, end), self.tz),
            )
        ]

    def seconds(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        first = timezone.localtime(start, self.tz).date()
        last = timezone.localtime(end, self.tz).date()
        self._load(first, last)
        total = 0.0
        day = first
        while day <= last:
            for a, b in self.working_intervals(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total

    def working_hours(self, start: datetime, end: datetime) -> Decimal:
        """Hours of work between two moments (0 when ``end`` is not after ``start``)."""
        return (Decimal(self.seconds(start, end)) / 3600).quantize(Decimal("0.01"))

    def union_hours(self, intervals: Iterable[Interval], start: datetime, end: datetime) -> Decimal:
        """Hours of work inside the union of ``intervals`` clipped to ``[start, end)``:
        overlapping windows are counted once."""
        merged: list[list[datetime]] = []
        for a, b in sorted((max(a, start), min(b, end)) for a, b in intervals):
            if b <= a:
                continue
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        return (Decimal(sum(self.seconds(a, b) for a, b in merged)) / 3600).quantize(Decimal("0.01"))


def _local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def working_hours(start: datetime, end: datetime) -> Decimal:
    """Hours of work between two aware moments, in the company's time zone."""
    if end <= start:
        return Decimal("0.00")
    return WorkCalendar(_local_date(start), _local_date(end)).working_hours(start, end)


def working_intervals(day: date) -> list[Interval]:
    """The working time of a local date: ``[(start, end)]`` aware datetimes, or ``[]``."""
    return WorkCalendar(day, day).working_intervals(day)


def is_working_day(day: date) -> bool:
    return WorkCalendar(day, day).is_working_day(day)


# --- the admin's changes (the page arenda/front/calendar_views.py and the Django admin) ------
def working_week_set(week: list) -> CompanySettings:
    """Save the hours per weekday (``[[start, end] | None] * 7``, ``HH:MM``), checked first."""
    validate_working_week(week)
    row = CompanySettings.current()
    row.working_week = week
    row.save(update_fields=["working_week"])
    return row


def calendar_day_save(day: CalendarDay) -> CalendarDay:
    """Check (the date once, the end after the start) and save an override."""
    day.full_clean()
    day.save()
    return day


def public_days(year: int) -> list[tuple[date, str, bool]]:
    """The production calendar of a year from the library: ``(date, name, is_working)`` for
    the holidays (and the days off moved onto weekdays) and the weekends made working days."""
    language = "ru" if (get_language() or "ru").startswith("ru") else "en_US"
    public = holidays.country_holidays(COUNTRY, years=year, language=language)
    days = [(day, name, False) for day, name in public.items()]
    days += [(day, "", True) for day in public.weekend_workdays if day.year == year]
    return sorted(days)
