"""The Excel import's figures (docs/import.md): an XLSX of N new counterparties with a
contact each — its preview, its import, a re-preview of the same file (every row
unchanged) and the import of a changed file (every counterparty and contact updated) — against a raw-SQL floor measured in the same run: ``executemany`` INSERTs of
the same counterparties and contacts (no checks, no history).

Everything runs in one transaction that is rolled back at the end: the bench database
keeps nothing. Wall and CPU seconds are both reported (the machine may be shared).
"""

import cProfile
import io
import pstats
import time
from contextlib import contextmanager

from django.core.management import call_command
from django.db import connection, transaction

from bench.common import Measure, machine_state, report

HEADERS = [
    "Наименование",
    "ИНН",
    "КПП",
    "Телефон",
    "E-mail",
    "Адрес",
    "Контакт",
    "Телефон контакта",
    "Должность контакта",
]


class _Rollback(Exception):
    pass


def inn10(n: int) -> str:
    """A 10-digit ИНН with a valid checksum (region «98»: neither the demo data's nor the
    large lists' generated counterparties', «99…», which the import would find as known)."""
    base = f"98{n:07d}"[-9:]
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return base + str(sum(int(d) * w for d, w in zip(base, weights, strict=True)) % 11 % 10)


def rows(count: int) -> list[list]:
    return [
        [
            f"ООО «Бенч {n}»",
            inn10(n),
            "770101001",
            f"+7 912 {n % 1000:03d}-{n // 1000 % 100:02d}-00",
            f"office{n}@example.ru",
            f"г. Москва, ул. Тестовая, д. {n}",
            f"Иванов Иван {n}",
            f"8 913 {n % 1000:03d}-{n // 1000 % 100:02d}-11",
            "Прораб",
        ]
        for n in range(count)
    ]


def xlsx(table: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADERS)
    for row in table:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@contextmanager
def timed(box: dict, name: str, profile: bool):
    profiler = cProfile.Profile() if profile else None
    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    try:
        with connection.execute_wrapper(count):
            yield
    finally:
        if profiler:
            profiler.disable()
        box[name] = (time.perf_counter() - wall, time.process_time() - cpu, statements[0])
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
            print(f"\n-- profile of {name} (cumulative)\n{out.getvalue()}", flush=True)


def _floor(table: list[list]) -> None:
    """The same rows straight into the tables: what an import cannot beat."""
    from django.utils import timezone

    from arenda.core.validators import normalize_phone

    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO directory_counterparty (created_at, updated_at, kind, name, full_name, inn, kpp,"
            " ogrn, address, phone, email, bik, account, corr_account, bank_name, prepayment_required,"
            " payment_terms_days, acts_period, reconciliation_quarterly, notes)"
            " VALUES (%s, %s, 'legal', %s, '', %s, %s, '', %s, %s, %s, '', '', '', '', %s, 5, 'booking',"
            " %s, '')",
            [(now, now, r[0], r[1], r[2], r[5], normalize_phone(r[3]), r[4], True, False) for r in table],
        )
        marks = ", ".join(["%s"] * len(table))
        cursor.execute(
            f"SELECT id, inn FROM directory_counterparty WHERE inn IN ({marks})", [r[1] for r in table]
        )
        ids = {inn: pk for pk, inn in cursor.fetchall()}
        cursor.executemany(
            "INSERT INTO directory_contact (created_at, updated_at, counterparty_id, full_name, phone,"
            " email, position) VALUES (%s, %s, %s, %s, %s, '', %s)",
            [(now, now, ids[r[1]], r[6], normalize_phone(r[7]), r[8]) for r in table],
        )


def run(*, count: int = 5000, profile: bool = False) -> list[Measure]:
    from arenda.core.models import User
    from arenda.core.roles import Role
    from arenda.directory import importing
    from arenda.directory.models import Contact, Counterparty

    call_command("migrate", verbosity=0)
    table = rows(count)
    content = xlsx(table)
    times: dict[str, tuple[float, float, int]] = {}
    state = machine_state()
    try:
        with transaction.atomic():
            user = User.objects.create(username="bench-importer", role=Role.MANAGER)
            with timed(times, "preview", profile):
                checked = importing.preview("counterparty", content, "bench.xlsx", user=user)
            assert checked.ok and checked.counts["new"] == count, checked.errors[:5]
            with timed(times, "import", profile):
                done = importing.run_import("counterparty", content, "bench.xlsx", user=user)
            assert done.counts["new"] == count
            assert Contact.objects.filter(counterparty__inn__in=[r[1] for r in table]).count() == count
            with timed(times, "re-preview (unchanged)", profile):
                again = importing.preview("counterparty", content, "bench.xlsx", user=user)
            assert again.counts["unchanged"] == count, again.counts
            changed = xlsx([[*r[:5], r[5] + ", офис 2", *r[6:8], "Главный инженер"] for r in table])
            with timed(times, "re-import (all updated)", profile):
                updated = importing.run_import("counterparty", changed, "bench.xlsx", user=user)
            assert updated.counts["update"] == count, updated.counts
            assert not Contact.objects.filter(
                counterparty__inn__in=[r[1] for r in table], position="Прораб"
            ).exists()
            Counterparty.objects.filter(inn__in=[r[1] for r in table]).delete()
            with timed(times, "raw SQL floor", False):
                _floor(table)
            raise _Rollback
    except _Rollback:
        pass
    floor = times["raw SQL floor"][0]
    lines = [("rows (counterparty + contact)", count), ("database", connection.vendor), ("machine", state)]
    for name, (wall, cpu, statements) in times.items():
        ratio = "" if name == "raw SQL floor" else f", ×{wall / floor:.0f} the floor"
        lines.append((name, f"{wall:.2f} s wall, {cpu:.2f} s CPU, {statements} queries{ratio}"))
    both = times["preview"][0] + times["import"][0]
    lines.append(("preview + import", f"{both:.2f} s wall"))
    report("import from Excel", lines)
    return [
        Measure(
            f"Excel import of {count} counterparties: preview + import",
            round(both, 2),
            "s",
            target=60,
            floor=round(floor, 2),
        )
    ]
