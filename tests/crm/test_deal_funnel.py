"""The deal funnel in the services: moves allowed and refused with the reason, lost needs
a reason, "КП agreed" makes one draft booking per line once, lines are frozen after it, and
the bookings move the deal on by themselves (``flows.deals.deal_follow``)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from arenda.bookings.models import Booking
from arenda.crm import services
from arenda.crm.models import Deal
from arenda.crm.services import FunnelRefused
from arenda.flows import deals
from arenda.flows.deals import deal_follow
from tests.crm.test_proposal import add_line
from tests.factories import BookingFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return UserFactory()


def test_allowed_moves_move_and_are_recorded(manager):
    deal = DealFactory()
    add_line(deal)
    for stage in ("selection", "proposal", "selection", "new"):
        deal = deals.deal_move(deal=deal, stage=stage, by=manager)
        assert Deal.objects.get(pk=deal.pk).stage == stage
    assert deal.history.first().history_user == manager


@pytest.mark.parametrize(
    "start,target", [("new", "won"), ("new", "in_progress"), ("in_progress", "new"), ("won", "lost")]
)
def test_refused_moves_say_why_and_leave_the_stage(manager, start, target):
    deal = DealFactory(stage=start, lost_reason="")
    with pytest.raises(FunnelRefused) as refused:
        deals.deal_move(deal=deal, stage=target, by=manager)
    assert refused.value.code == "stage_move_refused" and "cannot go from" in refused.value.detail
    assert Deal.objects.get(pk=deal.pk).stage == start


def test_a_proposal_needs_lines(manager):
    deal = DealFactory()
    with pytest.raises(FunnelRefused) as refused:
        deals.deal_move(deal=deal, stage="proposal", by=manager)
    assert refused.value.code == "no_lines"


def test_lost_needs_a_reason_and_no_active_bookings(manager):
    deal = DealFactory()
    with pytest.raises(ValidationError) as error:
        deals.deal_move(deal=deal, stage="lost", by=manager, reason="  ")
    assert "lost_reason" in error.value.error_dict and Deal.objects.get(pk=deal.pk).stage == "new"
    booking = BookingFactory(deal=deal)
    Booking.objects.filter(pk=booking.pk).update(status="reserved", busy_until=booking.end)
    with pytest.raises(FunnelRefused) as refused:
        deals.deal_move(deal=deal, stage="lost", by=manager, reason="Дорого")
    assert refused.value.code == "active_bookings"
    Booking.objects.filter(deal=deal).update(status="cancelled")
    deal = deals.deal_move(deal=deal, stage="lost", by=manager, reason=" Дорого ")
    assert (deal.stage, deal.lost_reason) == ("lost", "Дорого")


def test_agree_makes_one_draft_booking_per_line_once(manager):
    deal = DealFactory(stage="proposal")
    first = add_line(deal)
    add_line(
        deal,
        ordered_hours=Decimal("4"),
        rate_per_hour=Decimal("5000.00"),
        km=Decimal("30"),
        rate_per_km=Decimal("90"),
    )
    deal = deals.deal_agree(deal=deal, by=manager)
    assert deal.stage == "agreed" and deal.agreed_at is not None and not deal.agreed_by_customer
    bookings = list(deal.bookings.order_by("start", "pk"))
    assert [b.status for b in bookings] == ["draft", "draft"]
    assert {(b.equipment_type_id, b.start, b.ordered_hours, b.rate_per_hour) for b in bookings} >= {
        (first.equipment_type_id, first.start, first.ordered_hours, first.rate_per_hour)
    }
    deals.deal_agree(deal=deal, by=manager)
    deals.deal_agree(deal=deal, by=None, by_customer=True)
    assert deal.bookings.count() == 2
    assert not Deal.objects.get(pk=deal.pk).agreed_by_customer


def test_moving_to_agreed_agrees(manager):
    deal = DealFactory(stage="proposal")
    add_line(deal)
    deals.deal_move(deal=deal, stage="agreed", by=manager)
    assert deal.bookings.count() == 1 and Deal.objects.get(pk=deal.pk).agreed_at is not None


def test_agree_refused_without_lines_or_when_closed(manager):
    with pytest.raises(FunnelRefused):
        deals.deal_agree(deal=DealFactory(), by=manager)
    lost = DealFactory()
    add_line(lost)
    Deal.objects.filter(pk=lost.pk).update(stage="lost", lost_reason="Дорого")
    with pytest.raises(FunnelRefused):
        deals.deal_agree(deal=lost, by=manager)
    assert not Booking.objects.exists()


def test_lines_are_frozen_after_agreement(manager):
    deal = DealFactory(stage="proposal")
    line = add_line(deal)
    deals.deal_agree(deal=deal, by=manager)
    with pytest.raises(FunnelRefused) as refused:
        add_line(deal)
    assert refused.value.code == "deal_agreed"
    with pytest.raises(FunnelRefused):
        services.deal_line_update(line=line, by=manager, ordered_hours=Decimal("12"))
    with pytest.raises(FunnelRefused):
        services.deal_line_delete(line=line, by=manager)
    line.refresh_from_db()
    assert line.ordered_hours == Decimal("8") and deal.lines.count() == 1


def test_lines_are_numbered_and_checked(manager):
    deal = DealFactory()
    assert [add_line(deal).position for _ in range(3)] == [1, 2, 3]
    line = deal.lines.first()
    with pytest.raises(ValidationError) as error:
        services.deal_line_update(line=line, by=manager, end=line.start)
    assert "end" in error.value.error_dict


def _agreed_with_bookings(n=2):
    deal = DealFactory(stage="proposal")
    for _ in range(n):
        add_line(deal)
    deals.deal_agree(deal=deal, by=None)
    return deal


def _set(deal, *statuses):
    for booking, status in zip(deal.bookings.order_by("pk"), statuses, strict=True):
        Booking.objects.filter(pk=booking.pk).update(status=status, busy_until=booking.end)
    return deal_follow(deal.pk)


def test_bookings_move_the_deal_on(manager):
    deal = _agreed_with_bookings()
    assert _set(deal, "reserved", "confirmed") is None
    assert _set(deal, "dispatched", "confirmed") == "in_progress"
    assert _set(deal, "completed", "confirmed") is None
    assert _set(deal, "completed", "completed") == "closing"
    assert _set(deal, "closed", "completed") is None
    assert _set(deal, "closed", "closed") == "won"
    assert Deal.objects.get(pk=deal.pk).stage == "won"


def test_cancelled_bookings_do_not_count_and_nothing_moves_back(manager):
    deal = _agreed_with_bookings()
    assert _set(deal, "completed", "cancelled") == "closing"
    assert _set(deal, "dispatched", "cancelled") is None
    assert Deal.objects.get(pk=deal.pk).stage == "closing"
    only_cancelled = _agreed_with_bookings(1)
    assert _set(only_cancelled, "cancelled") is None
    assert Deal.objects.get(pk=only_cancelled.pk).stage == "agreed"


def test_a_lost_deal_stays_lost(manager):
    deal = _agreed_with_bookings(1)
    Deal.objects.filter(pk=deal.pk).update(stage="lost", lost_reason="Отказ")
    assert _set(deal, "completed") is None
    assert Deal.objects.get(pk=deal.pk).stage == "lost"


def test_completing_a_booking_through_its_service_moves_the_deal(manager):
    deal = _agreed_with_bookings(1)
    booking = deal.bookings.get()
    Booking.objects.filter(pk=booking.pk).update(status="dispatched", busy_until=booking.end)
    deals.booking_complete(booking=booking, by=manager)
    assert Deal.objects.get(pk=deal.pk).stage == "closing"
