"""Issue 7 figures: each report's month on screen (page and API) and a full year's XLSX
export, against the raw-SQL floor of the same answer measured in the same run.

The floors are what a hand-written report would send: one grouped aggregate (and the
first page of rows where the report shows rows), straight through psycopg; the export's
floor is ``COPY (SELECT …) TO STDOUT`` of the same rows. An export runs in a fresh child
process, so its peak memory (VmHWM) is the export's and not this benchmark's.
"""

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bench.common import BENCH_DATABASE_URL, Measure, machine_state, report, summary

TZ = ZoneInfo("Europe/Moscow")
MONTHS = 20
MIN_MONTHS = 5
BUDGET_S = 120  # per report; a slow one gets MIN_MONTHS samples
PAGE = 100  # arenda.reports.core.PAGE_SIZE

# --- the floors -------------------------------------------------------------------------------
PAYROLL_TOTALS_SQL = """
SELECT d.id, d.full_name, d.employment, count(*), sum(w.hours), sum(round(w.hours * w.hourly_pay, 2))
FROM bookings_waybill w JOIN directory_driver d ON d.id = w.driver_id
WHERE w.started_at >= %(start)s AND w.started_at < %(end)s
GROUP BY d.id ORDER BY 5 DESC, 2
"""
PAYROLL_ROWS_SQL = """
SELECT w.started_at, w.booking_id, u.name, u.capacity_t, u.plate, d.full_name, d.employment,
       w.hours, w.hourly_pay, round(w.hours * w.hourly_pay, 2)
FROM bookings_waybill w JOIN directory_driver d ON d.id = w.driver_id
LEFT JOIN directory_unit u ON u.id = w.unit_id
WHERE w.started_at >= %(start)s AND w.started_at < %(end)s
ORDER BY w.started_at, w.id
"""
# A trip's billed hours: its hours plus, on the booking's last waybill, the top-up to the
# booking's minimum order (as arenda.reports.plates bills it).
TRIPS_CTE = """
WITH w AS MATERIALIZED (
    SELECT w.id, w.booking_id, w.unit_id, w.started_at, w.hours, w.km
    FROM bookings_waybill w WHERE w.started_at >= %(start)s AND w.started_at < %(end)s
), ids AS (
    SELECT ARRAY(SELECT DISTINCT booking_id FROM w) AS a
), bk AS MATERIALIZED (
    SELECT id, deal_id, equipment_type_id, min_hours, rate_per_hour, rate_per_km
    FROM bookings_booking WHERE id = ANY ((SELECT a FROM ids)::bigint[])
), per_booking AS (
    SELECT booking_id, sum(hours) AS worked, (array_agg(id ORDER BY started_at DESC, id DESC))[1] AS last_id
    FROM bookings_waybill WHERE booking_id = ANY ((SELECT a FROM ids)::bigint[]) GROUP BY booking_id
), trips AS (
    SELECT w.*, b.deal_id, b.equipment_type_id, b.rate_per_hour, b.rate_per_km, s.unit_plate, s.supplier_id,
           s.cost_per_hour,
           w.hours + CASE WHEN b.min_hours > 0 AND w.id = pb.last_id
                          THEN greatest(b.min_hours - pb.worked, 0) ELSE 0 END AS billed
    FROM w JOIN bk b ON b.id = w.booking_id JOIN per_booking pb ON pb.booking_id = w.booking_id
    LEFT JOIN bookings_supplyorder s ON s.booking_id = w.booking_id
)
"""
PLATES_SQL = (
    TRIPS_CTE
    + """
SELECT COALESCE(u.plate, t.unit_plate, '') AS plate, count(*), sum(t.billed), sum(t.km),
       sum(round(t.billed * t.rate_per_hour, 2) + round(t.km * t.rate_per_km, 2)),
       sum(round(t.hours * t.cost_per_hour, 2)) FILTER (WHERE t.unit_id IS NULL)
FROM trips t LEFT JOIN directory_unit u ON u.id = t.unit_id
GROUP BY 1 ORDER BY 5 DESC, 1
"""
)
PLATES_ROWS_SQL = (
    TRIPS_CTE
    + """
SELECT t.started_at, t.booking_id, c.name, et.name, u.capacity_t, COALESCE(u.plate, t.unit_plate, ''),
       COALESCE(sup.name, usup.name), t.hours, t.billed, t.rate_per_hour, t.km, t.rate_per_km,
       round(t.billed * t.rate_per_hour, 2), round(t.km * t.rate_per_km, 2),
       round(t.billed * t.rate_per_hour, 2) + round(t.km * t.rate_per_km, 2),
       CASE WHEN t.unit_id IS NULL THEN round(t.hours * t.cost_per_hour, 2) END
FROM trips t
JOIN crm_deal dl ON dl.id = t.deal_id
JOIN directory_counterparty c ON c.id = dl.counterparty_id
JOIN directory_equipmenttype et ON et.id = t.equipment_type_id
LEFT JOIN directory_unit u ON u.id = t.unit_id
LEFT JOIN directory_supplier usup ON usup.id = u.supplier_id
LEFT JOIN directory_supplier sup ON sup.id = t.supplier_id AND t.unit_id IS NULL
ORDER BY t.started_at, t.id
"""
)
# What was owed on the day: invoices issued by then less the payments dated by then,
# aged by days past due (the buckets of arenda.reports.receivables).
RECEIVABLES_SQL = """
WITH paid AS (
    SELECT invoice_id, sum(amount) AS s FROM billing_payment WHERE date <= %(as_of)s GROUP BY invoice_id
), owed AS (
    SELECT i.counterparty_id, i.due_date, i.is_overtime, i.total - COALESCE(p.s, 0) AS due
    FROM billing_invoice i LEFT JOIN paid p ON p.invoice_id = i.id
    WHERE i.status NOT IN ('draft', 'cancelled') AND i.date <= %(as_of)s
)
SELECT c.id, c.name, count(*), sum(due),
       sum(due) FILTER (WHERE due_date IS NULL OR due_date >= %(as_of)s),
       sum(due) FILTER (WHERE %(as_of)s - due_date BETWEEN 1 AND 7),
       sum(due) FILTER (WHERE %(as_of)s - due_date BETWEEN 8 AND 30),
       sum(due) FILTER (WHERE %(as_of)s - due_date BETWEEN 31 AND 60),
       sum(due) FILTER (WHERE %(as_of)s - due_date > 60),
       sum(due) FILTER (WHERE is_overtime)
FROM owed JOIN directory_counterparty c ON c.id = owed.counterparty_id
WHERE due > 0
GROUP BY c.id ORDER BY 4 DESC
"""
# Per unit: booked hours clipped to the month, maintenance, trips and revenue.
FLEET_SQL = (
    TRIPS_CTE
    + """
, booked AS (
    SELECT unit_id, sum(least("end", %(end)s) - greatest(start, %(start)s)) AS t
    FROM bookings_booking
    WHERE unit_id IS NOT NULL AND start < %(end)s AND "end" > %(start)s
      AND status IN ('reserved', 'confirmed', 'dispatched', 'completed', 'closed')
    GROUP BY unit_id
), maintenance AS (
    SELECT unit_id, sum(least("end", %(end)s) - greatest(start, %(start)s)) AS t
    FROM directory_maintenancewindow WHERE start < %(end)s AND "end" > %(start)s GROUP BY unit_id
), revenue AS (
    SELECT unit_id, count(*) AS n, sum(round(billed * rate_per_hour, 2) + round(km * rate_per_km, 2)) AS r
    FROM trips WHERE unit_id IS NOT NULL GROUP BY unit_id
)
SELECT u.id, u.plate, u.name, et.name, u.capacity_t, u.owner, booked.t, maintenance.t, revenue.n, revenue.r
FROM directory_unit u JOIN directory_equipmenttype et ON et.id = u.equipment_type_id
LEFT JOIN booked ON booked.unit_id = u.id LEFT JOIN maintenance ON maintenance.unit_id = u.id
LEFT JOIN revenue ON revenue.unit_id = u.id
WHERE u.is_active OR revenue.n > 0
"""
)


def _floor_queries(name, start_at, end_before, as_of):
    params = {"start": start_at, "end": end_before, "as_of": as_of}
    if name == "payroll":
        return [(PAYROLL_TOTALS_SQL, params), (PAYROLL_ROWS_SQL + f" LIMIT {PAGE}", params)]
    if name == "plates":
        return [(PLATES_SQL, params), (PLATES_ROWS_SQL + f" LIMIT {PAGE}", params)]
    if name == "receivables":
        return [(RECEIVABLES_SQL, params)]
    if name == "fleet":
        return [(FLEET_SQL, params)]
    raise ValueError(name)


# --- the months -------------------------------------------------------------------------------
def _month_bounds(first: date):
    after = (first + timedelta(days=32)).replace(day=1)
    return first, after - timedelta(days=1)


def _aware(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TZ)


def past_months(conn, n=MONTHS, seed=5):
    """n distinct whole months inside the trips (random, the same every run)."""
    low, high = conn.execute("SELECT min(started_at), max(started_at) FROM bookings_waybill").fetchone()
    low, high = low.astimezone(TZ).date(), high.astimezone(TZ).date()
    first = (low.replace(day=1) + timedelta(days=32)).replace(day=1)
    months = []
    while True:
        start, end = _month_bounds(first)
        if end >= high:
            break
        months.append((start, end))
        first = end + timedelta(days=1)
    rng = random.Random(seed)
    # in random order: a slow report that stops early still samples the whole history
    return rng.sample(months, min(n, len(months)))


def full_years(conn):
    low, high = conn.execute("SELECT min(started_at), max(started_at) FROM bookings_waybill").fetchone()
    low, high = low.astimezone(TZ).date(), high.astimezone(TZ).date()
    return [y for y in range(low.year, high.year + 1) if date(y, 1, 1) >= low and date(y, 12, 31) <= high]


# --- the app ----------------------------------------------------------------------------------
def _client(role="director"):
    from django.test import Client

    from arenda.core.models import User

    user = User.objects.filter(role=role, is_active=True).order_by("pk").first()
    client = Client()
    client.force_login(user)
    return client, user


def _token(user):
    from rest_framework.authtoken.models import Token

    token, _created = Token.objects.get_or_create(user=user)
    return token.key


def _page_urls(name, start, end):
    period = f"period=custom&start={start:%Y-%m-%d}&end={end:%Y-%m-%d}"
    return {
        "payroll": f"/reports/payroll/?{period}",
        "plates": f"/reports/plates/?{period}",
        "receivables": f"/reports/receivables/?as_of={end:%Y-%m-%d}",
        "fleet": f"/reports/fleet/?{period}",
    }[name]


def _api_urls(name, start, end):
    period = f"start={start:%Y-%m-%d}&end={end:%Y-%m-%d}"
    return {
        "payroll": f"/api/v1/reports/driver-payroll/?{period}",
        "plates": f"/api/v1/reports/plates/?{period}",
        "receivables": f"/api/v1/reports/receivables/?as_of={end:%Y-%m-%d}",
        "fleet": f"/api/v1/reports/fleet/?{period}",
    }.get(name)


def _get(client, url, **headers):
    t = time.perf_counter()
    response = client.get(url, **headers)
    if response.streaming:
        for _chunk in response.streaming_content:
            pass
    else:
        _body = response.content
    return (time.perf_counter() - t) * 1000, response.status_code


def _count_queries(client, url, **headers):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url, **headers)
    slowest = max(ctx.captured_queries, key=lambda q: float(q["time"]), default=None)
    return len(ctx.captured_queries), slowest


def _floor_ms(conn, queries):
    t = time.perf_counter()
    for sql, params in queries:
        conn.execute(sql, params).fetchall()
    return (time.perf_counter() - t) * 1000


def month_bench(name, months, conn, client, headers):
    """The page and the API for each month, each next to its floor."""
    page_ms, api_ms, floor_ms, failures = [], [], [], []
    api_url = _api_urls(name, *months[0])
    # warm: templates, translations, the first connection
    status = _get(client, _page_urls(name, *months[0]))[1]
    if status != 200:
        return {"page": f"not available (HTTP {status})"}
    if api_url:
        api_status = _get(client, api_url, **headers)[1]
        if api_status != 200:
            failures.append(f"API HTTP {api_status}")
            api_url = None
    began = time.monotonic()
    for done, (start, end) in enumerate(months):
        if done >= MIN_MONTHS and time.monotonic() - began > BUDGET_S:
            break  # a slow report: fewer months rather than a run of an hour
        ms, status = _get(client, _page_urls(name, start, end))
        if status != 200:
            failures.append(f"{start:%Y-%m} page HTTP {status}")
        page_ms.append(ms)
        if api_url:
            ms, status = _get(client, _api_urls(name, start, end), **headers)
            if status != 200:
                failures.append(f"{start:%Y-%m} API HTTP {status}")
            api_ms.append(ms)
        floor_ms.append(
            _floor_ms(conn, _floor_queries(name, _aware(start), _aware(end + timedelta(days=1)), end))
        )
    queries, slowest = _count_queries(client, _page_urls(name, *months[len(page_ms) - 1]))
    f = summary(floor_ms)
    p = summary(page_ms)
    rows = [
        ("page (test client, director)", p),
        ("raw SQL floor", f),
        ("page ratio p50 / p95", f"{p['p50_ms'] / f['p50_ms']:.2f} / {p['p95_ms'] / f['p95_ms']:.2f}"),
        ("queries per page", queries),
        ("slowest query ms", f"{float(slowest['time']) * 1000:.0f}" if slowest else "-"),
    ]
    result = {"page": p, "floor": f, "queries": queries, "slowest": slowest}
    if api_ms:
        a = summary(api_ms)
        rows[2:2] = [("API", a)]
        rows.insert(
            4, ("API ratio p50 / p95", f"{a['p50_ms'] / f['p50_ms']:.2f} / {a['p95_ms'] / f['p95_ms']:.2f}")
        )
        result["api"] = a
    if failures:
        rows.append(("failures", "; ".join(failures[:5])))
    rows.append(("machine after", machine_state()))
    sampled = months[: len(page_ms)]
    first, last = min(sampled)[0], max(sampled)[0]
    report(f"{name}: one month ({len(sampled)} months, {first:%Y-%m} … {last:%Y-%m})", rows)
    return result


# --- the year's export ------------------------------------------------------------------------
CHILD = r"""
import json, os, sys, time
from bench.common import setup_django
setup_django()
from django.test import Client
from arenda.core.models import User

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024

url, out = sys.argv[1], sys.argv[2]
client = Client()
client.force_login(User.objects.filter(role="director", is_active=True).order_by("pk").first())
client.get("/reports/")  # imports and templates
before = hwm()
profile = None
if os.environ.get("BENCH_PROFILE"):
    import cProfile
    profile = cProfile.Profile()
    profile.enable()
t = time.perf_counter()
response = client.get(url)
first_byte = time.perf_counter() - t
size = 0
with open(out, "wb") as fh:
    for chunk in (response.streaming_content if response.streaming else [response.content]):
        fh.write(chunk)
        size += len(chunk)
if profile is not None:
    import pstats
    profile.disable()
    pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(12)
print(json.dumps({"status": response.status_code, "seconds": time.perf_counter() - t, "first_byte": first_byte,
                  "bytes": size, "hwm_before_mb": before, "hwm_mb": hwm()}))
"""


def _xlsx_rows(path):
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    ws = wb.worksheets[0]
    count = sum(1 for _row in ws.iter_rows(values_only=True))
    wb.close()
    return count


def _copy_floor(rows_sql, start_at, end_before):
    import psycopg

    t = time.perf_counter()
    rows = 0
    with psycopg.connect(BENCH_DATABASE_URL) as conn, conn.cursor() as cur:
        sql = psycopg.sql.SQL(rows_sql.replace("%(start)s", "{start}").replace("%(end)s", "{end}")).format(
            start=psycopg.sql.Literal(start_at), end=psycopg.sql.Literal(end_before)
        )
        with cur.copy(psycopg.sql.SQL("COPY ({}) TO STDOUT").format(sql)) as copy:
            for data in copy:
                rows += bytes(data).count(b"\n")
    return time.perf_counter() - t, rows


def export_bench(name, year, rows_sql):
    url = f"/reports/{name}/?period=custom&start={year}-01-01&end={year}-12-31&format=xlsx"
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix=f"bench-{name}-")
    os.close(handle)
    try:
        env = dict(os.environ)
        child = subprocess.run(
            [sys.executable, "-c", CHILD, url, path], capture_output=True, text=True, env=env, timeout=900
        )
        if child.returncode != 0:
            report(f"{name}: XLSX export of {year}", [("failed", child.stderr.strip().splitlines()[-1:])])
            return None
        if os.environ.get("BENCH_PROFILE"):  # cProfile's top lines of the export (tottime)
            print(f"  profile of the {name} export (cProfile, by own time):")
            lines = [ln for ln in child.stderr.splitlines() if ln.strip()]
            start = next((i for i, ln in enumerate(lines) if "ncalls" in ln), 0)
            print("\n".join("    " + ln for ln in lines[start : start + 13]), flush=True)
        got = json.loads(child.stdout.strip().splitlines()[-1])
        if got["status"] != 200:
            report(f"{name}: XLSX export of {year}", [("failed", f"HTTP {got['status']}")])
            return None
        t = time.perf_counter()
        sheet_rows = _xlsx_rows(path)
        open_s = time.perf_counter() - t
    finally:
        os.unlink(path)
    floor_s, floor_rows = _copy_floor(rows_sql, _aware(date(year, 1, 1)), _aware(date(year + 1, 1, 1)))
    # the sheet: title, "made on", header, the rows, the totals line
    data_rows = sheet_rows - 4
    report(
        f"{name}: XLSX export of {year} (fresh process)",
        [
            ("wall time s", round(got["seconds"], 2)),
            ("time to first byte s", round(got["first_byte"], 2)),
            (
                "peak memory MB (VmHWM)",
                f"{got['hwm_mb']} (the process before the request: {got['hwm_before_mb']})",
            ),
            ("file MB", round(got["bytes"] / 1e6, 1)),
            ("rows in the sheet", f"{data_rows} (+4 title/header/totals); floor rows {floor_rows}"),
            ("rows match the floor", data_rows == floor_rows),
            ("openpyxl read_only opens it in s", round(open_s, 1)),
            ("floor: COPY (SELECT …) TO STDOUT s", round(floor_s, 2)),
            ("ratio", round(got["seconds"] / floor_s, 1)),
            ("machine after", machine_state()),
        ],
    )
    return {**got, "rows": data_rows, "floor_rows": floor_rows, "floor_s": floor_s}


# --- all --------------------------------------------------------------------------------------
REPORT_NAMES = ("payroll", "plates", "receivables", "fleet")


def run(names=REPORT_NAMES, export=True):
    import psycopg
    from django.core.management import call_command

    # the pages name their static files through the manifest, as in production
    call_command("collectstatic", interactive=False, verbosity=0)

    with psycopg.connect(BENCH_DATABASE_URL, autocommit=True) as conn:
        conn.execute("SET jit = off")  # as the reports set it for their queries
        months = past_months(conn)
        years = full_years(conn)
        client, user = _client()
        headers = {"HTTP_AUTHORIZATION": f"Token {_token(user)}"}
        results = {}
        if export and years:
            year = years[-1]
            for name, rows_sql in (("payroll", PAYROLL_ROWS_SQL), ("plates", PLATES_ROWS_SQL)):
                if name in names:
                    results[f"{name} export"] = export_bench(name, year, rows_sql)
        for name in names:
            results[name] = month_bench(name, months, conn, client, headers)
            if years and name != "receivables":  # receivables are as of a day, not a period
                results[f"{name} year"] = year_bench(name, years[-1], client)
    return results


def measures(results: dict) -> list[Measure]:
    """The table's rows from ``run``'s results."""
    rows = []
    for name in REPORT_NAMES:
        got = results.get(name)
        if got and "floor" in got:
            floor = got["floor"]
            for where, key in (("page", "page"), ("API", "api")):
                if key in got:
                    rows.append(
                        Measure(
                            f"{name}, a month, {where} p50",
                            got[key]["p50_ms"],
                            target=300,
                            floor=floor["p50_ms"],
                            max_ratio=3,
                        )
                    )
                    rows.append(
                        Measure(
                            f"{name}, a month, {where} p95",
                            got[key]["p95_ms"],
                            target=600,
                            floor=floor["p95_ms"],
                        )
                    )
        year = results.get(f"{name} year")
        if year:
            rows.append(Measure(f"{name}, a year on screen, p50", year["p50_ms"], target=1000))
        export = results.get(f"{name} export")
        if export:
            rows += [
                Measure(
                    f"{name}, a year's XLSX ({export['rows']} rows)",
                    round(export["seconds"], 2),
                    "s",
                    target=5,
                    floor=round(export["floor_s"], 2),
                ),
                Measure(f"{name}, a year's XLSX, first byte", round(export["first_byte"], 2), "s", target=1),
                Measure(f"{name}, a year's XLSX, peak memory", export["hwm_mb"], "MB", target=300),
            ]
    return rows


def year_bench(name, year, client, samples=5):
    """A whole year on screen: the first page of a paginated report."""
    url = _page_urls(name, date(year, 1, 1), date(year, 12, 31))
    _get(client, url)  # warm
    times = []
    for _ in range(samples):
        ms, status = _get(client, url)
        if status != 200:
            return None
        times.append(ms)
    got = summary(times)
    report(f"{name}: the year {year} on screen", [("page (test client, director)", got)])
    return got
