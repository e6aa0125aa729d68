"""The large dataset: the demo company at benchmark scale (1,000 units, 300 drivers)
plus 1,000,000 bookings over five years, none overlapping for a unit or a driver.

Bookings go in with PostgreSQL's COPY (or executemany on SQLite) in the shape the
services would write. Each day has two shifts (07–11 and 12–16 local time); a shift
takes a block of distinct units and distinct drivers, so the no-overlap rule holds by
construction (and the exclusion constraint checks it as the rows arrive).
"""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.db import connection

YEARS = 5
SHIFTS = ((7, 11), (12, 16))


def ensure(*, bookings: int = 1_000_000, units: int = 1000, drivers_scale: int = 15, quiet=False) -> dict:
    from arenda.bookings.models import Booking
    from arenda.crm.models import Deal
    from arenda.directory.models import Counterparty, Driver, Unit

    call_command("migrate", verbosity=0)
    if not Unit.objects.exists():
        call_command(
            "seed_demo", scale=drivers_scale, units=units, counterparties=5000, verbosity=0 if quiet else 1
        )
    have = Booking.objects.count()
    if have >= bookings:
        return _facts()
    if have:
        raise SystemExit(f"the bench database holds {have} bookings, fewer than asked: drop it and run again")

    rng = random.Random(7)
    unit_rows = list(Unit.objects.filter(owner="own", is_active=True).values_list("pk", "equipment_type_id"))
    driver_ids = list(Driver.objects.filter(is_active=True).values_list("pk", flat=True))
    counterparty_ids = list(Counterparty.objects.values_list("pk", flat=True)[:5000])
    if not Deal.objects.exists():
        Deal.objects.bulk_create(
            [
                Deal(title=f"Сделка {i}", counterparty_id=rng.choice(counterparty_ids), stage="in_progress")
                for i in range(20_000)
            ],
            batch_size=5000,
        )
    deal_ids = list(Deal.objects.values_list("pk", flat=True))

    tz = ZoneInfo("Europe/Moscow")
    days = YEARS * 365
    first_day = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=days - 180
    )
    per_shift = min(len(driver_ids), len(unit_rows), -(-bookings // (days * len(SHIFTS))))
    now = datetime.now(tz)

    def rows():
        made = 0
        for day in range(days):
            base = first_day + timedelta(days=day)
            for shift, (h1, h2) in enumerate(SHIFTS):
                start, end = base.replace(hour=h1), base.replace(hour=h2)
                status = (
                    "closed" if end < now - timedelta(days=30) else ("completed" if end < now else "reserved")
                )
                offset = (day * 7 + shift * 131) % len(unit_rows)
                driver_offset = (day * 13 + shift * 17) % len(driver_ids)
                for k in range(per_shift):
                    if made >= bookings:
                        return
                    unit_id, type_id = unit_rows[(offset + k) % len(unit_rows)]
                    driver_id = driver_ids[(driver_offset + k) % len(driver_ids)]
                    made += 1
                    # closed bookings hold nothing; the rest are active
                    yield (
                        deal_ids[made % len(deal_ids)],
                        type_id,
                        start,
                        end,
                        end,
                        "Москва, объект",
                        4,
                        4,
                        3500,
                        0,
                        unit_id,
                        driver_id,
                        status,
                        now,
                        now,
                    )

    columns = (
        'deal_id, equipment_type_id, start, "end", busy_until, site_address, ordered_hours, min_hours, '
        "rate_per_hour, rate_per_km, unit_id, driver_id, status, created_at, updated_at"
    )
    fixed = "min_capacity_t, site_contact_name, site_contact_phone, notes, cancel_reason"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(f"COPY bookings_booking ({columns}, {fixed}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row((*row, 0, "", "", "", ""))
            cursor.execute("ANALYZE")
        else:
            sql = f"INSERT INTO bookings_booking ({columns}, {fixed}) VALUES ({', '.join(['%s'] * 20)})"
            batch = []
            for row in rows():
                batch.append((*row, 0, "", "", "", ""))
                if len(batch) == 20000:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
    return _facts()


def _facts():
    from arenda.bookings.models import Booking
    from arenda.directory.models import Driver, Unit

    return {
        "units": Unit.objects.count(),
        "drivers": Driver.objects.count(),
        "bookings": Booking.objects.count(),
        "database": connection.vendor,
    }
