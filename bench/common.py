"""Shared bits of the benchmarks: a dedicated database, Django set-up, timing helpers.

The benchmarks run against their own database (``BENCH_DATABASE_URL``, default a
PostgreSQL database ``arenda_bench`` on localhost), never the developer's data.
Figures are ratios against a raw-SQL floor measured in the same run.
"""

import os
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass

BENCH_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/arenda_bench")


def setup_django():
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    os.environ["DATABASE_URL"] = BENCH_DATABASE_URL
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    os.environ.setdefault("DATA_DIR", "/tmp/arenda-bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arenda.settings")
    if BENCH_DATABASE_URL.startswith("postgres"):
        _ensure_postgres_database(BENCH_DATABASE_URL)
    import django

    django.setup()


def _ensure_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def percentile(values, p):
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(samples_ms):
    return {
        "n": len(samples_ms),
        "p50_ms": round(percentile(samples_ms, 50), 2),
        "p95_ms": round(percentile(samples_ms, 95), 2),
        "mean_ms": round(statistics.fmean(samples_ms), 2),
    }


@contextmanager
def stopwatch():
    box = {}
    start = time.perf_counter()
    yield box
    box["seconds"] = time.perf_counter() - start


def cpu_probe() -> float:
    """Seconds for a fixed pure-Python loop: how busy the machine was (a shared or loaded
    machine stretches every figure; the ratios to the floors much less)."""
    start = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    return round(time.perf_counter() - start, 2)


def machine_state() -> str:
    return f"load average {os.getloadavg()[0]:.1f}, 5M-step Python loop {cpu_probe()} s"


def report(title, rows):
    print(f"\n== {title}", flush=True)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value}", flush=True)


# --- the results table -----------------------------------------------------------------------
@dataclass
class Measure:
    """One row of the table ``make bench`` ends with (and of ``--json``): ``value`` in
    ``unit``; ``target`` the figure to stay under (or, with ``higher_is_better``, to
    reach); ``floor`` the raw-SQL floor of the same answer measured in the same run, and
    ``ratio`` = value ÷ floor (floor ÷ value for a rate); ``max_ratio`` the ratio target."""

    name: str
    value: float
    unit: str = "ms"
    target: float | None = None
    floor: float | None = None
    max_ratio: float | None = None
    higher_is_better: bool = False
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.floor or not self.value:
            return None
        return round(self.floor / self.value if self.higher_is_better else self.value / self.floor, 2)

    @property
    def met(self) -> bool:
        if self.target is None:
            return False
        reached = self.value >= self.target if self.higher_is_better else self.value < self.target
        ratio_ok = self.max_ratio is None or (self.ratio is not None and self.ratio <= self.max_ratio)
        return reached and ratio_ok

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "target": self.target,
            "floor": self.floor,
            "ratio": self.ratio,
            "met": self.met,
        }


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}".replace(",", " ") if abs(value) < 1000 else f"{value:,.0f}".replace(",", " ")
    return str(value)


def print_table(measures: list[Measure]) -> None:
    """The one table every run ends with: each measure with its target, its floor, the
    ratio and whether the target is met, under the machine's load."""
    head = ("measure", "value", "unit", "target", "floor", "ratio", "met")
    rows = [
        (
            m.name + (f" ({m.note})" if m.note else ""),
            _cell(m.value),
            m.unit,
            ("≥ " if m.higher_is_better else "< ") + _cell(m.target) if m.target is not None else "—",
            _cell(m.floor),
            _cell(m.ratio) + (f" (≤ {m.max_ratio:g})" if m.max_ratio else ""),
            "yes" if m.met else ("no" if m.target is not None else "—"),
        )
        for m in measures
    ]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    print(f"\n== results ({machine_state()})", flush=True)
    for row in [head, tuple("-" * w for w in widths), *rows]:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)), flush=True)


def write_json(path: str, measures: list[Measure]) -> None:
    import json

    with open(path, "w", encoding="utf-8") as handle:
        json.dump([m.as_json() for m in measures], handle, ensure_ascii=False, indent=1)
