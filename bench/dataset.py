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
    from arenda.directory.models import Unit

    call_command("migrate", verbosity=0)
    if not Unit.objects.exists():
        # the company without the demo's own jobs: its bookings would stand in the way of the
        # generated ones (the no-overlap constraint) and miscount the dataset
        call_command(
            "seed_demo",
            scale=drivers_scale,
            units=units,
            counterparties=5000,
            no_jobs=True,
            verbosity=0 if quiet else 1,
        )
    have = Booking.objects.count()
    if have < bookings:
        if have:
            raise SystemExit(
                f"the bench database holds {have} bookings, fewer than asked: drop it and run again"
            )
        _build_bookings(bookings=bookings)
    if connection.vendor == "postgresql":
        ensure_trips(quiet=quiet)
        # The builders' and the migrations' bulk UPDATEs leave dead row versions in every
        # index until autovacuum gets to them; a production table is vacuumed in its own time,
        # so the figures are taken on a vacuumed one (fast when there is nothing to do).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    return _facts()


def _build_bookings(*, bookings):
    from arenda.bookings.models import Booking
    from arenda.crm.models import Deal
    from arenda.directory.models import Counterparty, Driver, Unit

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
    # every other NOT NULL column takes its field's default (or an empty value): a field added
    # to Booking later needs no change here
    given = {name.strip().strip('"') for name in columns.split(",")}
    rest = [
        f for f in Booking._meta.concrete_fields if not f.primary_key and not f.null and f.column not in given
    ]
    fixed = ", ".join(connection.ops.quote_name(f.column) for f in rest)
    tail = tuple(_empty(f) for f in rest)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(f"COPY bookings_booking ({columns}, {fixed}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row((*row, *tail))
            cursor.execute("ANALYZE")
        else:
            width = len(given) + len(rest)
            sql = f"INSERT INTO bookings_booking ({columns}, {fixed}) VALUES ({', '.join(['%s'] * width)})"
            batch = []
            for row in rows():
                batch.append((*row, *tail))
                if len(batch) == 20000:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)


def _empty(field):
    """The value a generated row gets in a NOT NULL column it does not set."""
    if field.has_default():
        return field.get_db_prep_save(field.get_default(), connection)
    return 0 if field.get_internal_type() in ("DecimalField", "IntegerField", "PositiveIntegerField") else ""


def _facts():
    from arenda.billing.models import Invoice, InvoiceLine, Payment
    from arenda.bookings.models import Booking, SupplyOrder, Waybill
    from arenda.directory.models import Driver, Unit

    return {
        "units": Unit.objects.count(),
        "drivers": Driver.objects.count(),
        "bookings": Booking.objects.count(),
        "waybills": Waybill.objects.count(),
        "supply orders": SupplyOrder.objects.count(),
        "invoices": Invoice.objects.count(),
        "overtime invoices": Invoice.objects.filter(is_overtime=True).count(),
        "invoice lines": InvoiceLine.objects.count(),
        "payments": Payment.objects.count(),
        "database": connection.vendor,
    }


# --- trips: waybills, supply orders, invoices and payments of the past bookings ----------------
#
# Every completed or closed booking becomes a trip: one waybill (hours, km, the driver's
# hourly pay of that time), one invoice (prepayment or post-payment by the customer's
# terms) and, when the waybill ran over the ordered hours, an overtime invoice. One past
# booking in twenty is served by a supplier's machine (a supply order; no unit or driver
# of ours). Invoices are paid, part-paid or open so that receivables have every ageing
# bucket. Everything goes in with COPY in one transaction with triggers off (foreign keys
# and the invoice-total check, ~10 million row events); the same promises are then
# checked once over the whole set before the commit.

SUPPLIED_SHARE = 0.05


def _settled_on_fill() -> str:
    from importlib import import_module

    return import_module("arenda.billing.migrations.0004_invoice_settled_on").FILL


def _last_paid_on_fill() -> str:
    from importlib import import_module

    return import_module("arenda.billing.migrations.0011_invoice_last_paid_on").FILL


PAY_RAISE_PER_YEAR = 0.06


def ensure_trips(*, quiet=False) -> bool:
    """Build the trips once; False when they are already there."""
    import time

    from django.db import transaction

    from arenda.bookings import ledger
    from arenda.bookings.models import Waybill

    if connection.vendor != "postgresql":
        raise SystemExit("the trips of the bench dataset need PostgreSQL (COPY)")
    if Waybill.objects.exists():
        return False
    timings = {}
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        buffers, counters, counts = _trip_rows(cursor)
        timings["generated"] = time.monotonic() - started
        _copy_trips(cursor, buffers, counters)
        # The day each invoice was settled, as billing migration 0004 fills it.
        cursor.execute(_settled_on_fill())
        cursor.execute(_last_paid_on_fill())
        timings["copied"] = time.monotonic() - started
        _check_trips(cursor)
        timings["checked"] = time.monotonic() - started
    # the reports' rows of every trip, as the waybill writes keep them (docs/trip-ledger.md)
    ledger.rebuild()
    timings["ledger"] = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timings["analyzed"] = time.monotonic() - started
    if not quiet:
        print("  trips:", dict(counts), flush=True)
        print("  trips built, cumulative s:", {k: round(v, 1) for k, v in timings.items()}, flush=True)
    return True


def _round50(value: float) -> int:
    return max(50, int(round(value / 50.0)) * 50)


def _trip_rows(cursor):
    """The rows of every table as COPY text, the last invoice number per entity and year,
    and counts."""
    import io
    from collections import defaultdict
    from decimal import Decimal

    from arenda.core.money import vat_included

    tz = ZoneInfo("Europe/Moscow")
    rng = random.Random(11)
    now = datetime.now(tz)
    today = now.date()
    stamp = now.isoformat()
    cent = Decimal("0.01")
    zero = Decimal("0.00")

    cursor.execute("SELECT id, vat_rate FROM directory_organization ORDER BY id")
    organizations = cursor.fetchall()
    cursor.execute("SELECT id, prepayment_required, payment_terms_days FROM directory_counterparty")
    customers = {pk: (prepay, terms) for pk, prepay, terms in cursor.fetchall()}
    cursor.execute("SELECT id, hourly_pay FROM directory_driver")
    base_pay = {pk: float(pay) for pk, pay in cursor.fetchall()}
    cursor.execute("SELECT id, has_hour_meter FROM directory_unit WHERE owner = 'own'")
    meters = dict(cursor.fetchall())
    cursor.execute(
        "SELECT equipment_type_id, supplier_id, plate, rate_per_hour FROM directory_unit "
        "WHERE owner = 'supplier' AND supplier_id IS NOT NULL ORDER BY id"
    )
    hired = defaultdict(list)
    hired_any = []
    for type_id, supplier_id, plate, rate in cursor.fetchall():
        hired[type_id].append((supplier_id, plate, rate))
        hired_any.append((supplier_id, plate, rate))
    cursor.execute("SELECT id, name FROM directory_equipmenttype")
    type_names = dict(cursor.fetchall())
    cursor.execute("SELECT COALESCE(MAX(id), 0) FROM billing_invoice")
    next_invoice = cursor.fetchone()[0] + 1

    # A driver's pay goes up once a year, each driver on his own day.
    phase = {pk: rng.randint(0, 364) for pk in sorted(base_pay)}
    pay_cache = {}

    def pay_on(driver_id, day):
        years_ago = ((today - day).days + phase[driver_id]) // 365
        key = (driver_id, years_ago)
        if key not in pay_cache:
            pay_cache[key] = _round50(base_pay[driver_id] * (1 - PAY_RAISE_PER_YEAR) ** years_ago)
        return pay_cache[key]

    day_cache = {}
    moment_cache = {}
    local_day_cache = {}

    def moment(epoch):
        """A timestamp as COPY text, in company time."""
        if epoch not in moment_cache:
            moment_cache[epoch] = datetime.fromtimestamp(epoch, tz).isoformat()
        return moment_cache[epoch]

    def local_day(epoch):
        key = epoch // 3600
        if key not in local_day_cache:
            local_day_cache[key] = datetime.fromtimestamp(epoch, tz).date()
        return local_day_cache[key]

    def nullable(value):
        return r"\N" if value is None else value

    def day_text(day):
        """(ISO date, dd.mm.yyyy, 10:00 that day as a timestamp)"""
        if day not in day_cache:
            day_cache[day] = (day.isoformat(), f"{day:%d.%m.%Y}", f"{day.isoformat()} 10:00:00+03:00")
        return day_cache[day]

    supplied, supply, waybills, lines, invoices, payments = (io.StringIO() for _ in range(6))
    counters = defaultdict(int)
    counts = defaultdict(int)
    amounts = {}

    def invoice(*, kind, org, customer, deal_id, booking_id, day, terms, quantity, price, text, overtime):
        nonlocal next_invoice
        day = min(day, today)
        pk, next_invoice = next_invoice, next_invoice + 1
        org_id, vat_rate = org
        key = (quantity, price, vat_rate)
        if key not in amounts:
            total = (quantity * price).quantize(cent)
            amounts[key] = (total, vat_included(total, vat_rate) or zero)
        total, vat = amounts[key]
        lines.write(f"{pk}\t1\t{text}\t{quantity}\tч\t{price}\t{total}\n")
        counters[(org_id, day.year)] += 1
        sequence = counters[(org_id, day.year)]
        due = day + timedelta(days=terms)
        # How likely it is paid by now: old ones almost surely, the ones not yet due seldom.
        overdue = (today - due).days
        if overdue > 180:
            chance = 0.97
        elif overdue > 90:
            chance = 0.85
        elif overdue > 60:
            chance = 0.75
        elif overdue > 30:
            chance = 0.65
        elif overdue > 0:
            chance = 0.5
        else:
            chance = 0.3
        roll = rng.random()
        if roll < chance:
            status, paid = "paid", total
        elif roll < chance + (1 - chance) * 0.3:
            status, paid = "partially_paid", (total * rng.randint(3, 7) / 10).quantize(cent)
        else:
            status, paid = "issued", zero
        if paid:
            span = max(0, min((today - day).days, terms + 25))
            paid_on = day + timedelta(days=rng.randint(0, span))
            if status == "paid" and rng.random() < 0.1:
                first = (paid / 2).quantize(cent)
                later = min(today, paid_on + timedelta(days=rng.randint(1, 20)))
                payments.write(f"{stamp}\t{stamp}\t{first}\t{paid_on}\tmanual\t\t\t\t{pk}\n")
                payments.write(f"{stamp}\t{stamp}\t{paid - first}\t{later}\tbank_statement\t\t\t\t{pk}\n")
                counts["payments"] += 2
            else:
                source = ("manual", "1c", "bank_statement")[rng.randrange(3)]
                payments.write(f"{stamp}\t{stamp}\t{paid}\t{paid_on}\t{source}\t\t\t\t{pk}\n")
                counts["payments"] += 1
        iso, dmy, issued_at = day_text(day)
        invoices.write(
            f"{pk}\t{stamp}\t{stamp}\t{kind}\t{status}\t{day.year}\t{sequence}\t{sequence}\t{iso}\t{due}\t"
            f"{vat_rate}\t{total}\t{vat}\t{paid}\t{quantity}\tОплата по счёту № {sequence} от {dmy}\t\t\t"
            f"{issued_at}\tnot_needed\t\t0\t\\N\t\\N\t\t\t\\N\t{booking_id}\t{customer}\t{deal_id}\t\\N\t"
            f"{org_id}\t0\t\\N\t{'t' if overtime else 'f'}\n"
        )
        counts["invoices"] += 1
        counts["overtime invoices"] += overtime
        counts[status] += 1

    cursor.execute("SET LOCAL cursor_tuple_fraction = 1")  # the whole result is read: plan for that
    with cursor.connection.cursor(name="bench_trips") as bookings:
        bookings.itersize = 20000
        bookings.execute(
            'SELECT b.id, extract(epoch FROM b.start)::bigint, extract(epoch FROM b."end")::bigint, b.unit_id, '
            "b.driver_id, b.deal_id, d.counterparty_id, b.ordered_hours, b.rate_per_hour, b.equipment_type_id "
            "FROM bookings_booking b "
            "JOIN crm_deal d ON d.id = b.deal_id WHERE b.status IN ('completed', 'closed') ORDER BY b.id"
        )
        for booking_id, start, end, unit_id, driver_id, deal_id, customer, ordered, rate, type_id in bookings:
            day, end_day = local_day(start), local_day(end)
            if rng.random() < SUPPLIED_SHARE:
                supplier_id, plate, hired_rate = rng.choice(hired.get(type_id) or hired_any)
                supplied.write(f"{booking_id}\n")
                cost = _round50(float(hired_rate) / 1.15 * rng.uniform(0.7, 0.85))
                supply.write(
                    f"{stamp}\t{stamp}\t{plate}\tВодитель поставщика\t\t{cost}\tcompleted\t\t"
                    f"{booking_id}\t{supplier_id}\n"
                )
                counts["supply orders"] += 1
                unit_id = driver_id = None
            # Hours worked: mostly as ordered, sometimes overtime, sometimes less.
            roll = rng.random()
            if roll < 0.12:
                hours = ordered + Decimal(rng.choice((1, 2, 3, 4, 6, 8))) / 2
            elif roll < 0.2:
                hours = ordered - Decimal(rng.choice((1, 2))) / 4
            else:
                hours = ordered
            started = start + 60 * rng.choice((0, 0, 0, 10, 15, 30))
            finished = started + int(hours * 3600)
            pay = pay_on(driver_id, day) if driver_id else 0
            engine = hours if unit_id and meters.get(unit_id) else r"\N"
            source = "driver" if rng.random() < 0.3 else "manual"
            km = rng.randint(5, 120)
            waybills.write(
                f"{stamp}\t{stamp}\tПЛ-{booking_id}\t{moment(started)}\t{moment(finished)}\t{hours}\t{km}\t"
                f"\\N\t\\N\t{engine}\t0\t\t{pay}\t{source}\t\t{booking_id}\t\\N\t"
                f"{nullable(driver_id)}\t{nullable(unit_id)}\n"
            )
            counts["waybills"] += 1
            org = organizations[customer % len(organizations)]
            prepay, terms = customers[customer]
            what = f"Аренда: {type_names[type_id]}, {day_text(day)[1]}"
            common = {"org": org, "customer": customer, "deal_id": deal_id, "booking_id": booking_id}
            if prepay:
                invoice(
                    kind="prepayment",
                    day=day - timedelta(days=rng.randint(1, 5)),
                    terms=terms,
                    quantity=ordered,
                    price=rate,
                    text=what,
                    overtime=False,
                    **common,
                )
            else:
                invoice(
                    kind="postpayment",
                    day=end_day,
                    terms=terms,
                    quantity=ordered,
                    price=rate,
                    text=what,
                    overtime=False,
                    **common,
                )
            if hours > ordered:
                invoice(
                    kind="postpayment",
                    day=end_day + timedelta(days=1),
                    terms=terms,
                    quantity=hours - ordered,
                    price=rate,
                    text=f"Сверхурочная работа: {type_names[type_id]}, {day_text(day)[1]}",
                    overtime=True,
                    **common,
                )
    return (supplied, supply, waybills, lines, invoices, payments), counters, counts


WAYBILL_COLUMNS = (
    "created_at, updated_at, number, started_at, finished_at, hours, km, odometer_start, odometer_end, "
    "engine_hours, downtime_hours, scan, hourly_pay, source, notes, booking_id, created_by_id, driver_id, unit_id"
)
INVOICE_COLUMNS = (
    "id, created_at, updated_at, kind, status, year, sequence, number, date, due_date, vat_rate, total, "
    "vat_amount, paid_amount, billed_hours, purpose, notes, cancel_reason, issued_at, sync_status, "
    "sync_error, sync_attempts, sync_next_attempt_at, synced_at, external_id, external_number, "
    "accounting_base_id, booking_id, counterparty_id, deal_id, issued_by_id, organization_id, billed_km, "
    "corrects_id, is_overtime"
)
TRIP_TABLES = (
    "bench_supplied (booking_id)",
    "bookings_supplyorder (created_at, updated_at, unit_plate, driver_name, driver_phone, cost_per_hour, "
    "status, notes, booking_id, supplier_id)",
    f"bookings_waybill ({WAYBILL_COLUMNS})",
    "billing_invoiceline (invoice_id, position, description, quantity, unit, price, amount)",
    f"billing_invoice ({INVOICE_COLUMNS})",
    "billing_payment (created_at, updated_at, amount, date, source, reference, payer, purpose, invoice_id)",
)


EMPTY_BY_TYPE = {"character varying": "''", "text": "''", "boolean": "false", "jsonb": "'[]'::jsonb"}


def _default_the_rest(cursor, target: str) -> None:
    """A NOT NULL column the COPY does not fill (a field added to the model after this
    builder was written) takes an empty value: a column default for this transaction only
    (``SET LOCAL`` has no such form, so the default is dropped again by ``_undefault``)."""
    table, columns = target.split(" ", 1)
    given = {c.strip().strip('"') for c in columns.strip("()").split(",")}
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
        "AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'",
        [table],
    )
    for column, data_type in cursor.fetchall():
        if column not in given:
            empty = EMPTY_BY_TYPE.get(data_type, "0")
            cursor.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" SET DEFAULT {empty}')
            _DEFAULTED.append((table, column))


_DEFAULTED: list[tuple[str, str]] = []


def _undefault(cursor) -> None:
    while _DEFAULTED:
        table, column = _DEFAULTED.pop()
        cursor.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" DROP DEFAULT')


TRIP_TABLE_NAMES = [
    "bookings_supplyorder",
    "bookings_waybill",
    "billing_invoiceline",
    "billing_invoice",
    "billing_payment",
]


def _copy_trips(cursor, buffers, counters):
    # Triggers off for this transaction only: the foreign keys and the invoice checks.
    cursor.execute("SET LOCAL session_replication_role = replica")
    # The plain indexes are built again after the rows are in (a sort each, instead of a
    # million scattered inserts); those behind constraints stay.
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [TRIP_TABLE_NAMES],
    )
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    cursor.execute("CREATE TEMPORARY TABLE bench_supplied (booking_id bigint PRIMARY KEY) ON COMMIT DROP")
    for target in TRIP_TABLES[1:]:
        _default_the_rest(cursor, target)
    for target, buffer in zip(TRIP_TABLES, buffers, strict=True):
        data = buffer.getvalue()
        buffer.close()
        with cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for i in range(0, len(data), 1 << 20):
                copy.write(data[i : i + (1 << 20)])
        del data
        if target.startswith("bench_supplied"):
            # a supplier's machine serves: none of our units or drivers is held
            cursor.execute(
                "UPDATE bookings_booking b SET unit_id = NULL, driver_id = NULL "
                "FROM bench_supplied s WHERE s.booking_id = b.id"
            )
    _undefault(cursor)
    for _name, definition in indexes:
        cursor.execute(definition)
    cursor.execute("SET LOCAL session_replication_role = origin")
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence('billing_invoice', 'id'), (SELECT MAX(id) FROM billing_invoice))"
    )
    for (org_id, year), last in sorted(counters.items()):
        cursor.execute(
            "INSERT INTO billing_invoicecounter (organization_id, year, last) VALUES (%s, %s, %s) "
            "ON CONFLICT (organization_id, year) DO UPDATE "
            "SET last = GREATEST(billing_invoicecounter.last, EXCLUDED.last)",
            [org_id, year, last],
        )


# What the triggers would have checked row by row, checked once over the whole set.
TRIP_CHECKS = {
    "an invoice whose total is not the sum of its lines": """
        SELECT count(*) FROM billing_invoice i
        LEFT JOIN (SELECT invoice_id, sum(amount) AS s FROM billing_invoiceline GROUP BY invoice_id) l
               ON l.invoice_id = i.id
        WHERE i.status <> 'draft' AND i.total <> COALESCE(l.s, 0)""",
    "a line of no invoice": """
        SELECT count(*) FROM billing_invoiceline l
        WHERE NOT EXISTS (SELECT 1 FROM billing_invoice i WHERE i.id = l.invoice_id)""",
    "a payment of no invoice": """
        SELECT count(*) FROM billing_payment p
        WHERE NOT EXISTS (SELECT 1 FROM billing_invoice i WHERE i.id = p.invoice_id)""",
    "an invoice paid other than by its payments": """
        SELECT count(*) FROM billing_invoice i
        LEFT JOIN (SELECT invoice_id, sum(amount) AS s FROM billing_payment GROUP BY invoice_id) p
               ON p.invoice_id = i.id
        WHERE i.paid_amount <> COALESCE(p.s, 0)""",
    "a waybill of no booking": """
        SELECT count(*) FROM bookings_waybill w
        WHERE NOT EXISTS (SELECT 1 FROM bookings_booking b WHERE b.id = w.booking_id)""",
}


def _check_trips(cursor):
    for what, sql in TRIP_CHECKS.items():
        cursor.execute(sql)
        bad = cursor.fetchone()[0]
        if bad:
            raise SystemExit(f"the trips are wrong: {bad} × {what}")
