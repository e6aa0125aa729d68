"""The "owed on a date" index of 0004 on the expression the receivables report really asks.

0004's ``GREATEST(settled_on, date)`` ignores a NULL (an invoice still owed got an empty
range), and the report must use ``&&`` with a one-day range: PostgreSQL rewrites
``range @> d`` into two comparisons no expression index matches. The expression below is
``arenda.billing.selectors.OWED_RANGE_SQL`` without the table prefix; a NULL upper bound
is an unbounded range (still owed)."""

from django.db import migrations

EXPRESSION = "daterange(date, CASE WHEN settled_on < date THEN date ELSE settled_on END, '[)')"
CREATE = (
    f"CREATE INDEX invoice_owed_range_idx ON billing_invoice USING gist ({EXPRESSION}) "
    "WHERE status NOT IN ('draft', 'cancelled')"
)
OLD = (
    "CREATE INDEX invoice_owed_range_idx ON billing_invoice "
    "USING gist (daterange(date, GREATEST(settled_on, date), '[)')) "
    "WHERE status NOT IN ('draft', 'cancelled')"
)


def _replace_with(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute("DROP INDEX IF EXISTS invoice_owed_range_idx")
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_invoice_settled_on")]

    operations = [migrations.RunPython(_replace_with(CREATE), _replace_with(OLD), elidable=False)]
