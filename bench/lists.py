"""Large lists: the counterparty, deal and invoice pages with 100 000 rows each.

For each list: the first page, a search and a filter, opened through the Django test client
as the accountant (the whole request: filters, the capped count, the rows, the template),
against a raw-SQL floor — the same page's ``SELECT … LIMIT 50`` through psycopg. The target
is 150 ms p50 (docs/large-lists.md).

``ensure_lists_scale()`` tops the bench database up to 100 000 counterparties, deals and
invoices with ``INSERT … SELECT generate_series`` (the rows the services would write, with
the invoice triggers off for that one transaction: the generated invoices have no lines).
"""

import time

from bench.common import Measure, report, summary

ROWS = 100_000
TARGET_MS = 150
SAMPLES = 30

# What the generated names are made of (a search for one word finds a share of them).
WORDS = ("Строй", "Техно", "Транс", "Кран", "Альфа", "Вектор", "Гранит", "Мост", "Север", "Урал")


def _top_up_counterparties(cursor, have: int, want: int) -> None:
    from bench.dataset import _default_the_rest, _undefault

    words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"
    target = (
        "directory_counterparty (created_at, updated_at, kind, name, full_name, inn, kpp, phone, email, "
        "acts_period, payment_terms_days)"
    )
    _default_the_rest(cursor, target)
    cursor.execute(
        f"INSERT INTO {target} "
        "SELECT now(), now(), (ARRAY['legal','sole_trader','person'])[1 + g % 3], "
        f"'ООО «' || ({words})[1 + g % 10] || ' ' || g || '»', "
        f"'Общество с ограниченной ответственностью «' || ({words})[1 + g % 10] || ' ' || g || '»', "
        "'99' || lpad(g::text, 8, '0'), '770101001', '+7916' || lpad(g::text, 7, '0'), "
        "'info' || g || '@example.ru', 'month', 5 "
        f"FROM generate_series({have + 1}, {want}) g"
    )
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys checked before the ALTER
    _undefault(cursor)


def _top_up_deals(cursor, have: int, want: int) -> None:
    from bench.dataset import _default_the_rest, _undefault

    target = "crm_deal (created_at, updated_at, title, stage, lost_reason, counterparty_id, manager_id)"
    _default_the_rest(cursor, target)
    cursor.execute(
        "CREATE TEMPORARY TABLE bench_cp ON COMMIT DROP AS "
        "SELECT row_number() OVER (ORDER BY id) AS n, id FROM directory_counterparty"
    )
    cursor.execute(
        f"INSERT INTO {target} "
        "SELECT now() - g * interval '17 minutes', now() - g * interval '17 minutes', "
        "'Аренда техники № ' || g, "
        "(ARRAY['new','selection','proposal','agreed','invoicing','in_progress','closing','won','lost'])"
        "[1 + g % 9], CASE WHEN g % 9 = 8 THEN 'Дорого' ELSE '' END, "
        "cp.id, (SELECT id FROM core_user WHERE role = 'manager' ORDER BY id LIMIT 1) "
        f"FROM generate_series({have + 1}, {want}) g "
        "JOIN bench_cp cp ON cp.n = 1 + (g::bigint * 7919) % (SELECT count(*) FROM bench_cp)",
    )
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys checked before the ALTER
    _undefault(cursor)


def _top_up_invoices(cursor, have: int, want: int) -> None:
    from bench.dataset import _default_the_rest, _undefault

    target = (
        "billing_invoice (created_at, updated_at, kind, status, year, sequence, number, date, due_date, "
        "vat_rate, total, vat_amount, paid_amount, purpose, sync_status, counterparty_id, organization_id)"
    )
    _default_the_rest(cursor, target)
    cursor.execute("SET LOCAL session_replication_role = replica")  # the totals trigger: no lines
    cursor.execute(
        "CREATE TEMPORARY TABLE bench_icp ON COMMIT DROP AS "
        "SELECT row_number() OVER (ORDER BY id) AS n, id FROM directory_counterparty"
    )
    cursor.execute(
        f"INSERT INTO {target} "
        "SELECT now(), now(), (ARRAY['prepayment','postpayment'])[1 + g % 2], s.status, "
        "extract(year FROM d)::int, 1000000 + g, (1000000 + g)::text, d, d + 5, '20', "
        "1200.00, 200.00, CASE s.status WHEN 'paid' THEN 1200.00 WHEN 'partially_paid' THEN 600.00 "
        "ELSE 0 END, 'Оплата по счёту № ' || g, 'not_needed', cp.id, "
        "(SELECT id FROM directory_organization ORDER BY id LIMIT 1) "
        f"FROM generate_series({have + 1}, {want}) g "
        "CROSS JOIN LATERAL (SELECT current_date - (g % 1800) AS d, "
        "(ARRAY['issued','paid','paid','partially_paid','cancelled'])[1 + g % 5] AS status) s "
        "JOIN bench_icp cp ON cp.n = 1 + (g::bigint * 104729) % (SELECT count(*) FROM bench_icp)",
    )
    cursor.execute("SET LOCAL session_replication_role = origin")
    _undefault(cursor)


def ensure_lists_scale(rows: int = ROWS) -> dict:
    """At least ``rows`` counterparties, deals and invoices in the bench database."""
    from django.db import connection, transaction

    from arenda.billing.models import Invoice
    from arenda.crm.models import Deal
    from arenda.directory.models import Counterparty

    done = {}
    for model, top_up in (
        (Counterparty, _top_up_counterparties),
        (Deal, _top_up_deals),
        (Invoice, _top_up_invoices),
    ):
        have = model.objects.count()
        if have < rows:
            with transaction.atomic(), connection.cursor() as cursor:
                top_up(cursor, have, rows)
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {model._meta.db_table}")
        done[model._meta.db_table] = model.objects.count()
    return done


# --- the measures -------------------------------------------------------------------------------
# list → (URL, {case: query string}, {case: the floor's SQL: the same page's rows})
def _word(table: str, own: str, word: str) -> str:
    """The rows whose own field or counterparty's name (or INN) holds the word: the union
    the search makes (``arenda/core/search.py``)."""
    inn = f" OR c.inn LIKE '%{word}%'" if word.isdigit() else ""
    return (
        f"SELECT id FROM {table} WHERE UPPER({own}) LIKE '%{word}%' UNION ALL "
        f"SELECT t.id FROM {table} t JOIN directory_counterparty c ON c.id = t.counterparty_id "
        f"WHERE UPPER(c.name) LIKE '%{word}%'{inn}"
    )


CP_COLUMNS = "c.id, c.name, c.kind, c.inn, c.phone, c.email"
CASES = {
    "counterparties": (
        "/directory/counterparties/",
        {"first page": "", "search": "q=Гранит 4242", "filter": "kind=sole_trader"},
        {
            "first page": f"SELECT {CP_COLUMNS} FROM directory_counterparty c ORDER BY c.name, c.id LIMIT 50",
            "search": f"SELECT {CP_COLUMNS} FROM directory_counterparty c "
            "WHERE UPPER(c.name) LIKE '%ГРАНИТ%' AND UPPER(c.name) LIKE '%4242%' "
            "ORDER BY c.name, c.id LIMIT 50",
            "filter": f"SELECT {CP_COLUMNS} FROM directory_counterparty c WHERE c.kind = 'sole_trader' "
            "ORDER BY c.name, c.id LIMIT 50",
        },
    ),
    "deals": (
        "/deals/",
        {"first page": "", "search": "q=Гранит 4242", "filter": "stage=proposal"},
        {
            "first page": "SELECT d.id, d.title, d.stage, c.name FROM crm_deal d "
            "JOIN directory_counterparty c ON c.id = d.counterparty_id "
            "ORDER BY d.created_at DESC, d.id DESC LIMIT 50",
            "search": "SELECT d.id, d.title, d.stage, c.name FROM crm_deal d "
            "JOIN directory_counterparty c ON c.id = d.counterparty_id "
            f"WHERE d.id IN ({_word('crm_deal', 'title', 'ГРАНИТ')}) "
            f"AND d.id IN ({_word('crm_deal', 'title', '4242')}) "
            "ORDER BY d.created_at DESC, d.id DESC LIMIT 50",
            "filter": "SELECT d.id, d.title, d.stage, c.name FROM crm_deal d "
            "JOIN directory_counterparty c ON c.id = d.counterparty_id WHERE d.stage = 'proposal' "
            "ORDER BY d.created_at DESC, d.id DESC LIMIT 50",
        },
    ),
    "invoices": (
        "/invoices/",
        {"first page": "", "search": "q=Гранит 4242", "filter": "status=issued"},
        {
            "first page": "SELECT i.id, i.number, i.date, i.total, c.name FROM billing_invoice i "
            "JOIN directory_counterparty c ON c.id = i.counterparty_id "
            "ORDER BY i.date DESC NULLS FIRST, i.sequence DESC, i.id DESC LIMIT 50",
            "search": "SELECT i.id, i.number, i.date, i.total, c.name FROM billing_invoice i "
            "JOIN directory_counterparty c ON c.id = i.counterparty_id "
            f"WHERE i.id IN ({_word('billing_invoice', 'number', 'ГРАНИТ')}) "
            f"AND i.id IN ({_word('billing_invoice', 'number', '4242')}) "
            "ORDER BY i.date DESC NULLS FIRST, i.sequence DESC, i.id DESC LIMIT 50",
            "filter": "SELECT i.id, i.number, i.date, i.total, c.name FROM billing_invoice i "
            "JOIN directory_counterparty c ON c.id = i.counterparty_id WHERE i.status = 'issued' "
            "ORDER BY i.date DESC NULLS FIRST, i.sequence DESC, i.id DESC LIMIT 50",
        },
    ),
}


def _time(call, samples: int) -> list[float]:
    call()  # warm: templates, the plan cache
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _floor(sql: str, samples: int) -> list[float]:
    import psycopg

    from bench.common import BENCH_DATABASE_URL

    with psycopg.connect(BENCH_DATABASE_URL) as conn:
        return _time(lambda: conn.execute(sql).fetchall(), samples)


def run(samples: int = SAMPLES) -> list[Measure]:
    from django.test import Client

    from arenda.core.models import User

    facts = ensure_lists_scale()
    report("lists: rows", list(facts.items()))
    client = Client()
    client.force_login(User.objects.get(username="accountant"))
    measures = []
    for name, (url, cases, floors) in CASES.items():
        for case, query in cases.items():
            target = f"{url}?{query}" if query else url

            def page(target=target):
                response = client.get(target)
                assert response.status_code == 200, (target, response.status_code)

            took = summary(_time(page, samples))
            floor = summary(_floor(floors[case], samples))
            measures.append(
                Measure(
                    name=f"lists: {name}, {case} p50",
                    value=took["p50_ms"],
                    target=TARGET_MS,
                    floor=floor["p50_ms"],
                    note=f"p95 {took['p95_ms']} ms; floor p95 {floor['p95_ms']} ms",
                )
            )
    report(
        "lists (ms: page p50 / p95, raw-SQL floor p50)",
        [
            (m.name, f"{m.value} / {m.note}; floor {m.floor}; {'met' if m.met else 'NOT met'}")
            for m in measures
        ],
    )
    return measures
