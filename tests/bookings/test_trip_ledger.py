"""The trip ledger (docs/trip-ledger.md): every waybill write keeps its booking's rows, the
top-up to the minimum order sits on the last trip whatever order the trips are written in,
the rows of a booking add up to what it is billed, and ``rebuild_trip_ledger --check``
finds a row that drifted and the rebuild puts it right."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from arenda.bookings import ledger
from arenda.bookings.models import SupplyOrder, TripLedger
from arenda.flows.trips import waybill_record, waybill_update
from tests import factories as f
from tests.bookings.test_waybills import job, sheet

pytestmark = pytest.mark.django_db


def rows(booking):
    return list(TripLedger.objects.filter(booking=booking).order_by("started_at"))


def test_a_recorded_waybill_writes_its_ledger_row():
    booking = job(min_hours="4", rate="3500.00", rate_km="50.00", pay="600.00")
    recorded = waybill_record(booking=booking, data=sheet(booking, hours="6.5", km=Decimal("12")), by=None)
    [row] = rows(booking)
    assert row.waybill_id == recorded.waybill.pk
    assert (row.deal_id, row.unit_id, row.driver_id) == (booking.deal_id, booking.unit_id, booking.driver_id)
    assert row.billed_hours == Decimal("6.50")
    assert row.revenue_hours_k == 6.5 * 3500 * 100
    assert row.revenue_km_k == 12 * 50 * 100
    assert row.revenue_k == row.revenue_hours_k + row.revenue_km_k
    assert row.pay_k == 6.5 * 600 * 100
    assert row.cost_k is None


def test_the_top_up_to_the_minimum_moves_to_the_last_trip_when_an_earlier_one_is_written_later():
    booking = job(min_hours="10", days=2, rate="1000.00")
    waybill_record(booking=booking, data=sheet(booking, "ПЛ-2", day=1, hours="3"), by=None)
    assert [r.billed_hours for r in rows(booking)] == [Decimal("10.00")]
    waybill_record(booking=booking, data=sheet(booking, "ПЛ-1", day=0, hours="4"), by=None)
    assert [r.billed_hours for r in rows(booking)] == [Decimal("4.00"), Decimal("6.00")]
    assert sum(r.revenue_k for r in rows(booking)) == 10 * 1000 * 100  # what the booking bills


def test_a_corrected_waybill_corrects_its_row_and_the_top_up():
    booking = job(min_hours="8", rate="2000.00")
    recorded = waybill_record(booking=booking, data=sheet(booking, hours="5"), by=None)
    assert rows(booking)[0].billed_hours == Decimal("8.00")
    waybill_update(waybill=recorded.waybill, data={"hours": Decimal("9.25")}, by=None)
    [row] = rows(booking)
    assert (row.hours, row.billed_hours, row.revenue_hours_k) == (Decimal("9.25"), Decimal("9.25"), 1850000)


def test_a_suppliers_machine_carries_its_purchase_cost():
    booking = f.WaybillFactory(
        booking=f.BookingFactory(unit=None, driver=None, rate_per_hour=Decimal("4000")), hours=Decimal("7.5")
    ).booking
    order = SupplyOrder.objects.create(
        booking=booking, supplier=f.SupplierFactory(), unit_plate="Е777КХ77", cost_per_hour=Decimal("3100.33")
    )
    ledger.refresh([booking.pk])
    [row] = rows(booking)
    assert row.supply_order_id == order.pk
    assert row.cost_per_hour == Decimal("3100.33")
    assert row.cost_k == 2325248  # 7.5 × 3100.33 = 23 252.475 → 23 252.48 ₽, half up


def test_check_finds_a_drifted_row_and_the_rebuild_puts_it_right():
    first = f.WaybillFactory(hours=Decimal("8"))
    f.WaybillFactory(booking=first.booking, number="ДОП-2", started_at=first.started_at + timedelta(days=1))
    call_command("rebuild_trip_ledger", "--check")  # agrees
    TripLedger.objects.filter(pk=first.pk).update(revenue_k=1)
    TripLedger.objects.filter(booking=first.booking).exclude(pk=first.pk).delete()
    with pytest.raises(CommandError) as failure:
        call_command("rebuild_trip_ledger", "--check")
    message = str(failure.value)
    assert f"waybill {first.pk}: revenue_k" in message
    assert "missing rows: 1" in message
    call_command("rebuild_trip_ledger")
    call_command("rebuild_trip_ledger", "--check")
    assert TripLedger.objects.count() == 2


def test_refresh_and_rebuild_write_the_same_rows():
    for hours in ("2", "3.25", "11"):
        waybill = f.WaybillFactory(hours=Decimal(hours), booking=f.BookingFactory(min_hours=Decimal("4")))
        f.WaybillFactory(
            booking=waybill.booking, number="ДОП-2", started_at=waybill.started_at + timedelta(hours=9)
        )
    before = {r["waybill_id"]: r for r in TripLedger.objects.values("waybill_id", *ledger.COLUMNS)}
    assert ledger.rebuild() == len(before) == 6
    after = {r["waybill_id"]: r for r in TripLedger.objects.values("waybill_id", *ledger.COLUMNS)}
    assert after == before
    assert ledger.verify().ok


def test_the_nightly_job_rewrites_a_recent_booking_whose_rows_drifted(caplog):
    waybill = f.WaybillFactory(hours=Decimal("8"))
    TripLedger.objects.filter(pk=waybill.pk).update(revenue_k=1, billed_hours=Decimal("1"))
    drift = ledger.repair_recent()
    assert drift.different == {waybill.pk: ["billed_hours", "revenue_k"]}
    assert "trip ledger rewritten for 1 bookings" in caplog.text
    assert ledger.verify().ok
    assert ledger.repair_recent().ok  # nothing left to mend
