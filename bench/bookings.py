"""Issue 3 figures: availability for a two-week window and reserve throughput, each
against a raw-SQL floor measured in the same run."""

import os
import random
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal

from django.db import connection

from bench.common import Measure, report, stopwatch, summary

# The floor: the same answer as selectors.availability (matching units and active
# drivers, each with its first five blocking bookings, their count and customer, and the
# maintenance windows) in one hand-written statement and one round trip.
AVAILABILITY_SQL = """
WITH active AS (
    SELECT id, unit_id, driver_id, start, "end", deal_id FROM bookings_booking
    WHERE status IN ('reserved', 'confirmed', 'dispatched', 'completed')
      AND start < %(until)s AND busy_until > %(start)s
), u AS (
    SELECT id, plate FROM directory_unit
    WHERE is_active AND equipment_type_id = %(type)s AND capacity_t >= %(cap)s
), ranked AS (
    SELECT 'u' AS kind, a.unit_id AS owner, a.id, a.start, a."end", a.deal_id,
           row_number() OVER (PARTITION BY a.unit_id ORDER BY a.start, a.id) AS rn,
           count(*) OVER (PARTITION BY a.unit_id) AS total
    FROM active a JOIN u ON u.id = a.unit_id
    UNION ALL
    SELECT 'd', a.driver_id, a.id, a.start, a."end", a.deal_id,
           row_number() OVER (PARTITION BY a.driver_id ORDER BY a.start, a.id),
           count(*) OVER (PARTITION BY a.driver_id)
    FROM active a WHERE a.driver_id IS NOT NULL
)
SELECT r.kind, r.owner, r.id, r.start, r."end", r.total, c.name
FROM ranked r JOIN crm_deal d ON d.id = r.deal_id JOIN directory_counterparty c ON c.id = d.counterparty_id
WHERE r.rn <= 5
UNION ALL SELECT 'U', u.id, NULL, NULL, NULL, NULL, u.plate FROM u
UNION ALL SELECT 'D', id, NULL, NULL, NULL, NULL, full_name FROM directory_driver WHERE is_active
UNION ALL SELECT 'M', m.unit_id, m.id, m.start, m."end", NULL, m.reason
FROM directory_maintenancewindow m JOIN u ON u.id = m.unit_id WHERE m.start < %(end)s AND m."end" > %(start)s
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
            cursor.execute(
                AVAILABILITY_SQL, {"type": type_id, "cap": cap, "start": start, "end": end, "until": end}
            )
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


def _free_future_slots(n):
    """Draft bookings far past the dataset's end, each slot taking distinct units and
    drivers, so every reservation is meant to succeed."""
    from django.db.models import Max
    from django.utils import timezone

    from arenda.bookings.models import Booking
    from arenda.crm.models import Deal
    from arenda.directory.models import Driver, DriverDocument, MaintenanceWindow, Unit
    from arenda.directory.selectors import qualification_gaps

    deal = Deal.objects.first()
    # after everything already booked, so reruns of the benchmark never collide
    last = Booking.objects.aggregate(last=Max("end"))["last"] or timezone.now()
    base = last.replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    # the drivers stay qualified and the units out of maintenance for the whole run: a refusal
    # would measure something else
    valid = (base + timedelta(days=4000)).date()
    Driver.objects.update(license_valid_until=valid)
    DriverDocument.objects.filter(valid_until__isnull=False).update(valid_until=valid)
    in_maintenance = MaintenanceWindow.objects.filter(end__gt=base).values("unit_id")
    units = list(
        Unit.objects.filter(owner="own", is_active=True)
        .exclude(pk__in=in_maintenance)
        .select_related("equipment_type")
    )
    drivers = list(Driver.objects.filter(is_active=True))
    # each unit with a driver qualified for its type of machine, each driver once per slot
    qualified = {}
    for type_id in {u.equipment_type_id for u in units}:
        gaps = qualification_gaps([d.pk for d in drivers], type_id, valid)
        qualified[type_id] = [d for d in drivers if not gaps[d.pk]]
    pairs, used = [], set()
    for unit in units:
        driver = next((d for d in qualified[unit.equipment_type_id] if d.pk not in used), None)
        if driver is not None:
            used.add(driver.pk)
            pairs.append((unit, driver))
    units, drivers = [u for u, _d in pairs], [d for _u, d in pairs]
    per_slot = len(pairs)
    slots = [(i // per_slot, i % per_slot) for i in range(n)]
    bookings = Booking.objects.bulk_create(
        [
            Booking(
                deal=deal,
                equipment_type_id=units[j].equipment_type_id,
                start=base + timedelta(hours=5 * slot),
                end=base + timedelta(hours=5 * slot + 4),
                site_address="bench",
            )
            for slot, j in slots
        ]
    )
    return [(booking, units[j], drivers[j]) for booking, (_slot, j) in zip(bookings, slots, strict=True)]


def reserve_service_bench(n=1000):
    from arenda.bookings import services

    jobs = _free_future_slots(n)
    with stopwatch() as sw:
        for booking, unit, driver in jobs:
            services.booking_reserve(booking=booking, unit=unit, driver=driver, by=None)
    rate = n / sw["seconds"]
    return rate


def reserve_raw_sql_bench(n=1000):
    """The floor: the same overlap check and update as two plain statements per booking."""
    jobs = _free_future_slots(n)
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


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# As deploy/systemd/arenda-web.service runs it; BENCH_GUNICORN tries another setting.
GUNICORN_ARGS = os.environ.get("BENCH_GUNICORN", "--workers 3").split()


def reserve_http_bench(n=600, clients=4, port=None):
    """Through the real HTTP API: gunicorn as in production, `clients` concurrent clients.
    A free port: a developer's server on a fixed one would answer instead of ours."""
    port = port or _free_port()
    import httpx
    from rest_framework.authtoken.models import Token

    from arenda.core.models import User

    user = User.objects.filter(role="manager").first()
    token, _created = Token.objects.get_or_create(user=user)
    jobs = _free_future_slots(n)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "arenda.wsgi",
            *GUNICORN_ARGS,
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


def run() -> list[Measure]:
    s, r = availability_bench()
    service = reserve_service_bench()
    raw = reserve_raw_sql_bench()
    http, failures = reserve_http_bench()
    report(
        "reserve throughput (per second)",
        [
            ("service layer", round(service, 1)),
            ("raw SQL floor", round(raw, 1)),
            ("ratio floor/service", round(raw / service, 2)),
            (f"HTTP API (gunicorn {' '.join(GUNICORN_ARGS)}, 4 clients)", f"{http:.1f} ({failures} non-200)"),
        ],
    )
    return [
        Measure("availability, two weeks, p50", s["p50_ms"], target=20, floor=r["p50_ms"]),
        Measure("availability, two weeks, p95", s["p95_ms"], target=50, floor=r["p95_ms"]),
        Measure(
            "reserve, service layer", round(service, 1), "/s", floor=round(raw, 1), higher_is_better=True
        ),
        Measure(
            f"reserve, HTTP API, 4 clients, gunicorn {' '.join(GUNICORN_ARGS)}",
            round(http, 1),
            "/s",
            target=200,
            floor=round(raw, 1),
            higher_is_better=True,
            note=f"{failures} non-200",
        ),
    ]
