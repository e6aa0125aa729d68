"""A tracker's suggestion taken into the books (docs/telematics.md): the manager accepts
the extra hours (and km) the telematics show into a correction of the waybill — through
the trips flow, so the overtime invoice, the act and the payroll follow as after any
correction. Nothing is billed without this decision."""

from django.db import transaction
from django.utils import timezone

from arenda.bookings import telematics
from arenda.bookings.models import TripEvidence, Waybill
from arenda.core.models import CompanySettings
from arenda.core.services import locked
from arenda.flows import trips


@transaction.atomic
def suggestion_accept(*, evidence: TripEvidence, by) -> trips.Recorded:
    evidence = locked(TripEvidence, evidence.pk)
    waybill = Waybill.objects.select_related("booking").get(pk=evidence.waybill_id)
    settings_row = CompanySettings.current()
    data = telematics.suggestion_data(
        evidence, waybill, tolerance_minutes=settings_row.waybill_tolerance_minutes
    )
    evidence.decision, evidence.decision_reason = TripEvidence.Decision.ACCEPTED, ""
    evidence.decided_by, evidence.decided_at = by, timezone.now()
    evidence.save()
    return trips.waybill_update(waybill=waybill, data=data, by=by)
