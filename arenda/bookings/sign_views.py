"""The foreman's sign-off on the driver's trip page (``/t/<token>/sign/``): the figures of
the shift, the signer's name and position, a signature drawn with a finger, and a code sent
to the site contact's phone (``bookings/shift_reports.py``; docs/shift-report.md). And the
signed PDF: through the token for the driver, behind the login for the office."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from arenda.bookings import shift_reports
from arenda.bookings.models import ShiftReport
from arenda.bookings.sign_panel import sign_context
from arenda.bookings.trip_views import page_context, trip_view
from arenda.core.files import file_response
from arenda.core.formats import phone_display
from arenda.core.permissions import require
from arenda.core.roles import Action, can

FIELDS = ("name", "position", "signature", "code", "key", "shown")


def _values(request) -> dict:
    return {name: request.POST.get(name, "")[: 1_000_000 if name == "signature" else 200] for name in FIELDS}


def _page(request, link, booking, status=200, **sign):
    context = {**page_context(link, booking), **sign_context(link, booking, **sign)}
    return render(request, "bookings/trip/sign.html", context, status=status)


@require_http_methods(["GET", "POST"])
@trip_view
def trip_sign(request, link, booking):
    if request.method == "GET":
        signed = request.GET.get("signed", "")
        done = signed.isdigit() and ShiftReport.objects.filter(pk=int(signed), booking_id=booking.pk).exists()
        notice = _("Signed. The report is ready.") if done else ""
        return _page(request, link, booking, notice=notice)
    values = _values(request)
    try:
        report = shift_reports.sign(
            booking=booking,
            name=values["name"],
            position=values["position"],
            signature=values["signature"],
            code=values["code"],
            idempotency_key=values["key"],
            shown=values["shown"],
        )
    except ValidationError as exc:
        errors = {key: " ".join(messages) for key, messages in exc.message_dict.items()}
        return _page(request, link, booking, status=400, values=values, errors=errors)
    except shift_reports.SignRefused as exc:
        return _page(request, link, booking, status=409, values=values, notice=exc.detail, notice_error=True)
    return redirect(reverse("trip:sign", args=[link.token]) + f"?signed={report.pk}#sign")


@require_POST
@trip_view
def trip_sign_code(request, link, booking):
    """Send a code to the site contact's phone; the page comes back with what was typed
    and drawn so far (the form posts here with «Send the code»)."""
    values = _values(request)
    values["code"] = ""
    try:
        row = shift_reports.send_code(booking=booking)
    except shift_reports.SignRefused as exc:
        return _page(request, link, booking, status=409, values=values, notice=exc.detail, notice_error=True)
    notice = _("The code went to %(phone)s by %(channel)s. Ask for it and type it in.") % {
        "phone": phone_display(row.phone),
        "channel": row.get_channel_display(),
    }
    return _page(request, link, booking, values=values, notice=notice)


def _serve(report: ShiftReport):
    if not report.pdf:
        raise Http404
    try:
        handle = report.pdf.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return file_response(handle, content_type="application/pdf", filename=shift_reports.pdf_filename(report))


@trip_view
def trip_shift_report_pdf(request, link, booking, pk):
    """The signed PDF for the driver, through the trip link (only this booking's)."""
    return _serve(get_object_or_404(ShiftReport, pk=pk, booking_id=booking.pk))


@require(Action.VIEW, "waybill")
def shift_report_pdf(request, pk):
    """The signed PDF for the office: signed in, a role that reads waybills and bookings
    (docs/security.md, «Files»)."""
    if not can(request.user, Action.VIEW, "booking"):
        raise PermissionDenied
    return _serve(get_object_or_404(ShiftReport, pk=pk))
