"""The trip page's idempotency key under two requests at once: one report (PostgreSQL: the
booking's row lock serialises them, the unique key stands behind it)."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from arenda.bookings import trip_reports
from arenda.bookings.models import Booking, DriverReport, DriverReportPhoto
from tests.bookings.test_trip_page import jpeg_bytes, trip_booking, waybill_data
from tests.factories import OrganizationFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_the_same_key_at_once_makes_one_report():
    OrganizationFactory()
    booking = trip_booking()
    raw = waybill_data(booking)
    start = booking.start
    data = {
        "number": raw["number"],
        "started_at": start,
        "finished_at": start + timedelta(hours=3),
        "hours": Decimal("3"),
        "odometer_start": Decimal("1000"),
        "odometer_end": Decimal("1042"),
        "downtime_hours": Decimal("0.5"),
    }
    barrier = threading.Barrier(4)
    outcomes = []

    def worker():
        try:
            barrier.wait()
            photo = SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg")
            submitted = trip_reports.report_submit(
                booking=Booking.objects.get(pk=booking.pk), data=dict(data), photos=[photo], key="twice"
            )
            outcomes.append((submitted.report.pk, submitted.created))
        except Exception as exc:  # anything else fails the test
            outcomes.append(f"error: {exc!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not [o for o in outcomes if isinstance(o, str)], outcomes
    assert len({pk for pk, _created in outcomes}) == 1
    assert sorted(created for _pk, created in outcomes) == [False, False, False, True]
    assert DriverReport.objects.count() == 1 and DriverReportPhoto.objects.count() == 1
