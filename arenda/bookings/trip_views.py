"""The driver's trip page, ``/t/<token>/``: a phone page for one booking, no login — the
token in the link is the key (``bookings/trip_links.py``). A wrong, revoked or closed
booking's token is a plain 404, the same as a page that does not exist. The page speaks
the company's language whatever the phone's: drivers get their orders in it."""

from functools import wraps
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from arenda.bookings import dispatch, trip_links, trip_reports
from arenda.bookings.dispatch import order_context
from arenda.bookings.models import DriverReport
from arenda.bookings.services import BookingConflict
from arenda.bookings.sign_panel import sign_context
from arenda.bookings.waybill_forms import TripReportForm


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


def same_origin(request) -> bool:
    """A POST under ``/t/<token>/`` comes from the trip page itself. The page has no session
    and the calls are CSRF-exempt (the token in the address is the key, and a submission
    queued offline may be sent hours later); instead the browser's own headers must say the
    request is same-origin: ``Sec-Fetch-Site: same-origin`` where the browser sends it,
    else an ``Origin`` equal to this site's. A request with neither is refused
    (docs/trip-page.md, «CSRF»)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site == "same-origin"
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return False
    return origin == f"{request.scheme}://{request.get_host()}"


def trip_post(view):
    """A write of the trip page: POST only, CSRF-exempt, same-origin only (``same_origin``),
    and the token resolved first, so a wrong link is a 404 whatever was sent."""

    @trip_view
    @wraps(view)
    def checked(request, link, booking, *args, **kwargs):
        if not same_origin(request):
            return HttpResponseForbidden(_("This form can only be sent from the trip page."))
        return view(request, link, booking, *args, **kwargs)

    return csrf_exempt(require_POST(checked))


def wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def marks_state(booking) -> dict:
    """The status marks as the page and its polling show them."""
    labels = trip_reports.mark_labels()
    return {
        "open": trip_reports.marks_open(booking),
        "next": trip_reports.next_mark(booking),
        "marks": [
            {
                "name": name,
                "label": labels[name],
                "at": getattr(booking, field),
                "time": timezone.localtime(getattr(booking, field)).strftime("%H:%M")
                if getattr(booking, field)
                else "",
            }
            for name, field in trip_reports.MARKS.items()
        ],
    }


def report_state(report) -> dict | None:
    if report is None:
        return None
    return {
        "id": report.pk,
        "status": report.status,
        "label": report.get_status_display(),
        "reason": report.reject_reason,
        "source": report.source,
    }


def report_initial(report) -> dict:
    """A trip-page report still waiting or rejected fills the form again: the driver
    corrects it instead of typing it anew."""
    if (
        report is None
        or report.source != DriverReport.Source.TRIP
        or report.status == DriverReport.Status.CONFIRMED
    ):
        return {}
    initial = {name: getattr(report, name) for name in trip_reports.REPORT_FIELDS}
    for name in ("started_at", "finished_at"):
        if initial[name] is not None:
            initial[name] = timezone.localtime(initial[name])
    return {"initial": {name: value for name, value in initial.items() if value is not None}}


def page_context(link, booking, *, form=None, photo_errors=None, mark_error="") -> dict:
    order = order_context(booking)
    manager = booking.deal.manager or booking.created_by
    report = trip_reports.last_report(booking)
    takes = booking.takes_waybills()
    if form is None and takes:
        form = TripReportForm(booking=booking, **report_initial(report))
    return {
        "link": link,
        "token": link.token,
        "booking": booking,
        "order": order,
        "map_url": map_link(booking.site_address),
        "manager": manager,
        "manager_phone": getattr(manager, "phone", "") if manager else "",
        "marks": marks_state(booking),
        "mark_error": mark_error,
        "to_accept": dispatch.awaiting_acceptance(booking) is not None,
        "report": report,
        "report_pending": report is not None and report.status == DriverReport.Status.PENDING,
        "form": form if takes else None,
        "photo_errors": photo_errors or [],
        "max_photos": trip_reports.MAX_PHOTOS,
        "has_hour_meter": bool(booking.unit and booking.unit.has_hour_meter),
        # The foreman's sign-off below the waybill (bookings/sign_panel.py).
        **sign_context(link, booking),
    }


@require_GET
@trip_view
def trip_page(request, link, booking):
    return render(request, "bookings/trip/page.html", page_context(link, booking))


@require_GET
@trip_view
def trip_state(request, link, booking):
    """What the page polls: the booking's status, the marks and the last report."""
    marks = marks_state(booking)
    for mark in marks["marks"]:
        mark["at"] = mark["at"].isoformat() if mark["at"] else None
    return JsonResponse(
        {
            "status": booking.status,
            "status_label": booking.get_status_display(),
            "marks": marks,
            "report": report_state(trip_reports.last_report(booking)),
        }
    )


@trip_post
def trip_mark(request, link, booking, mark):
    """«Left for the site» / «On site» / «Finished»: the first press sets the time."""
    if mark not in trip_reports.MARKS:
        raise Http404
    try:
        booking, _created = trip_reports.trip_mark(booking=booking, mark=mark)
    except BookingConflict as exc:
        if wants_json(request):
            return JsonResponse({"code": exc.code, "detail": str(exc.detail)}, status=409)
        context = page_context(link, booking, mark_error=exc.detail)
        return render(request, "bookings/trip/page.html", context, status=409)
    if wants_json(request):
        return JsonResponse({"mark": mark, "next": trip_reports.next_mark(booking)})
    return redirect(reverse("trip:page", args=[link.token]) + "#trip-marks", permanent=False)


@trip_post
def trip_accept(request, link, booking):
    """«Принял»: the driver has the order (``dispatch.accept_from_trip``); again changes nothing."""
    dispatch.accept_from_trip(booking)
    if wants_json(request):
        return JsonResponse({"accepted": True})
    return redirect(reverse("trip:page", args=[link.token]) + "#trip-marks", permanent=False)


@trip_post
def trip_report(request, link, booking):
    """The driver's waybill: a pending report for the manager (``trip_reports.report_submit``).
    With ``Accept: application/json`` (the page's script, and its offline queue) the answer
    is JSON: 201 a new report, 200 the one this idempotency key already made, 400 the errors
    by field; without script the page is rendered again with the errors."""
    key = request.POST.get("idempotency_key", "")
    found = trip_reports.seen(key, booking)
    if found is not None:
        return _report_answer(request, link, found, created=False)
    photos = request.FILES.getlist("photos")
    form = TripReportForm(request.POST, booking=booking)
    errors: dict = {}
    if form.is_valid():
        try:
            submitted = trip_reports.report_submit(
                booking=booking, data=form.service_data(), photos=photos, key=key
            )
        except BookingConflict as exc:
            errors[NON_FIELD] = [str(exc.detail)]
        except ValidationError as exc:
            errors = {name: list(messages) for name, messages in exc.message_dict.items()}
        else:
            return _report_answer(request, link, submitted.report, created=submitted.created)
    else:
        # Every error at once: the rules run on what parsed, the form's errors stand first.
        errors = {name: list(messages) for name, messages in form.errors.items()}
        parsed = {k: v for k, v in form.cleaned_data.items() if k not in errors and v is not None}
        try:
            trip_reports.report_check(booking=booking, data=parsed, photos=photos)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, messages)
    if wants_json(request):
        return JsonResponse({"errors": errors}, status=400)
    photo_errors = errors.pop("photos", [])
    for name, messages in errors.items():
        for message in messages:
            if name not in form.errors or message not in form.errors[name]:
                form.add_error(name if name in form.fields else None, message)
    context = page_context(link, booking, form=form, photo_errors=photo_errors)
    return render(request, "bookings/trip/page.html", context, status=400)


NON_FIELD = "__all__"


def _report_answer(request, link, report, *, created: bool):
    if wants_json(request):
        return JsonResponse(
            {"report": report_state(report), "created": created}, status=201 if created else 200
        )
    return redirect(reverse("trip:page", args=[link.token]) + "#trip-report")
