"""The pages a user opens all day: the dashboard as an accountant and as a director, one
booking's page and one invoice's page — p50 / p95 over the test client, with each page's
query count (which must not grow with the data; the query-count tests guard it)."""

import random
import time

from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext

from bench.common import Measure, report, summary

SAMPLES = 30


def _client(role):
    from django.test import Client

    from arenda.core.models import User

    user = User.objects.filter(role=role, is_active=True).order_by("pk").first()
    client = Client()
    client.force_login(user)
    return client


def _timed(client, urls):
    client.get(urls[0])  # warm: templates, translations
    times = []
    for url in urls:
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
    with CaptureQueriesContext(connection) as queries:
        client.get(urls[-1])
    count = len(queries.captured_queries)
    reset_queries()
    return summary(times), count


def run() -> list[Measure]:
    from arenda.billing.models import Invoice
    from arenda.bookings.models import Booking

    rng = random.Random(11)
    rows, measures = [], []
    for role in ("accountant", "director"):
        got, queries = _timed(_client(role), ["/"] * SAMPLES)
        rows.append((f"dashboard as {role}", f"{got} · {queries} queries"))
        measures.append(
            Measure(f"dashboard as {role}, p50", got["p50_ms"], target=200, note=f"{queries} queries")
        )
    top = Booking.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    bookings = [f"/bookings/{rng.randint(1, top)}/" for _ in range(SAMPLES)]
    bookings = [u for u in bookings if Booking.objects.filter(pk=int(u.split("/")[2])).exists()]
    top = Invoice.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    invoices = [f"/invoices/{rng.randint(1, top)}/" for _ in range(SAMPLES)]
    invoices = [u for u in invoices if Invoice.objects.filter(pk=int(u.split("/")[2])).exists()]
    for name, role, urls in (
        ("a booking's page", "manager", bookings),
        ("an invoice's page", "accountant", invoices),
    ):
        if not urls:
            continue
        got, queries = _timed(_client(role), urls)
        rows.append((name, f"{got} · {queries} queries"))
        measures.append(Measure(f"{name}, p50", got["p50_ms"], target=100, note=f"{queries} queries"))
    report("pages", rows)
    return measures
