"""Random sequences of create / reserve / move / confirm / complete / cancel never leave
two active bookings of one unit or one driver overlapping — checked in the database
after every step."""

import contextlib
from datetime import timedelta
from itertools import combinations

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from arenda.bookings import services
from arenda.bookings.models import Booking
from arenda.bookings.services import BookingConflict
from arenda.core.models import CompanySettings
from arenda.flows import deals
from tests.factories import BookingFactory, DealFactory, DriverFactory, EquipmentTypeFactory, UnitFactory

slots = st.integers(min_value=0, max_value=40)  # half-hour steps over ~20 hours
lengths = st.integers(min_value=1, max_value=12)


class BookingMachine(RuleBasedStateMachine):
    bookings = Bundle("bookings")

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        CompanySettings.objects.update_or_create(pk=1, defaults={"transit_buffer_minutes": 30})
        self.crane = EquipmentTypeFactory(name="Автокран")
        self.units = [UnitFactory(equipment_type=self.crane) for _ in range(2)]
        self.drivers = [DriverFactory() for _ in range(2)]
        self.deal = DealFactory(counterparty__prepayment_required=False)
        self.day = (timezone.localtime() + timedelta(days=5)).replace(
            hour=6, minute=0, second=0, microsecond=0
        )

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _window(self, slot, length):
        start = self.day + timedelta(minutes=30 * slot)
        return start, start + timedelta(minutes=30 * length)

    @rule(target=bookings, slot=slots, length=lengths)
    def create(self, slot, length):
        start, end = self._window(slot, length)
        return BookingFactory(deal=self.deal, equipment_type=self.crane, start=start, end=end).pk

    @rule(booking=bookings, unit=st.integers(0, 1), driver=st.integers(0, 1))
    def reserve(self, booking, unit, driver):
        with contextlib.suppress(BookingConflict, ValidationError):
            services.booking_reserve(
                booking=Booking.objects.get(pk=booking),
                unit=self.units[unit],
                driver=self.drivers[driver],
                by=None,
            )

    @rule(booking=bookings, slot=slots, length=lengths)
    def move(self, booking, slot, length):
        start, end = self._window(slot, length)
        with contextlib.suppress(BookingConflict, ValidationError):
            services.booking_update(booking=Booking.objects.get(pk=booking), start=start, end=end, by=None)

    @rule(booking=bookings)
    def confirm_and_complete(self, booking):
        try:
            confirmed = deals.booking_confirm(booking=Booking.objects.get(pk=booking), by=None)
            deals.booking_complete(booking=confirmed, by=None)
        except BookingConflict:
            pass

    @rule(booking=bookings)
    def cancel(self, booking):
        with contextlib.suppress(BookingConflict):
            deals.booking_cancel(booking=Booking.objects.get(pk=booking), reason="тест", by=None)

    @invariant()
    def no_unit_or_driver_is_double_booked(self):
        active = list(Booking.objects.active().values("pk", "unit_id", "driver_id", "start", "busy_until"))
        for a, b in combinations(active, 2):
            overlap = a["start"] < b["busy_until"] and b["start"] < a["busy_until"]
            if overlap:
                assert a["unit_id"] is None or a["unit_id"] != b["unit_id"], (a, b)
                assert a["driver_id"] is None or a["driver_id"] != b["driver_id"], (a, b)


@pytest.mark.django_db
def test_random_sequences_never_double_book():
    run_state_machine_as_test(
        BookingMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
