"""A constructed month for the report tests: October 2026 in Moscow time."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from tests import factories as f

MSK = ZoneInfo("Europe/Moscow")
MONTH = "?period=custom&start=2026-10-01&end=2026-10-31"


def msk(day: int, hour: int = 8, minute: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=MSK)


@pytest.fixture
def ui(make_user):
    """``ui(role, **user_fields)`` → a logged-in test Client that asks for English."""

    def client_for(role, **user_fields):
        client = Client(headers={"Accept-Language": "en"})
        client.user = make_user(role, **user_fields)
        client.force_login(client.user)
        return client

    return client_for


@dataclass
class Trips:
    bookings: list = field(default_factory=list)
    waybills: list = field(default_factory=list)


def trip(
    *,
    day: int,
    hours,
    pay="600.00",
    km="0",
    unit=None,
    driver=None,
    booking=None,
    start_hour: int = 8,
    month: int = 10,
    rate_per_hour="3500.00",
    rate_per_km="0",
    min_hours="0",
    counterparty=None,
    number=None,
):
    """One waybill (and its booking unless given) starting that day in Moscow time."""
    start = msk(day, start_hour, month=month)
    if booking is None:
        kwargs = {"deal": f.DealFactory(counterparty=counterparty)} if counterparty else {}
        booking = f.BookingFactory(
            start=start,
            end=start + timedelta(hours=8),
            busy_until=start + timedelta(hours=8),
            unit=unit,
            driver=driver,
            equipment_type=unit.equipment_type if unit else f.EquipmentTypeFactory(),
            rate_per_hour=Decimal(rate_per_hour),
            rate_per_km=Decimal(rate_per_km),
            min_hours=Decimal(min_hours),
            status="completed",
            **kwargs,
        )
    extra = {"number": number} if number else {}
    return f.WaybillFactory(
        booking=booking,
        started_at=start,
        finished_at=start + timedelta(hours=max(float(hours), 0.5)),
        hours=Decimal(hours),
        km=Decimal(km),
        hourly_pay=Decimal(pay),
        unit=unit,
        driver=driver,
        **extra,
    )
