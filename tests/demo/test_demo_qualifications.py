"""The demo's machines require documents, its drivers hold them, and a few show the rule."""

from datetime import timedelta

from django.utils import timezone

from arenda.bookings.models import Booking
from arenda.directory.models import Driver, EquipmentType, EquipmentTypeRequirement
from arenda.directory.selectors import documents_expiring, gaps_of_assignments, qualification_gaps
from tests.demo.test_seed_demo import demo  # noqa: F401  (the fixture)


def test_every_type_requires_documents_and_every_booked_driver_holds_them(demo):  # noqa: F811
    assert not EquipmentType.objects.exclude(
        pk__in=EquipmentTypeRequirement.objects.values("equipment_type")
    ).exists()
    booked = Booking.objects.filter(driver__isnull=False)
    assert booked.exists()
    assignments = [(b.pk, b.driver_id, b.equipment_type_id, timezone.localdate(b.end)) for b in booked]
    assert gaps_of_assignments(assignments) == {}


def test_some_drivers_show_the_rule(demo):  # noqa: F811
    crane = EquipmentType.objects.get(name="Автокран")
    tomorrow = timezone.localdate() + timedelta(days=1)
    gaps = qualification_gaps(Driver.objects.values_list("pk", flat=True), crane.pk, tomorrow)
    lacking = {pk: g for pk, g in gaps.items() if g}
    assert 1 <= len(lacking) <= 3
    assert any(m.kind == "truck_crane" and m.reason == "missing" for g in lacking.values() for m in g)
    assert documents_expiring().filter(kind="medical").exists()
