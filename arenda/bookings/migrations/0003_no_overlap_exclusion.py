"""On PostgreSQL the database itself refuses two active bookings of one unit, or of one
driver, whose busy ranges overlap. SQLite has no exclusion constraints: there the
service serialises writers with IMMEDIATE transactions (see services.booking_reserve)."""

from django.db import migrations

ACTIVE = "('reserved', 'confirmed', 'dispatched', 'completed')"

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""ALTER TABLE bookings_booking ADD CONSTRAINT booking_unit_no_overlap
        EXCLUDE USING gist (unit_id WITH =, tstzrange(start, busy_until, '[)') WITH &&)
        WHERE (unit_id IS NOT NULL AND status IN {ACTIVE})""",
    f"""ALTER TABLE bookings_booking ADD CONSTRAINT booking_driver_no_overlap
        EXCLUDE USING gist (driver_id WITH =, tstzrange(start, busy_until, '[)') WITH &&)
        WHERE (driver_id IS NOT NULL AND status IN {ACTIVE})""",
]
BACKWARD = [
    "ALTER TABLE bookings_booking DROP CONSTRAINT IF EXISTS booking_unit_no_overlap",
    "ALTER TABLE bookings_booking DROP CONSTRAINT IF EXISTS booking_driver_no_overlap",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("bookings", "0002_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
