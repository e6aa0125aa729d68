"""A trip's telematics evidence (docs/telematics.md): what the unit's tracker says of a
waybill's trip, read from its platform (``integrations/telematics``) and compared with the
waybill.

- **When**: a waybill recorded or corrected arms its evidence (``evidence_arm``, inside the
  waybill's transaction); the read runs after the commit, as a task — a platform that is
  down or slow never holds up the waybill. A read that fails worth retrying is tried again
  on a back-off (``RETRY_MINUTES``, the ``telematics.fetch_due`` job), then given up with
  the reason. Every night the previous day's trips are read again (late messages).
- **The window**: the trip's — the waybill's start to finish joined with the booking's hours
  that day — widened by the company's margin, never into the unit's previous or next trip.
- **The figures** (``integrations/telematics/evidence.py``): engine hours, distance, first
  and last movement, ignition time, time within the site's radius. Missing stays missing.
- **The discrepancy**: the waybill's hours against the engine hours (without an hour
  counter, the time on site) beyond the company's tolerance; for a booking billed by the
  kilometre, its km against the distance too. Where the tracker shows more, the difference
  is suggested; a person accepts it (``flows/telematics.py``) or dismisses it with a reason.
  Nothing is billed by this module.
"""

import logging
import re
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from arenda.bookings.models import Booking, TripEvidence, Waybill
from arenda.core.formats import format_number
from arenda.core.models import CompanySettings
from arenda.core.services import locked
from arenda.integrations.telematics import evidence as arithmetic
from arenda.integrations.telematics import providers
from arenda.integrations.telematics.base import Sample, TelematicsError

log = logging.getLogger(__name__)

# Minutes to wait after the 1st, 2nd, … failed read; then the evidence is given up.
RETRY_MINUTES = (1, 5, 15, 60, 180, 360, 720)
TRACK_POINTS = 240
LEASE = timedelta(minutes=10)  # a claimed read is left alone this long (see ``_claim``)
HOURS_STEP = Decimal("0.01")
KM_STEP = Decimal("0.1")


def tracked(unit) -> bool:
    return unit is not None and bool(unit.tracker_provider and unit.tracker_id)


def site_of(booking: Booking) -> tuple[float, float] | None:
    if booking.site_lat is None or booking.site_lon is None:
        return None
    return float(booking.site_lat), float(booking.site_lon)


# --- the site's coordinates, from a map link or typed ------------------------------------------
_PAIR = r"(-?\d{1,3}(?:\.\d+)?)\s*(?:,|%2C|\s)\s*(-?\d{1,3}(?:\.\d+)?)"
# (pattern, order): Yandex and 2GIS write longitude first; Google, OSM and people latitude first.
_LINK_PATTERNS = (
    (re.compile(r"[?&](?:pt|whatshere%5Bpoint%5D|whatshere\[point\])=" + _PAIR), "lonlat"),
    (re.compile(r"[?&]ll=" + _PAIR), "lonlat"),
    (re.compile(r"2gis\.[a-z]+/.*?[?&]m=" + _PAIR), "lonlat"),
    (re.compile(r"[?&](?:q|query|destination)=" + _PAIR), "latlon"),
    (re.compile(r"@" + _PAIR), "latlon"),
    (re.compile(r"[?&]mlat=(-?\d{1,3}(?:\.\d+)?)&mlon=(-?\d{1,3}(?:\.\d+)?)"), "latlon"),
    (re.compile(r"#map=\d+/" + r"(-?\d{1,3}(?:\.\d+)?)/(-?\d{1,3}(?:\.\d+)?)"), "latlon"),
)
_PLAIN = re.compile(r"^\s*" + _PAIR + r"\s*$")


def parse_site(text: str) -> tuple[Decimal, Decimal] | None:
    """(latitude, longitude) from a Yandex, Google, 2GIS or OpenStreetMap link or from
    «55.7512, 37.6184»; None for an empty text; ValueError when it holds no coordinates."""
    text = (text or "").strip()
    if not text:
        return None
    found = None
    match = _PLAIN.match(text.replace(";", ","))
    if match:
        found = match.group(1), match.group(2)
    else:
        for pattern, order in _LINK_PATTERNS:
            match = pattern.search(text)
            if match:
                first, second = match.group(1), match.group(2)
                found = (second, first) if order == "lonlat" else (first, second)
                break
    if found is None:
        raise ValueError("no coordinates")
    try:
        lat, lon = (Decimal(value).quantize(Decimal("0.000001")) for value in found)
    except InvalidOperation:
        raise ValueError("no coordinates")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        raise ValueError("out of range")
    return lat, lon


# --- the window ------------------------------------------------------------------------------------
def window_of(waybill: Waybill, booking: Booking, *, margin_minutes: int) -> tuple[datetime, datetime]:
    """The trip's window with the margins, kept clear of the unit's neighbouring trips."""
    day = timezone.localdate(waybill.started_at)
    day_start = timezone.make_aware(datetime.combine(day, time.min))
    day_end = day_start + timedelta(days=1)
    start, end = waybill.started_at, waybill.finished_at
    booked_from, booked_to = max(booking.start, day_start), min(booking.end, day_end)
    if booked_from < booked_to:  # the booking's hours that day
        start, end = min(start, booked_from), max(end, booked_to)
    margin = timedelta(minutes=margin_minutes)
    start, end = start - margin, end + margin
    neighbours = Waybill.objects.filter(unit_id=waybill.unit_id).exclude(pk=waybill.pk)
    before = (
        neighbours.filter(finished_at__lte=waybill.started_at)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    after = (
        neighbours.filter(started_at__gte=waybill.finished_at)
        .order_by("started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    if before is not None:
        start = max(start, before)
    if after is not None:
        end = min(end, after)
    return start, end


# --- arming and reading ----------------------------------------------------------------------------
def evidence_arm(waybill: Waybill, *, read_again: bool = False) -> TripEvidence | None:
    """A waybill was recorded or corrected (inside its transaction): make or renew its
    evidence. A new window (or tracker) is read again after the commit; the same window
    already read is only compared with the corrected waybill again."""
    booking = waybill.booking
    if waybill.unit_id is None:
        return None
    # the booking's unit is loaded already (the waybill's write reads it): no query here
    unit = booking.unit if booking.unit_id == waybill.unit_id else waybill.unit
    if not tracked(unit):
        return None
    settings_row = CompanySettings.current()
    start, end = window_of(waybill, booking, margin_minutes=settings_row.telematics_margin_minutes)
    evidence = TripEvidence.objects.select_for_update(of=("self",)).filter(waybill=waybill).first()
    same = evidence is not None and (
        evidence.window_start,
        evidence.window_end,
        evidence.provider,
        evidence.tracker_id,
        evidence.unit_id,
    ) == (start, end, unit.tracker_provider, unit.tracker_id, unit.pk)
    if evidence is not None and evidence.fetched_at is not None:  # the figures in hand, meanwhile
        evaluate(evidence, waybill=waybill, booking=booking, settings_row=settings_row)
    if same and evidence.status == TripEvidence.Status.READY and not read_again:
        evidence.save()
        return evidence
    if evidence is None:
        evidence = TripEvidence(waybill=waybill, booking=booking)
    evidence.unit = unit
    evidence.provider, evidence.tracker_id = unit.tracker_provider, unit.tracker_id
    evidence.window_start, evidence.window_end = start, end
    return _rearm(evidence)


def _rearm(evidence: TripEvidence) -> TripEvidence:
    """Waiting for the tracker again: saved, and read by a task once the caller commits."""
    evidence.status = TripEvidence.Status.PENDING
    evidence.attempts, evidence.next_attempt_at, evidence.last_error = 0, timezone.now(), ""
    evidence.save()
    pk = evidence.pk
    transaction.on_commit(lambda: fetch_evidence_task.enqueue(pk))
    return evidence


def _thinned(samples: list[Sample]) -> list[list[float]]:
    points = [[round(s.lat, 6), round(s.lon, 6)] for s in samples if s.lat is not None and s.lon is not None]
    if len(points) <= TRACK_POINTS:
        return points
    step = (len(points) - 1) / (TRACK_POINTS - 1)
    return [points[round(i * step)] for i in range(TRACK_POINTS)]


def _decimal(value, step: Decimal) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(step)


def fetch(evidence_id: int) -> TripEvidence | None:
    """Read one armed evidence from its platform (no transaction is held while the platform
    answers). A fresher arming meanwhile wins: this read is then dropped."""
    evidence = TripEvidence.objects.select_related("booking", "waybill").filter(pk=evidence_id).first()
    if evidence is None or evidence.status != TripEvidence.Status.PENDING:
        return evidence
    asked = (evidence.window_start, evidence.window_end, evidence.provider, evidence.tracker_id)
    settings_row = CompanySettings.current()
    try:
        samples = providers.provider(evidence.provider).track(
            evidence.tracker_id, evidence.window_start, evidence.window_end
        )
    except TelematicsError as exc:
        return _failed(evidence_id, asked, exc)
    except Exception as exc:  # an adapter's bug must not leave the evidence pending forever
        log.exception("telematics read of evidence %s failed", evidence_id)
        return _failed(evidence_id, asked, TelematicsError(f"{type(exc).__name__}: {exc}", retry=True))
    summary = arithmetic.summarize(
        samples, site=site_of(evidence.booking), radius_m=settings_row.telematics_site_radius_m
    )
    with transaction.atomic():
        evidence = locked(TripEvidence, evidence_id)
        if (evidence.window_start, evidence.window_end, evidence.provider, evidence.tracker_id) != asked:
            return evidence
        evidence.status = TripEvidence.Status.READY
        evidence.attempts += 1
        evidence.next_attempt_at, evidence.last_error = None, ""
        evidence.fetched_at = timezone.now()
        evidence.samples = summary.samples
        evidence.engine_hours = _decimal(summary.engine_hours, HOURS_STEP)
        evidence.distance_km = _decimal(summary.distance_km, KM_STEP)
        evidence.first_movement, evidence.last_movement = summary.first_movement, summary.last_movement
        evidence.ignition_hours = _decimal(summary.ignition_hours, HOURS_STEP)
        evidence.hours_on_site = _decimal(summary.hours_on_site, HOURS_STEP)
        evidence.track = _thinned(samples)
        waybill = Waybill.objects.get(pk=evidence.waybill_id)
        booking = Booking.objects.get(pk=evidence.booking_id)
        evaluate(evidence, waybill=waybill, booking=booking, settings_row=settings_row)
        evidence.save()
    return evidence


def _failed(evidence_id: int, asked: tuple, exc: TelematicsError) -> TripEvidence:
    with transaction.atomic():
        evidence = locked(TripEvidence, evidence_id)
        if (evidence.window_start, evidence.window_end, evidence.provider, evidence.tracker_id) != asked:
            return evidence
        evidence.attempts += 1
        evidence.last_error = exc.message[:1000]
        if exc.retry and evidence.attempts <= len(RETRY_MINUTES):
            wait = RETRY_MINUTES[evidence.attempts - 1]
            evidence.next_attempt_at = timezone.now() + timedelta(minutes=wait)
        else:
            evidence.status, evidence.next_attempt_at = TripEvidence.Status.FAILED, None
        evidence.save(update_fields=["attempts", "last_error", "next_attempt_at", "status", "updated_at"])
    log.warning("telematics read of evidence %s failed: %s", evidence_id, exc.message)
    return evidence


def _claim(evidence_id: int) -> bool:
    """Take an armed evidence whose time has come for this worker: its next attempt moves a
    lease ahead, so another worker (or the next run of the job) leaves it alone meanwhile."""
    now = timezone.now()
    return bool(
        TripEvidence.objects.filter(
            pk=evidence_id, status=TripEvidence.Status.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=now + LEASE)
    )


def fetch_due(limit: int = 50) -> int:
    """Read every armed evidence whose time has come (the first read's task lost, or a retry)."""
    due = TripEvidence.objects.filter(
        status=TripEvidence.Status.PENDING, next_attempt_at__lte=timezone.now()
    ).order_by("next_attempt_at", "pk")
    done = 0
    for pk in list(due.values_list("pk", flat=True)[:limit]):
        if _claim(pk):
            fetch(pk)
            done += 1
    return done


def fetch_yesterday() -> int:
    """The previous day's trips read again (a tracker's late messages; a trip whose evidence
    was never armed). Decisions already taken stay unless the suggestion changes."""
    today = timezone.localdate()
    start = timezone.make_aware(datetime.combine(today - timedelta(days=1), time.min))
    trips = (
        Waybill.objects.filter(started_at__gte=start, started_at__lt=start + timedelta(days=1))
        .exclude(Q(unit__tracker_provider="") | Q(unit__isnull=True))
        .values_list("pk", "booking_id")
    )
    armed = 0
    for waybill_id, booking_id in list(trips):
        with transaction.atomic():
            locked(Booking, booking_id)  # as a waybill's write does: one arming at a time
            waybill = Waybill.objects.select_related("booking__unit", "unit").get(pk=waybill_id)
            armed += evidence_arm(waybill, read_again=True) is not None
    return armed


@task()
def fetch_evidence_task(evidence_id: int):
    if _claim(evidence_id):
        fetch(evidence_id)


@task()
def fetch_due_task() -> int:
    return fetch_due()


@task()
def fetch_yesterday_task() -> int:
    return fetch_yesterday()


# --- the comparison ------------------------------------------------------------------------------------
def evaluate(evidence: TripEvidence, *, waybill: Waybill, booking: Booking, settings_row) -> None:
    """Flag the waybill against the figures and suggest what the tracker shows beyond it. A
    decision taken stays while the suggestion is the same; a new one asks again."""
    before = (evidence.suggested_hours, evidence.suggested_km)
    flagged, hours, km = False, None, None
    measure = evidence.engine_hours if evidence.engine_hours is not None else evidence.hours_on_site
    if measure is not None:
        difference = measure - waybill.hours
        if abs(difference) > settings_row.telematics_tolerance_hours:
            flagged = True
            hours = difference.quantize(HOURS_STEP) if difference > 0 else None
    if booking.rate_per_km > 0 and evidence.distance_km is not None:
        difference = evidence.distance_km - waybill.km
        if abs(difference) > settings_row.telematics_tolerance_km:
            flagged = True
            km = difference.quantize(KM_STEP) if difference > 0 else None
    evidence.flagged, evidence.suggested_hours, evidence.suggested_km = flagged, hours, km
    if flagged and evidence.decision and (hours, km) != before:
        evidence.decision, evidence.decision_reason = TripEvidence.Decision.OPEN, ""
        evidence.decided_by, evidence.decided_at = None, None


def suggestion_data(evidence: TripEvidence, waybill: Waybill, *, tolerance_minutes: int) -> dict:
    """The waybill correction that takes the suggestion: the hours (and km, unless the
    odometer decides them), the times stretched to the tracker's first and last movement
    and at least to the new hours, and a line in the notes."""
    if not evidence.open_discrepancy or not (evidence.suggested_hours or evidence.suggested_km):
        raise ValidationError(_("There is no open suggestion on this trip."))
    data: dict = {}
    hours = waybill.hours + (evidence.suggested_hours or 0)
    started, finished = waybill.started_at, waybill.finished_at
    if evidence.suggested_hours:
        data["hours"] = hours
        if evidence.first_movement and evidence.first_movement < started:
            started = evidence.first_movement
        if evidence.last_movement and evidence.last_movement > finished:
            finished = evidence.last_movement
        enough = timedelta(hours=float(hours)) - timedelta(minutes=tolerance_minutes)
        if finished - started < enough:
            finished = started + timedelta(hours=float(hours))
    km_taken = bool(evidence.suggested_km) and waybill.odometer_start is None
    if km_taken:
        data["km"] = waybill.km + evidence.suggested_km
    if not data:
        raise ValidationError(
            _("The odometer on the waybill decides its km: correct the odometer readings instead.")
        )
    if started != waybill.started_at:
        data["started_at"] = started
    if finished != waybill.finished_at:
        data["finished_at"] = finished
    with translation.override(settings.LANGUAGE_CODE):  # the waybill's note: the company's language
        parts = []
        if "hours" in data:
            parts.append(_("+%(hours)s h") % {"hours": format_number(evidence.suggested_hours)})
        if km_taken:
            parts.append(_("+%(km)s km") % {"km": format_number(evidence.suggested_km, 1)})
        line = _("By the tracker's data: %(what)s.") % {"what": ", ".join(parts)}
    data["notes"] = f"{waybill.notes}\n{line}".strip()
    return data


@transaction.atomic
def suggestion_dismiss(*, evidence: TripEvidence, reason: str, by) -> TripEvidence:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the suggestion is dismissed.")})
    evidence = locked(TripEvidence, evidence.pk)
    if not evidence.open_discrepancy:
        raise ValidationError(_("There is no open suggestion on this trip."))
    evidence.decision, evidence.decision_reason = TripEvidence.Decision.DISMISSED, reason[:2000]
    evidence.decided_by, evidence.decided_at = by, timezone.now()
    evidence.save()
    return evidence


def site_moved(booking: Booking) -> int:
    """The booking's site got (other) coordinates: its trips already read are read again,
    after the commit, for their time on site."""
    evidences = list(
        TripEvidence.objects.select_for_update()
        .filter(booking=booking)
        .exclude(status=TripEvidence.Status.PENDING)
    )
    for evidence in evidences:  # a booking's handful of trips
        _rearm(evidence)
    return len(evidences)


def evidence_retry(*, evidence: TripEvidence) -> TripEvidence:
    """A person asks for the read again (a failed or pending one, or fresh data)."""
    with transaction.atomic():
        return _rearm(locked(TripEvidence, evidence.pk))
