"""The database keeps two promises about invoices, on PostgreSQL and SQLite alike:
a non-draft invoice's total equals the sum of its lines, and the lines of a non-draft
invoice cannot be added or changed (on PostgreSQL not removed either; SQLite empties its
tables row by row when a test database is flushed, so there removal is the services')."""

from django.db import migrations

PG_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION billing_invoice_total_check() RETURNS trigger AS $$
    BEGIN
      IF NEW.status <> 'draft' AND NEW.total <> COALESCE(
           (SELECT SUM(amount) FROM billing_invoiceline WHERE invoice_id = NEW.id), 0) THEN
        RAISE EXCEPTION 'invoice % total % does not equal the sum of its lines', NEW.id, NEW.total
          USING ERRCODE = '23514';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql
    """,
    """CREATE TRIGGER billing_invoice_total BEFORE INSERT OR UPDATE ON billing_invoice
       FOR EACH ROW EXECUTE FUNCTION billing_invoice_total_check()""",
    """
    CREATE OR REPLACE FUNCTION billing_invoiceline_frozen() RETURNS trigger AS $$
    DECLARE invoice_status text;
    BEGIN
      SELECT status INTO invoice_status FROM billing_invoice
       WHERE id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.invoice_id ELSE NEW.invoice_id END);
      IF invoice_status IS NOT NULL AND invoice_status <> 'draft' THEN
        RAISE EXCEPTION 'the lines of an issued invoice are frozen' USING ERRCODE = '23514';
      END IF;
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql
    """,
    """CREATE TRIGGER billing_invoiceline_frozen BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
       FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_frozen()""",
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS billing_invoiceline_frozen ON billing_invoiceline",
    "DROP FUNCTION IF EXISTS billing_invoiceline_frozen()",
    "DROP TRIGGER IF EXISTS billing_invoice_total ON billing_invoice",
    "DROP FUNCTION IF EXISTS billing_invoice_total_check()",
]

# SQLite keeps decimals as numbers: compare the sum to half a kopeck.
_SUM = "(SELECT IFNULL(SUM(amount), 0) FROM billing_invoiceline WHERE invoice_id = NEW.id)"
SQLITE_FORWARD = [
    f"""CREATE TRIGGER billing_invoice_total_insert BEFORE INSERT ON billing_invoice
        WHEN NEW.status <> 'draft' AND ABS(NEW.total - {_SUM}) > 0.005
        BEGIN SELECT RAISE(ABORT, 'invoice total does not equal the sum of its lines'); END""",
    f"""CREATE TRIGGER billing_invoice_total_update BEFORE UPDATE ON billing_invoice
        WHEN NEW.status <> 'draft' AND ABS(NEW.total - {_SUM}) > 0.005
        BEGIN SELECT RAISE(ABORT, 'invoice total does not equal the sum of its lines'); END""",
    """CREATE TRIGGER billing_line_frozen_insert BEFORE INSERT ON billing_invoiceline
        WHEN (SELECT status FROM billing_invoice WHERE id = NEW.invoice_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'the lines of an issued invoice are frozen'); END""",
    """CREATE TRIGGER billing_line_frozen_update BEFORE UPDATE ON billing_invoiceline
        WHEN (SELECT status FROM billing_invoice WHERE id = OLD.invoice_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'the lines of an issued invoice are frozen'); END""",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "billing_invoice_total_insert",
        "billing_invoice_total_update",
        "billing_line_frozen_insert",
        "billing_line_frozen_update",
    )
]


def _run(pg, sqlite):
    def run(apps, schema_editor):
        statements = pg if schema_editor.connection.vendor == "postgresql" else sqlite
        # A plain cursor: the PL/pgSQL bodies hold "%" placeholders of RAISE, not ours.
        with schema_editor.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [
        migrations.RunPython(_run(PG_FORWARD, SQLITE_FORWARD), _run(PG_BACKWARD, SQLITE_BACKWARD), elidable=False)
    ]
