"""A trip's telematics evidence end to end, against each platform's fake (Wialon and
ISO 15143-3 run the same tests): the waybill recorded, the tracker read after it, the
discrepancy flagged beyond the tolerance, the suggestion accepted into a waybill correction
that grows the overtime invoice by exactly the suggested hours, or dismissed with a reason;
a platform that fails leaves the waybill recorded and the evidence pending until a retry."""

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from arenda.bookings import telematics
from arenda.bookings.models import TripEvidence
from arenda.flows.telematics import suggestion_accept
from arenda.flows.trips import waybill_record, waybill_update
from arenda.integrations.telematics.fake_aemp import FakeAemp
from arenda.integrations.telematics.fake_wialon import FakeWialon
from tests.bookings.test_waybills import job, sheet

D = Decimal
SITE = (D("55.812300"), D("37.498700"))
PLATFORMS = {
    "wialon": (FakeWialon, "734455", "wialon-test-token"),
    "aemp": (FakeAemp, "AEMP-1001", "aemp-test-token"),
}

pytestmark = pytest.mark.django_db


class Platform:
    def __init__(self, name, fake, unit_id):
        self.name, self.fake, self.unit_id = name, fake, unit_id

    def trip(self, start, *, work_hours, drive_to_minutes=30, drive_back_minutes=30):
        key = int(self.unit_id) if self.unit_id.isdigit() else self.unit_id
        self.fake.add_trip(
            key,
            start,
            drive_to_minutes=drive_to_minutes,
            work_hours=work_hours,
            drive_back_minutes=drive_back_minutes,
            site=tuple(float(x) for x in SITE),
        )

    def fail(self, how, times=1):
        import httpx

        httpx.post(f"{self.fake.url}/_control", json={"fail": how, "times": times, "delay": 2}, timeout=5)


@pytest.fixture(params=sorted(PLATFORMS))
def platform(request, settings):
    cache.clear()
    kind, unit_id, token = PLATFORMS[request.param]
    fake = kind("127.0.0.1", 0)
    fake.start()
    settings.TELEMATICS_TIMEOUT = 1
    if request.param == "wialon":
        settings.WIALON_API_URL, settings.WIALON_TOKEN = fake.url, token
    else:
        settings.AEMP_API_URL, settings.AEMP_TOKEN = fake.url, token
    yield Platform(request.param, fake, unit_id)
    fake.stop()
    cache.clear()


def tracked_job(platform, **kw):
    booking = job(**kw)
    booking.site_lat, booking.site_lon = SITE
    booking.save()
    unit = booking.unit
    unit.tracker_provider, unit.tracker_id = platform.name, platform.unit_id
    unit.save()
    return booking


def record(booking, hours="9", span=9):
    return waybill_record(
        booking=booking, data=sheet(booking, hours=hours, span=span), by=booking.deal.manager
    ).waybill


def read(waybill) -> TripEvidence:
    """What the task does after the commit."""
    return telematics.fetch(TripEvidence.objects.get(waybill=waybill).pk)


def seven_in_the_morning(booking):
    return timezone.localtime(booking.start).replace(hour=7)


def overtime_billed(booking):
    sums = (
        booking.invoices.filter(is_overtime=True)
        .exclude(status="cancelled")
        .aggregate(h=Sum("billed_hours"), total=Sum("total"))
    )
    return sums["h"] or D(0), sums["total"] or D(0)


def test_a_trip_the_tracker_shows_longer_is_flagged_and_the_accepted_suggestion_grows_the_overtime_by_it(
    platform,
):
    booking = tracked_job(platform, min_hours="4", rate="3500.00")
    # 30 min to the site, 10.2 h there, 30 min back: 11.2 engine hours from 7:00
    platform.trip(seven_in_the_morning(booking), work_hours=10.2)
    waybill = record(booking, hours="9")
    evidence = TripEvidence.objects.get(waybill=waybill)
    assert evidence.status == TripEvidence.Status.PENDING  # read after the commit, not before

    evidence = read(waybill)
    assert evidence.status == TripEvidence.Status.READY
    assert evidence.engine_hours == D("11.20")
    assert evidence.hours_on_site == pytest.approx(D("10.2"), abs=D("0.1"))
    assert evidence.distance_km > 0 and evidence.first_movement is not None
    assert evidence.flagged and evidence.open_discrepancy
    assert evidence.suggested_hours == D("2.20")
    assert len(evidence.track) > 10

    hours_before, total_before = overtime_billed(booking)
    assert hours_before == D("9")
    result = suggestion_accept(evidence=evidence, by=booking.deal.manager)

    waybill.refresh_from_db()
    assert waybill.hours == D("11.20")
    assert "По данным трекера: +2,2 ч." in waybill.notes  # in the company's language
    hours_after, total_after = overtime_billed(booking)
    assert hours_after - hours_before == D("2.20")
    assert total_after - total_before == D("7700.00")  # 2.2 h × 3 500 ₽
    assert result.overtime_invoice is not None
    evidence.refresh_from_db()
    assert evidence.decision == TripEvidence.Decision.ACCEPTED
    assert not evidence.flagged and not evidence.open_discrepancy  # the waybill now agrees
    with pytest.raises(ValidationError):  # taken once
        suggestion_accept(evidence=evidence, by=booking.deal.manager)
    assert overtime_billed(booking)[0] == hours_after


def test_a_trip_within_the_tolerance_is_not_flagged(platform):
    booking = tracked_job(platform)
    platform.trip(seven_in_the_morning(booking), work_hours=8.3)  # 9.3 engine hours, tolerance 0.5
    evidence = read(record(booking, hours="9"))
    assert evidence.status == TripEvidence.Status.READY
    assert evidence.engine_hours == D("9.30")
    assert not evidence.flagged and evidence.suggested_hours is None


@pytest.mark.parametrize("failure", ["500", "timeout"])
def test_a_platform_that_fails_leaves_the_waybill_recorded_and_the_evidence_pending_until_the_retry(
    platform, failure
):
    booking = tracked_job(platform)
    platform.trip(seven_in_the_morning(booking), work_hours=10.2)
    platform.fail(failure, times=3)
    waybill = record(booking, hours="9")
    evidence = read(waybill)
    assert waybill.pk and booking.waybills.count() == 1
    assert evidence.status == TripEvidence.Status.PENDING
    assert evidence.attempts == 1 and evidence.last_error
    assert evidence.engine_hours is None  # missing, not zero
    assert evidence.next_attempt_at > timezone.now()
    assert telematics.fetch_due() == 0  # not yet

    platform.fail("none", times=0)
    TripEvidence.objects.filter(pk=evidence.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert telematics.fetch_due() == 1
    evidence.refresh_from_db()
    assert evidence.status == TripEvidence.Status.READY and evidence.last_error == ""
    assert evidence.engine_hours == D("11.20") and evidence.flagged


def test_retries_give_up_with_the_reason(platform, monkeypatch):
    monkeypatch.setattr(telematics, "RETRY_MINUTES", (1, 5))
    booking = tracked_job(platform)
    platform.fail("500", times=10)
    waybill = record(booking)
    for _attempt in range(3):
        TripEvidence.objects.filter(waybill=waybill).update(next_attempt_at=timezone.now())
        telematics.fetch_due()
    evidence = TripEvidence.objects.get(waybill=waybill)
    assert evidence.status == TripEvidence.Status.FAILED and evidence.attempts == 3
    assert "500" in evidence.last_error and evidence.next_attempt_at is None
    telematics.evidence_retry(evidence=evidence)  # a person asks again
    platform.fail("none", times=0)
    assert telematics.fetch(evidence.pk).status == TripEvidence.Status.READY


def test_no_messages_in_the_window_is_missing_not_zero(platform):
    booking = tracked_job(platform)
    evidence = read(record(booking))
    assert evidence.status == TripEvidence.Status.READY and evidence.samples == 0
    assert evidence.engine_hours is None and evidence.hours_on_site is None and evidence.distance_km is None
    assert not evidence.flagged


def test_a_dismissed_suggestion_keeps_its_reason_and_stays_dismissed_on_the_next_read(platform):
    booking = tracked_job(platform)
    platform.trip(seven_in_the_morning(booking), work_hours=10.2)
    waybill = record(booking, hours="9")
    evidence = read(waybill)
    with pytest.raises(ValidationError) as error:
        telematics.suggestion_dismiss(evidence=evidence, reason="  ", by=booking.deal.manager)
    assert "reason" in error.value.message_dict
    telematics.suggestion_dismiss(
        evidence=evidence, reason="Прогрев зимой по договору не оплачивается", by=booking.deal.manager
    )
    telematics.evidence_retry(evidence=evidence)
    evidence = telematics.fetch(evidence.pk)
    assert evidence.flagged and not evidence.open_discrepancy
    assert evidence.decision == TripEvidence.Decision.DISMISSED
    assert evidence.decision_reason.startswith("Прогрев")
    assert overtime_billed(booking)[0] == D("9")  # nothing billed without a decision to bill


def test_a_correction_compares_again_without_reading_the_same_window_again(platform):
    booking = tracked_job(platform)
    platform.trip(seven_in_the_morning(booking), work_hours=10.2)
    waybill = record(booking, hours="9", span=11)
    evidence = read(waybill)
    fetched_at = evidence.fetched_at
    waybill_update(waybill=waybill, data={"hours": D("11")}, by=booking.deal.manager)
    evidence.refresh_from_db()
    assert evidence.status == TripEvidence.Status.READY and evidence.fetched_at == fetched_at
    assert not evidence.flagged  # 11 against 11.2: within 0.5
    # a new time span is a new window: read again
    waybill_update(
        waybill=waybill,
        data={"started_at": waybill.started_at - timedelta(hours=1)},
        by=booking.deal.manager,
    )
    evidence.refresh_from_db()
    assert evidence.status == TripEvidence.Status.PENDING


def test_the_nightly_read_arms_yesterdays_trips(platform):
    booking = tracked_job(platform)
    platform.trip(seven_in_the_morning(booking), work_hours=10.2)
    waybill = record(booking, hours="9")
    TripEvidence.objects.filter(waybill=waybill).delete()  # as if the hook had been missed
    assert telematics.fetch_yesterday() == 1
    assert telematics.fetch_due() == 1
    assert TripEvidence.objects.get(waybill=waybill).flagged


def test_a_unit_without_a_tracker_has_no_evidence():
    booking = job()
    waybill = waybill_record(booking=booking, data=sheet(booking), by=booking.deal.manager).waybill
    assert not TripEvidence.objects.filter(waybill=waybill).exists()


def test_a_platform_not_configured_fails_at_once_with_the_reason(settings):
    settings.WIALON_API_URL = ""
    booking = job()
    booking.unit.tracker_provider, booking.unit.tracker_id = "wialon", "1"
    booking.unit.save()
    waybill = waybill_record(booking=booking, data=sheet(booking), by=booking.deal.manager).waybill
    evidence = read(waybill)
    assert evidence.status == TripEvidence.Status.FAILED and "not configured" in evidence.last_error


def test_a_read_claimed_by_one_worker_is_left_alone_by_another(platform):
    booking = tracked_job(platform)
    platform.trip(seven_in_the_morning(booking), work_hours=10.2)
    evidence = TripEvidence.objects.get(waybill=record(booking, hours="9"))
    assert telematics._claim(evidence.pk) is True
    assert telematics._claim(evidence.pk) is False  # the other worker, meanwhile
    assert telematics.fetch_due() == 0
    sent = len(httpx.get(f"{platform.fake.url}/_sent", timeout=5).json()["calls"])
    telematics.fetch(evidence.pk)
    assert len(httpx.get(f"{platform.fake.url}/_sent", timeout=5).json()["calls"]) > sent


def test_a_site_moved_on_the_booking_reads_the_time_on_site_again(platform):
    from arenda.bookings.services import booking_update

    booking = tracked_job(platform)
    platform.trip(seven_in_the_morning(booking), work_hours=10.2)
    evidence = read(record(booking, hours="9"))
    assert evidence.hours_on_site > 10
    booking_update(booking=booking, by=booking.deal.manager, site_lat=D("55.700000"), site_lon=D("37.700000"))
    evidence.refresh_from_db()
    assert evidence.status == TripEvidence.Status.PENDING
    evidence = telematics.fetch(evidence.pk)
    assert evidence.hours_on_site == D("0") and evidence.engine_hours == D("11.20")
