"""The driver's trip page link (``/t/<token>/``): one open link per booking, made when the
order is first sent (``bookings/dispatch.py`` puts it in the text) or asked for by the
manager (``GET /api/v1/bookings/{id}/trip-link/``). The token is the only key: no login,
so it is long and random, compared exactly, and the page opens only while the link is not
revoked and the booking is not closed or cancelled (then every call under it is a 404)."""

import secrets

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from arenda.bookings.models import Booking, TripLink
from arenda.core.links import absolute
from arenda.core.services import locked

# A booking in these has no trip page any more: its link answers 404.
CLOSED_STATUSES = (Booking.Status.CLOSED, Booking.Status.CANCELLED)


def current(booking: Booking) -> TripLink | None:
    return TripLink.objects.filter(booking_id=booking.pk, revoked_at__isnull=True).first()


@transaction.atomic
def issue(*, booking: Booking, by=None, regenerate: bool = False) -> TripLink:
    """The booking's open link, made when there is none; ``regenerate`` revokes the open one
    and makes another (the old address stops working at once)."""
    locked(Booking, booking.pk)  # two first dispatches at once make one link
    link = current(booking)
    if link is not None and not regenerate:
        return link
    if link is not None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
    try:
        with transaction.atomic():
            return TripLink.objects.create(
                booking_id=booking.pk,
                token=secrets.token_urlsafe(32),
                created_by=by if getattr(by, "is_authenticated", False) else None,
            )
    except IntegrityError:  # pragma: no cover — the booking's lock serialises issuers
        return current(booking)


@transaction.atomic
def revoke(*, booking: Booking) -> bool:
    """Cut the driver's link off; the next ``issue`` makes a new one."""
    return bool(
        TripLink.objects.filter(booking_id=booking.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def path(link: TripLink) -> str:
    return reverse("trip:page", args=[link.token])


def url(link: TripLink) -> str:
    return absolute(path(link))


def booking_for_token(token: str) -> tuple[TripLink, Booking] | None:
    """The open link with exactly this token and its booking (with what the page shows), or
    None: an unknown, revoked or closed booking's token opens nothing."""
    if not token or len(token) > 64:
        return None
    link = (
        TripLink.objects.select_related(
            "booking__deal__counterparty",
            "booking__deal__manager",
            "booking__created_by",
            "booking__equipment_type",
            "booking__unit",
            "booking__driver",
        )
        .filter(token=token, revoked_at__isnull=True)
        .first()
    )
    # Compare again in Python: some databases match text case-insensitively.
    if link is None or link.token != token or link.booking.status in CLOSED_STATUSES:
        return None
    return link, link.booking
