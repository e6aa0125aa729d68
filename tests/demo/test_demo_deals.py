"""The demo's deals carry the КП lines their bookings were agreed from, so the deal board
shows real totals (not «0,00 ₽ · 0 поз.»)."""

import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from arenda.bookings.models import Booking
from arenda.core.models import User
from arenda.crm.models import Deal, DealLine


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=StringIO())


def test_every_demo_deal_with_bookings_has_lines_that_match_them(demo):
    deals = Deal.objects.filter(bookings__isnull=False).distinct()
    assert deals.exists()
    for deal in deals.prefetch_related("lines", "bookings"):
        lines = list(deal.lines.all())
        bookings = sorted(deal.bookings.all(), key=lambda b: b.start)
        assert len(lines) == len(bookings), deal
        for line, booking in zip(lines, bookings, strict=True):
            assert (line.equipment_type_id, line.min_capacity_t) == (
                booking.equipment_type_id,
                booking.min_capacity_t,
            )
            assert (line.start, line.end, line.site_address) == (
                booking.start,
                booking.end,
                booking.site_address,
            )
            assert (line.ordered_hours, line.min_hours, line.rate_per_hour) == (
                booking.ordered_hours,
                booking.min_hours,
                booking.rate_per_hour,
            )
            assert (line.km, line.rate_per_km) == (booking.planned_km, booking.rate_per_km)
            assert line.amount > 0
        line.full_clean()
    assert DealLine.objects.count() == Booking.objects.count()
    total = sum((line.amount for line in DealLine.objects.all()), Decimal(0))
    assert total == sum(
        (b.ordered_hours * b.rate_per_hour + b.planned_km * b.rate_per_km for b in Booking.objects.all()),
        Decimal(0),
    )


def test_the_deal_board_shows_real_totals_for_the_demo(demo, client):
    client.force_login(User.objects.get(username="manager"))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.get(reverse("crm:deal_board")).content.decode()
    cards = re.findall(r'class="deal-total">([^<]*)<', html)
    assert cards, "the board shows the demo's deals"
    assert all(total != "0,00\u00a0₽" for total in cards), cards
    assert "0 lines" not in html
