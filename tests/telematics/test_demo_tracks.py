"""``manage.py demo_telematics`` gives the fakes of ``make run`` the demo's trips: a tracked
unit's waybill finds its track, and the trip's evidence is armed and reads it."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import call_command

from arenda.bookings import telematics
from arenda.bookings.models import TripEvidence
from arenda.integrations.telematics.fake_wialon import FakeWialon
from tests.bookings.test_waybills import job, sheet

pytestmark = pytest.mark.django_db


@pytest.fixture
def wialon(settings):
    cache.clear()
    fake = FakeWialon("127.0.0.1", 0)
    fake.start()
    settings.WIALON_API_URL, settings.WIALON_TOKEN, settings.AEMP_API_URL = fake.url, "wialon-test-token", ""
    yield fake
    fake.stop()
    cache.clear()


def test_the_demo_trips_reach_the_fake_and_the_evidence_reads_them(wialon, capsys):
    from arenda.flows.trips import waybill_record

    booking = job()
    booking.site_lat, booking.site_lon = Decimal("55.8123"), Decimal("37.4987")
    booking.save()
    waybill = waybill_record(booking=booking, data=sheet(booking, hours="9"), by=booking.deal.manager).waybill
    TripEvidence.objects.all().delete()  # the unit had no tracker when the demo recorded it
    booking.unit.tracker_provider, booking.unit.tracker_id = "wialon", "734455"
    booking.unit.save()
    call_command("demo_telematics")
    assert "1 trips given to the fakes, 1 evidences armed" in capsys.readouterr().out
    evidence = telematics.fetch(TripEvidence.objects.get(waybill=waybill).pk)
    assert evidence.status == TripEvidence.Status.READY and evidence.engine_hours is not None
    assert evidence.hours_on_site is not None and evidence.hours_on_site > 0
