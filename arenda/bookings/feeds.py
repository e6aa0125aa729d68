from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from arenda.bookings.calendar import feed_bookings, render_ics
from arenda.bookings.models import CalendarFeed


@require_GET
def calendar_feed(request, token: str):
    """No login: the unguessable token is the key. A wrong or regenerated token is 404."""
    feed = CalendarFeed.objects.select_related("user", "driver", "unit").filter(token=token).first()
    if feed is None:
        raise Http404
    body = render_ics(feed, feed_bookings(feed), host=request.get_host().split(":")[0])
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="arenda-{feed.kind}.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
