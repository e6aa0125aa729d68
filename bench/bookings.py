"""Issue 3 figures: availability for a two-week window and reserve throughput, each
against a raw-SQL floor measured in the same run."""

import random
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal

from django.db import connection

from bench.common import report, stopwatch, summary

AVAILABILITY_SQL_PG = """
WITH u AS (
    SELECT id FROM directory_unit
    WHERE is_active AND equipment_type_id = %(type)s AND capacity_t >= %(cap)s
)
SELECT u.id, b.id, b.start, b."end"
FROM u LEFT JOIN bookings_booking b
  ON b.unit_id = u.id AND b.status IN ('reserved','confirmed','dispatched','completed')
 AND b.start < %(until)s AND b.busy_until > %(start)s
UNION ALL
SELECT d.id, b.id, b.start, b."end"
FROM directory_driver d LEFT JOIN bookings_booking b
  ON b.driver_id = d.id AND b.status IN ('reserved','confirmed','dispatched','completed')
 AND b.start < %(until)s AND b.busy_until > %(start)s
WHERE d.is_active
"""


def availability_bench(samples=200):
    from django.utils import timezone

    from arenda.bookings import selectors
    from arenda.directory.models import EquipmentType

    rng = random.Random(3)
    types = list(EquipmentType.objects.values_list("pk", flat=True))
    now = timezone.now()
    windows = []
    for _ in range(samples):
        start = now + timedelta(days=rng.randint(-4 * 365, 150), hours=rng.randint(0, 23))
        windows.append(
            (rng.choice(types), Decimal(rng.choice([0, 10, 25])), start, start + timedelta(days=14))
        )

    service_ms, raw_ms = [], []
    for type_id, cap, start, end in windows:
        t = time.perf_counter()
        units, drivers = selectors.availability(
            equipment_type_id=type_id, min_capacity_t=cap, start=start, end=end
        )
        service_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(AVAILABILITY_SQL_PG, {"type": type_id, "cap": cap, "start": start, "until": end})
            cursor.fetchall()
        raw_ms.append((time.perf_counter() - t) * 1000)
    s, r = summary(service_ms), summary(raw_ms)
    report(
        "availability, two-week window (selector vs raw SQL)",
        [
            ("selector", s),
            ("raw SQL floor", r),
            ("ratio p50", round(s["p50_ms"] / r["p50_ms"], 2)),
            ("ratio p95", round(s["p95_ms"] / r["p95_ms"], 2)),
        ],
    )
    return s, r


def _free_future_slots(n, rng):
    """Bookings far in the future (past the dataset), one per (unit, slot), no overlap."""
    from django.utils import timezone

    from arenda.bookings.models import Booking
    from arenda.crm.models import Deal
    from arenda.directory.models import Driver, Unit

    units = list(Unit.objects.filter(owner="own", is_active=True).select_related("equipment_type"))
    drivers = list(Driver.objects.filter(is_active=True, license_valid_until__isnull=False))
    deal = Deal.objects.first()
    base = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(
        days=365 * 3 + rng.randint(0, 3000)
    )
    Driver.objects.update(license_valid_until=(base + timedelta(days=4000)).date())
    bookings = Booking.objects.bulk_create(
        [
            Booking(
                deal=deal,
                equipment_type_id=units[i % len(units)].equipment_type_id,
                start=base + timedelta(hours=5 * (i // len(units))),
                end=base + timedelta(hours=5 * (i // len(units)) + 4),
                site_address="bench",
            )
            for i in range(n)
        ]
    )
    jobs = []
    for i, booking in enumerate(bookings):
        jobs.append((booking, units[i % len(units)], drivers[(i + i // len(units)) % len(drivers)]))
    return jobs


def reserve_service_bench(n=1000):
    from arenda.bookings import services

    jobs = _free_future_slots(n, random.Random(11))
    with stopwatch() as sw:
        for booking, unit, driver in jobs:
            services.booking_reserve(booking=booking, unit=unit, driver=driver, by=None)
    rate = n / sw["seconds"]
    return rate


def reserve_raw_sql_bench(n=1000):
    """The floor: the same overlap check and update as two plain statements per booking."""
    jobs = _free_future_slots(n, random.Random(12))
    check = (
        "SELECT id FROM bookings_booking WHERE status IN ('reserved','confirmed','dispatched','completed') "
        "AND start < %s AND busy_until > %s AND (unit_id = %s OR driver_id = %s) LIMIT 1"
    )
    update = (
        "UPDATE bookings_booking SET unit_id=%s, driver_id=%s, busy_until=%s, status='reserved' WHERE id=%s"
    )
    with stopwatch() as sw:
        for booking, unit, driver in jobs:
            with connection.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute(check, [booking.end, booking.start, unit.pk, driver.pk])
                assert cursor.fetchone() is None
                cursor.execute(update, [unit.pk, driver.pk, booking.end, booking.pk])
                cursor.execute("COMMIT")
    return n / sw["seconds"]


def reserve_http_bench(n=600, clients=4, port=8765):
    """Through the real HTTP API: gunicorn with two workers, `clients` concurrent clients."""
    import httpx
    from rest_framework.authtoken.models import Token

    from arenda.core.models import User

    user = User.objects.filter(role="manager").first()
    token, _created = Token.objects.get_or_create(user=user)
    jobs = _free_future_slots(n, random.Random(13))
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "arenda.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
    )
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/v1/me/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        headers = {"Authorization": f"Token {token.key}"}
        statuses = []
        chunks = [jobs[i::clients] for i in range(clients)]

        def run(chunk):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
                for booking, unit, driver in chunk:
                    r = client.post(
                        f"/api/v1/bookings/{booking.pk}/reserve/", json={"unit": unit.pk, "driver": driver.pk}
                    )
                    statuses.append(r.status_code)

        threads = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
        with stopwatch() as sw:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        bad = [s for s in statuses if s != 200]
        return n / sw["seconds"], len(bad)
    finally:
        server.terminate()
        server.wait(10)


def run():
    availability_bench()
    service = reserve_service_bench()
    raw = reserve_raw_sql_bench()
    http, failures = reserve_http_bench()
    report(
        "reserve throughput (per second)",
        [
            ("service layer", round(service, 1)),
            ("raw SQL floor", round(raw, 1)),
            ("ratio floor/service", round(raw / service, 2)),
            ("HTTP API (gunicorn -w 2, 4 clients)", f"{http:.1f} ({failures} non-200)"),
        ],
    )
