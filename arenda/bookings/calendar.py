"""iCalendar feeds of bookings: the selector of a feed's bookings, the feed services and
the RFC 5545 rendering (the ``icalendar`` library)."""

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from arenda.bookings.models import Booking, CalendarFeed

# Feeds carry what a calendar needs to plan: 60 days back, a year ahead.
PAST = timedelta(days=60)
FUTURE = timedelta(days=366)


def _new_token() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def feed_for(*, kind: str, user=None, driver=None, unit=None) -> CalendarFeed:
    """The feed of a subject, created on first use."""
    feed, _created = CalendarFeed.objects.get_or_create(
        kind=kind, user=user, driver=driver, unit=unit, defaults={"token": _new_token()}
    )
    return feed


@transaction.atomic
def feed_regenerate(*, feed: CalendarFeed) -> CalendarFeed:
    feed.token = _new_token()
    feed.save(update_fields=["token", "updated_at"])
    return feed


def feed_bookings(feed: CalendarFeed, *, now=None):
    now = now or timezone.now()
    qs = (
        Booking.objects.exclude(status=Booking.Status.DRAFT)
        .filter(start__lt=now + FUTURE, end__gt=now - PAST)
        .select_related(
            "deal__counterparty", "deal__manager", "unit", "driver", "equipment_type", "supply_order"
        )
        .order_by("start")
    )
    if feed.kind == CalendarFeed.Kind.DRIVER:
        qs = qs.filter(driver_id=feed.driver_id)
    elif feed.kind == CalendarFeed.Kind.UNIT:
        qs = qs.filter(unit_id=feed.unit_id)
    elif feed.kind == CalendarFeed.Kind.MANAGER:
        qs = qs.filter(deal__manager_id=feed.user_id)
    return qs


def render_ics(feed: CalendarFeed, bookings, *, host: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Arenda//bookings//RU")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Аренда — {feed}")
    cal.add("x-wr-timezone", timezone.get_current_timezone_name())
    for booking in bookings:
        event = Event()
        event.add("uid", f"booking-{booking.pk}@{host}")
        event.add("dtstamp", booking.updated_at)
        event.add("last-modified", booking.updated_at)
        event.add("dtstart", booking.start)
        event.add("dtend", booking.end)
        machine = booking.unit or getattr(booking, "supply_order", None) or booking.equipment_type
        event.add("summary", f"{booking.deal.counterparty.name}: {machine}")
        event.add("location", booking.site_address)
        lines = [
            _("Status: %(status)s") % {"status": booking.get_status_display()},
            _("Driver: %(driver)s") % {"driver": booking.driver or "—"},
            _("Site contact: %(name)s %(phone)s")
            % {"name": booking.site_contact_name, "phone": booking.site_contact_phone},
        ]
        if booking.notes:
            lines.append(booking.notes)
        event.add("description", "\n".join(lines))
        event.add("status", "CANCELLED" if booking.status == Booking.Status.CANCELLED else "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()
