"""Telematics figures: the «Расхождения» (discrepancies) report's month on screen and a
quarter's XLSX export against the raw-SQL floor of the same answer, and the evidence's own
cost — the track arithmetic and one trip's arming and read against the fake Wialon.

The evidence rows (``bookings_tripevidence``) are made once, in SQL, for one waybill in ten
of the dataset (those with a unit of ours): one in eight of them disagrees with the tracker
by half an hour to three hours; of those, three in five wait for a decision, one in five
was dismissed with a reason and one in five accepted into the waybill (which then agrees:
no longer flagged, the decision kept). The units themselves are left as they are (no
tracker set), so no other part's figures move.

The arithmetic and the read have no floor (no SQL answers them): their rows say so.
"""

import statistics
import time
from datetime import date, datetime, timedelta

from bench.common import BENCH_DATABASE_URL, Measure, machine_state, report, summary
from bench.reports import TZ, _aware, _client, _count_queries, _get, past_months

PAGE = 100  # arenda.reports.core.PAGE_SIZE
MIN_MONTHS = 5
BUDGET_S = 90
SITE = (55.8123, 37.4987)

# --- the rows -----------------------------------------------------------------------------------
# Deterministic by the waybill's id: id % 10 = 3 has evidence; (id / 10) % 8 = 0 of those
# disagrees; (id / 80) % 5 picks accepted (0), dismissed (1) or open (2–4).
SEED_SQL = """
INSERT INTO bookings_tripevidence (
    waybill_id, booking_id, unit_id, provider, tracker_id, window_start, window_end, status, attempts,
    next_attempt_at, last_error, fetched_at, samples, engine_hours, distance_km, first_movement,
    last_movement, ignition_hours, hours_on_site, track, flagged, suggested_hours, suggested_km,
    decision, decision_reason, decided_by_id, decided_at, created_at, updated_at)
SELECT w.id, w.booking_id, w.unit_id, 'wialon', (700000 + w.unit_id)::text,
       w.started_at - interval '30 minutes', w.finished_at + interval '30 minutes', 'ready', 1,
       NULL, '', w.finished_at + interval '1 hour',
       (extract(epoch FROM w.finished_at - w.started_at) / 5)::int + 720,
       CASE WHEN (w.id / 20) %% 5 = 1 THEN NULL ELSE w.hours + x.extra END,
       w.km + (w.id %% 7),
       w.started_at + interval '5 minutes', w.finished_at - interval '5 minutes',
       w.hours + x.extra + 0.3,
       w.hours + x.extra - 0.2,
       '[]'::jsonb,
       x.kind IN ('open', 'dismissed'),
       CASE WHEN x.kind IN ('open', 'dismissed') THEN x.extra END,
       NULL,
       CASE x.kind WHEN 'accepted' THEN 'accepted' WHEN 'dismissed' THEN 'dismissed' ELSE '' END,
       CASE WHEN x.kind = 'dismissed' THEN 'Трекер был включён на базе, работа не велась' ELSE '' END,
       CASE WHEN x.kind IN ('accepted', 'dismissed') THEN %(decider)s END,
       CASE WHEN x.kind IN ('accepted', 'dismissed') THEN w.finished_at + interval '1 day' END,
       now(), now()
FROM bookings_waybill w
CROSS JOIN LATERAL (
    SELECT CASE WHEN (w.id / 10) %% 8 <> 0 THEN 'agrees'
                WHEN (w.id / 80) %% 5 = 0 THEN 'accepted'
                WHEN (w.id / 80) %% 5 = 1 THEN 'dismissed'
                ELSE 'open' END AS kind,
           CASE WHEN (w.id / 10) %% 8 <> 0 OR (w.id / 80) %% 5 = 0 THEN 0.2
                ELSE 0.5 * (1 + (w.id / 400) %% 6) END::numeric(5, 2) AS extra
) x
WHERE w.id %% 10 = 3 AND w.unit_id IS NOT NULL
"""


def ensure_evidence() -> dict:
    """The evidence rows, once; → their counts."""
    from django.db import connection, transaction

    from arenda.bookings.models import TripEvidence
    from arenda.core.models import User

    made = False
    if not TripEvidence.objects.exists():
        decider = User.objects.filter(role="manager", is_active=True).order_by("pk").first()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(SEED_SQL, {"decider": decider.pk if decider else None})
            cursor.execute("ANALYZE bookings_tripevidence")
        made = True
    evidence = TripEvidence.objects
    return {
        "made now": made,
        "evidence rows": evidence.count(),
        "flagged": evidence.filter(flagged=True).count(),
        "open (flagged, no decision)": evidence.filter(flagged=True, decision="").count(),
        "dismissed": evidence.filter(decision="dismissed").count(),
        "accepted": evidence.filter(decision="accepted").count(),
    }


# --- the floor: the report's answer by hand ------------------------------------------------------
OPEN = "e.flagged AND e.decision = ''"
STAKE = "round(COALESCE(e.suggested_hours, 0) * b.rate_per_hour, 2) + round(COALESCE(e.suggested_km, 0) * b.rate_per_km, 2)"
TOTALS_SQL = f"""
SELECT count(*), count(*) FILTER (WHERE {OPEN}),
       sum(e.suggested_hours) FILTER (WHERE {OPEN}), sum(e.suggested_km) FILTER (WHERE {OPEN}),
       sum({STAKE}) FILTER (WHERE {OPEN})
FROM bookings_tripevidence e JOIN bookings_booking b ON b.id = e.booking_id
WHERE e.window_start >= %(start)s AND e.window_start < %(end)s AND {OPEN}
"""
ROWS_SQL = f"""
SELECT e.id, (w.started_at AT TIME ZONE 'Europe/Moscow')::date, e.booking_id, c.name, u.plate,
       COALESCE(wd.full_name, bd.full_name), w.hours, e.engine_hours, e.hours_on_site,
       COALESCE(e.engine_hours, e.hours_on_site) - w.hours, w.km, e.distance_km, e.suggested_hours,
       e.suggested_km, CASE WHEN {OPEN} THEN {STAKE} END, e.flagged, e.decision, e.decision_reason,
       du.full_name, du.username, e.decided_at
FROM bookings_tripevidence e
JOIN bookings_waybill w ON w.id = e.waybill_id
JOIN bookings_booking b ON b.id = e.booking_id
JOIN crm_deal dl ON dl.id = b.deal_id
JOIN directory_counterparty c ON c.id = dl.counterparty_id
JOIN directory_unit u ON u.id = e.unit_id
LEFT JOIN directory_driver wd ON wd.id = w.driver_id
LEFT JOIN directory_driver bd ON bd.id = b.driver_id
LEFT JOIN core_user du ON du.id = e.decided_by_id
WHERE e.window_start >= %(start)s AND e.window_start < %(end)s AND {OPEN}
ORDER BY e.window_start, e.id
"""


def _floor_ms(conn, start_at, end_before, *, limit=True):
    params = {"start": start_at, "end": end_before}
    t = time.perf_counter()
    totals = conn.execute(TOTALS_SQL, params).fetchone()
    rows = conn.execute(ROWS_SQL + (f" LIMIT {PAGE}" if limit else ""), params).fetchall()
    return (time.perf_counter() - t) * 1000, totals, rows


def _url(start, end, fmt=""):
    return f"/reports/discrepancies/?period=custom&start={start:%Y-%m-%d}&end={end:%Y-%m-%d}" + (
        f"&format={fmt}" if fmt else ""
    )


def _report_totals(user, start, end):
    from django.http import QueryDict

    from arenda.reports.discrepancies import DiscrepanciesReport

    form = DiscrepanciesReport.make_form(QueryDict(_url(start, end).split("?", 1)[1]), user)
    assert form.is_valid(), form.errors
    return DiscrepanciesReport(form.cleaned_data, user).totals()


def month_bench(conn, client, user, months):
    page_ms, floor_ms, failures, rows_seen = [], [], [], []
    status = _get(client, _url(*months[0]))[1]  # warm
    if status != 200:
        report("discrepancies: one month", [("page", f"not available (HTTP {status})")])
        return None
    began = time.monotonic()
    for done, (start, end) in enumerate(months):
        if done >= MIN_MONTHS and time.monotonic() - began > BUDGET_S:
            break
        ms, status = _get(client, _url(start, end))
        if status != 200:
            failures.append(f"{start:%Y-%m} HTTP {status}")
        page_ms.append(ms)
        ms, totals, _rows = _floor_ms(conn, _aware(start), _aware(end + timedelta(days=1)))
        floor_ms.append(ms)
        rows_seen.append(totals[0])
    # the same answer: the report's totals against the floor's, on the first month
    start, end = months[0]
    mine = _report_totals(user, start, end)
    _ms, floor_totals, _rows = _floor_ms(conn, _aware(start), _aware(end + timedelta(days=1)))
    same = (mine["count"], mine["at_stake"]) == (floor_totals[0], floor_totals[4] or 0)
    queries, slowest = _count_queries(client, _url(*months[len(page_ms) - 1]))
    p, f = summary(page_ms), summary(floor_ms)
    sampled = months[: len(page_ms)]
    rows = [
        ("page (test client, director)", p),
        ("raw SQL floor (totals + first page)", f),
        ("page ratio p50 / p95", f"{p['p50_ms'] / f['p50_ms']:.2f} / {p['p95_ms'] / f['p95_ms']:.2f}"),
        ("open discrepancies a month (min / median / max)", _spread(rows_seen)),
        ("totals match the floor", f"{same} (count {mine['count']}, at stake {mine['at_stake']} ₽)"),
        ("queries per page", queries),
        ("slowest query ms", f"{float(slowest['time']) * 1000:.0f}" if slowest else "-"),
    ]
    if failures:
        rows.append(("failures", "; ".join(failures[:5])))
    rows.append(("machine after", machine_state()))
    first, last = min(sampled)[0], max(sampled)[0]
    report(f"discrepancies: one month ({len(sampled)} months, {first:%Y-%m} … {last:%Y-%m})", rows)
    return {"page": p, "floor": f, "queries": queries, "same": same, "rows": statistics.median(rows_seen)}


def _spread(values):
    return f"{min(values)} / {statistics.median(values):g} / {max(values)}"


def _quarters(conn, n=5):
    low, high = conn.execute("SELECT min(started_at), max(started_at) FROM bookings_waybill").fetchone()
    low, high = low.astimezone(TZ).date(), high.astimezone(TZ).date()
    out = []
    for year in range(low.year, high.year + 1):
        for q in range(4):
            start = date(year, 3 * q + 1, 1)
            end = (date(year + (q == 3), (3 * q + 3) % 12 + 1, 1)) - timedelta(days=1)
            if start >= low and end < high:
                out.append((start, end))
    return out[-n:]


def export_bench(conn, client, quarters):
    """A quarter's XLSX (in this process, streamed to the end) against its floor: the totals
    and every row of the quarter by hand."""
    export_ms, floor_ms, rows, failures = [], [], [], []
    _get(client, _url(*quarters[0], "xlsx"))  # warm: openpyxl and the export's code
    for start, end in quarters:
        ms, status = _get(client, _url(start, end, "xlsx"))
        if status != 200:
            failures.append(f"{start:%Y-%m} HTTP {status}")
        export_ms.append(ms)
        ms, _totals, got = _floor_ms(conn, _aware(start), _aware(end + timedelta(days=1)), limit=False)
        floor_ms.append(ms)
        rows.append(len(got))
    x, f = summary(export_ms), summary(floor_ms)
    out = [
        ("XLSX (test client, director)", x),
        ("raw SQL floor (totals + every row)", f),
        ("ratio p50", f"{x['p50_ms'] / f['p50_ms']:.2f}"),
        ("rows a quarter (min / median / max)", _spread(rows)),
    ]
    if failures:
        out.append(("failures", "; ".join(failures[:5])))
    report(f"discrepancies: a quarter's XLSX ({len(quarters)} quarters, {quarters[0][0]:%Y-%m} …)", out)
    return {"export": x, "floor": f, "rows": statistics.median(rows)}


# --- the arithmetic and one trip's read ------------------------------------------------------------
def _track(step_s: float, hours: float):
    """A trip's samples as the Wialon adapter reads them from the fake."""
    from django.test import override_settings

    from arenda.integrations.telematics.fake_wialon import DEFAULT_UNITS, FakeWialon
    from arenda.integrations.telematics.wialon import WialonProvider

    fake = FakeWialon("127.0.0.1", 0)
    fake.start()
    try:
        start = datetime(2026, 6, 1, 0, 0, tzinfo=TZ)
        unit = DEFAULT_UNITS[0]["id"]
        fake.add_trip(
            unit,
            start,
            drive_to_minutes=30,
            work_hours=hours - 1,
            drive_back_minutes=30,
            site=SITE,
            step_minutes=step_s / 60,
        )
        with override_settings(WIALON_API_URL=fake.url, WIALON_TOKEN="wialon-test-token"):
            provider = WialonProvider(url=fake.url, token="wialon-test-token", timeout=60)
            return provider.track(str(unit), start, start + timedelta(hours=hours))
    finally:
        fake.stop()


def _timed(fn, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def arithmetic_bench():
    from arenda.integrations.telematics.evidence import summarize

    results = {}
    for label, step_s, hours, n in (
        ("a day at 5-second messages", 5, 24, 15),
        ("14 hours at 5-minute messages", 300, 14, 200),
    ):
        samples = _track(step_s, hours)
        summarize(samples, site=SITE)  # warm
        got = summary(_timed(lambda s=samples: summarize(s, site=SITE), n))
        results[label] = {**got, "samples": len(samples)}
    report(
        "telematics: evidence.summarize over a track (no floor: no SQL answers it)",
        [(f"{label} ({r['samples']} samples)", r) for label, r in results.items()],
    )
    return results


def trip_bench(n=20):
    """``evidence_arm`` + ``fetch`` of one trip against the fake, per trip: a unit given a
    tracker and its waybills without evidence read one by one, all inside a transaction that
    is rolled back (the dataset stays as it was; the read's task is never queued)."""
    from django.core.cache import cache
    from django.db import transaction
    from django.test import override_settings

    from arenda.bookings import telematics
    from arenda.bookings.models import Booking, Waybill
    from arenda.directory.models import Unit
    from arenda.integrations.telematics.fake_wialon import FakeWialon

    class Rollback(Exception):
        pass

    results = {}
    for label, step_minutes in (("5-minute messages", 5), ("5-second messages", 5 / 60)):
        unit = (
            Unit.objects.filter(owner="own", waybills__evidence__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        tracker = 734455
        fake = FakeWialon("127.0.0.1", 0)
        fake.start()
        cache.clear()
        arm_ms, fetch_ms, samples, flagged = [], [], [], 0
        try:
            with (
                override_settings(WIALON_API_URL=fake.url, WIALON_TOKEN="wialon-test-token"),
                transaction.atomic(),
            ):
                Unit.objects.filter(pk=unit).update(tracker_provider="wialon", tracker_id=str(tracker))
                waybills = list(
                    Waybill.objects.filter(unit_id=unit, evidence__isnull=True)
                    .select_related("booking__unit", "unit")
                    .order_by("-started_at")[: n + 1][::-1]
                )
                Booking.objects.filter(pk__in=[w.booking_id for w in waybills]).update(
                    site_lat=SITE[0], site_lon=SITE[1]
                )
                last_end = None
                for w in waybills:
                    w.booking.refresh_from_db(fields=["site_lat", "site_lon"])
                    w.booking.unit.refresh_from_db(fields=["tracker_provider", "tracker_id"])
                    w.unit.refresh_from_db(fields=["tracker_provider", "tracker_id"])
                    # 10 min to the site, the waybill's hours + 1 there, 10 min back: flagged
                    start = w.started_at - timedelta(minutes=10)
                    if last_end is not None and start <= last_end:  # trips go in time order
                        start = last_end + timedelta(minutes=1)
                    work = float(w.hours) + 1
                    fake.add_trip(
                        tracker,
                        start,
                        drive_to_minutes=10,
                        work_hours=work,
                        drive_back_minutes=10,
                        site=SITE,
                        step_minutes=step_minutes,
                    )
                    last_end = start + timedelta(hours=work, minutes=20)
                for i, w in enumerate(waybills):
                    t = time.perf_counter()
                    evidence = telematics.evidence_arm(w)
                    t1 = time.perf_counter()
                    evidence = telematics.fetch(evidence.pk)
                    t2 = time.perf_counter()
                    if i:  # the first one warms the session and the code
                        arm_ms.append((t1 - t) * 1000)
                        fetch_ms.append((t2 - t1) * 1000)
                        samples.append(evidence.samples or 0)
                        flagged += evidence.flagged
                raise Rollback
        except Rollback:
            pass
        finally:
            fake.stop()
            cache.clear()
        a, f = summary(arm_ms), summary(fetch_ms)
        total = summary([x + y for x, y in zip(arm_ms, fetch_ms, strict=True)])
        results[label] = {"arm": a, "fetch": f, "trip": total, "samples": statistics.median(samples)}
        results[label]["flagged"] = flagged
    report(
        "telematics: one trip's evidence_arm + fetch against the fake Wialon (no floor)",
        [
            row
            for label, r in results.items()
            for row in (
                (f"{label}: evidence_arm", r["arm"]),
                (f"{label}: fetch", r["fetch"]),
                (f"{label}: a trip, both", r["trip"]),
                (f"{label}: samples per trip (median) / flagged", f"{r['samples']:g} / {r['flagged']}"),
            )
        ],
    )
    return results


# --- all ----------------------------------------------------------------------------------------
def run():
    import psycopg
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    facts = ensure_evidence()
    report("telematics: evidence rows", list(facts.items()))
    measures = []
    with psycopg.connect(BENCH_DATABASE_URL, autocommit=True) as conn:
        conn.execute("SET jit = off")  # as the reports set it for their queries
        client, user = _client()
        months = past_months(conn)
        month = month_bench(conn, client, user, months)
        if month:
            measures += [
                Measure(
                    f"discrepancies, a month, page p50 (~{month['rows']:g} rows)",
                    month["page"]["p50_ms"],
                    target=300,
                    floor=month["floor"]["p50_ms"],
                    max_ratio=3,
                ),
                Measure(
                    "discrepancies, a month, page p95",
                    month["page"]["p95_ms"],
                    target=600,
                    floor=month["floor"]["p95_ms"],
                ),
                Measure("discrepancies, queries per page", month["queries"], "queries"),
            ]
        quarters = _quarters(conn)
        if quarters:
            export = export_bench(conn, client, quarters)
            measures.append(
                Measure(
                    f"discrepancies, a quarter's XLSX p50 (~{export['rows']:g} rows)",
                    export["export"]["p50_ms"],
                    target=5000,
                    floor=export["floor"]["p50_ms"],
                )
            )
    for label, r in arithmetic_bench().items():
        measures.append(
            Measure(f"evidence.summarize, {label} ({r['samples']} samples) p50", r["p50_ms"], note="no floor")
        )
    for label, r in trip_bench().items():
        measures.append(
            Measure(
                f"evidence_arm + fetch, a trip at {label} (~{r['samples']:g} samples) p50",
                r["trip"]["p50_ms"],
                note="no floor",
            )
        )
    return measures
