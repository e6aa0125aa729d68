"""The driver's trip page, ``/t/<token>/``: a phone page for one booking, no login — the
token in the link is the key (``bookings/trip_links.py``). A wrong, revoked or closed
booking's token is a plain 404, the same as a page that does not exist. The page speaks
the company's language whatever the phone's: drivers get their orders in it."""

from functools import wraps
from urllib.parse import quote

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from arenda.bookings import trip_links
from arenda.bookings.dispatch import order_context
from arenda.bookings.sign_panel import sign_context


def private(response):
    """The page and its calls are nobody's to cache or index, and the token never leaves
    the site in a Referer."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


def trip_view(view):
    """Resolve the token (404 if it opens nothing) and render in the company's language;
    the view gets ``(request, link, booking, ...)``."""

    @wraps(view)
    def wrapper(request, token, *args, **kwargs):
        found = trip_links.booking_for_token(token)
        if found is None:
            raise Http404
        link, booking = found
        with translation.override(settings.LANGUAGE_CODE):
            response = view(request, link, booking, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response.render()
        return private(response)

    return wrapper


def map_link(address: str) -> str:
    """Yandex Maps search for the site address: opens the Yandex Maps app where it is
    installed, the web map (with a choice of apps) elsewhere."""
    return f"https://yandex.ru/maps/?text={quote(address)}" if address else ""


def page_context(link, booking) -> dict:
    order = order_context(booking)
    manager = booking.deal.manager or booking.created_by
    return {
        "link": link,
        "token": link.token,
        "booking": booking,
        "order": order,
        "map_url": map_link(booking.site_address),
        "manager": manager,
        "manager_phone": getattr(manager, "phone", "") if manager else "",
    }


@require_GET
@trip_view
def trip_page(request, link, booking):
    return render(
        request, "bookings/trip/page.html", {**page_context(link, booking), **sign_context(link, booking)}
    )
