"""Moving from SQLite to PostgreSQL (docs/operations.md, «From SQLite to PostgreSQL»), the
documented path run end to end: the demo company in a SQLite database, ``dumpdata`` with the
options the document gives, a fresh PostgreSQL database migrated and ``loaddata`` into it
with the database's triggers held back for the load — then every model has the same rows.
Runs with the PostgreSQL suite (DATABASE_URL names the server)."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
# The options of docs/operations.md: what migrate makes itself stays out of the dump.
DUMP = [
    "dumpdata",
    "--natural-foreign",
    "--exclude=contenttypes",
    "--exclude=auth.permission",
    "--exclude=sessions",
    "--exclude=axes",
]

COUNT = """
import json, sys
import django
django.setup()
from django.apps import apps
json.dump({m._meta.label: m._base_manager.count() for m in apps.get_models() if m._meta.managed and not m._meta.proxy},
          open(sys.argv[1], "w"))
"""


def _manage(env, *args, stdin=None):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        input=stdin,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


def _counts(env, path):
    subprocess.run([sys.executable, "-c", COUNT, str(path)], cwd=ROOT, env=env, check=True, timeout=120)
    return json.loads(path.read_text())


@pytest.mark.postgres
def test_the_demo_company_moves_from_sqlite_to_postgresql(tmp_path):
    server = urlsplit(os.environ["DATABASE_URL"])
    name = f"arenda_move_{os.getpid()}"
    admin = urlunsplit(server._replace(path="/postgres"))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ARENDA_", "DATABASE_"))}
    base.update(DEBUG="1", DJANGO_SETTINGS_MODULE="arenda.settings", DATA_DIR=str(tmp_path / "data"))
    sqlite = dict(base)
    postgres = dict(base, DATABASE_URL=urlunsplit(server._replace(path=f"/{name}")))

    _manage(sqlite, "migrate", "--noinput", "-v", "0")
    _manage(sqlite, "seed_demo", "--if-empty")
    dump = tmp_path / "arenda.json"
    _manage(sqlite, *DUMP, f"--output={dump}")
    before = _counts(sqlite, tmp_path / "before.json")

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        _manage(postgres, "migrate", "--noinput", "-v", "0")
        # The invoice triggers check each row against its lines; the rows arrive one table
        # at a time, so the load runs with triggers held back (as pg_restore does).
        _manage(dict(postgres, PGOPTIONS="-c session_replication_role=replica"), "loaddata", str(dump))
        after = _counts(postgres, tmp_path / "after.json")
        _manage(postgres, "check")
        # loaddata has moved the sequences past the loaded ids: a new row gets a free one.
        _manage(
            dict(postgres, DJANGO_SUPERUSER_PASSWORD="moved-to-postgres-1"),
            "createsuperuser",
            "--noinput",
            "--username=after-the-move",
            "--email=after@example.ru",
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    skipped = {"contenttypes.ContentType", "auth.Permission", "sessions.Session"}
    skipped |= {label for label in before if label.startswith("axes.")}
    moved = {label: rows for label, rows in before.items() if label not in skipped}
    assert moved["bookings.Booking"] > 0 and moved["billing.Payment"] > 0
    assert {label: after[label] for label in moved} == moved
