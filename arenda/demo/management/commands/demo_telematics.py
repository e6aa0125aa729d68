"""``manage.py demo_telematics``: the fakes of ``make run`` are given the tracks of the
demo's tracked units (docs/telematics.md) — for every waybill of such a unit a trip that
agrees with it or, for some, shows more (or less) work; for a job of the last days that has
no waybill yet, the trip as it went (a little longer than ordered), so a waybill recorded in
the demo finds its track — and a trip without an evidence yet is armed (the worker reads
it). Deterministic; run on every start, the fakes being new each time."""

from datetime import timedelta

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from arenda.bookings import telematics
from arenda.bookings.models import Booking, TripEvidence, Waybill

# What the tracker shows beyond the waybill's hours, by the waybill's id: mostly agreeing,
# sometimes a forgotten overtime, once in a while less than written.
DELTAS = [0, 0.1, -0.2, 0.3, 0, 2.2, 0.2, -0.1, 1.5, 0, 0.4, -1.2, 0, 0.1, 3.0, -0.3]
DRIVE_MINUTES = 30
RECENT_DAYS = 3
MOSCOW = (55.7512, 37.6184)


def _trip(unit, start, *, hours: float, km, site) -> dict:
    # the drive there and back makes the km (the fakes drive at 40 km/h)
    drive = float(km) / 80 * 60 if km else DRIVE_MINUTES
    return {
        "unit_id": unit.tracker_id,
        "provider": unit.tracker_provider,
        "start": start,
        "end": start + timedelta(hours=max(hours, 2 * drive / 60 + 0.5)),
        "drive_to_minutes": round(drive, 2),
        "work_hours": round(max(hours - 2 * drive / 60, 0.5), 2),
        "drive_back_minutes": round(drive, 2),
        "site": list(site or MOSCOW),
    }


class Command(BaseCommand):
    help = "Give the fake trackers the demo's trips and arm the trips' evidence."

    def handle(self, *args, **options):
        urls = {"wialon": settings.WIALON_API_URL, "aemp": settings.AEMP_API_URL}
        now = timezone.now()
        waybills = list(
            Waybill.objects.filter(finished_at__lte=now)
            .exclude(unit__tracker_provider="")
            .exclude(unit__isnull=True)
            .select_related("unit", "booking")
        )
        trips = [
            _trip(
                w.unit,
                w.started_at,
                hours=float(w.hours) + DELTAS[w.pk % len(DELTAS)],
                km=w.km,
                site=telematics.site_of(w.booking),
            )
            for w in waybills
        ]
        recent = (
            Booking.objects.filter(
                status__in=[Booking.Status.CONFIRMED, Booking.Status.DISPATCHED],
                start__gte=now - timedelta(days=RECENT_DAYS),
                start__lte=now,
            )
            .exclude(unit__tracker_provider="")
            .exclude(unit__isnull=True)
            .select_related("unit")
        )
        for booking in recent:
            hours = float(booking.ordered_hours) + 1.2
            if booking.start + timedelta(hours=hours) <= now:
                trips.append(
                    _trip(
                        booking.unit,
                        booking.start,
                        hours=hours,
                        km=booking.planned_km,
                        site=telematics.site_of(booking),
                    )
                )
        trips.sort(key=lambda trip: (trip["provider"], trip["unit_id"], trip["start"]))
        given, last_end = 0, {}
        with httpx.Client(timeout=10) as client:
            for trip in trips:
                url, key = urls.get(trip.pop("provider")), trip["unit_id"]
                end = trip.pop("end")
                if not url or (key in last_end and trip["start"] < last_end[key]):
                    continue  # a fake takes a unit's trips in time order, never overlapping
                trip["start"] = trip["start"].isoformat()
                try:
                    response = client.post(f"{url.rstrip('/')}/_trip", json=trip)
                except httpx.HTTPError as exc:
                    raise CommandError(f"the fake at {url} does not answer: {exc}")
                if response.status_code == 200:
                    given += 1
                    last_end[key] = end
        armed = 0
        for waybill in waybills:
            if not TripEvidence.objects.filter(waybill=waybill).exists():
                with transaction.atomic():
                    armed += telematics.evidence_arm(waybill) is not None
        self.stdout.write(f"demo telematics: {given} trips given to the fakes, {armed} evidences armed")
