"""Waybill pages: record a waybill of a booking, correct one, open its scan. The booking
page shows them with the settlement (``waybills_panel``)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from arenda.billing.overtime import settlement
from arenda.bookings import telematics, waybills
from arenda.bookings.models import Booking, TripEvidence, Waybill
from arenda.bookings.services import BookingConflict
from arenda.bookings.telematics import site_of
from arenda.bookings.waybill_forms import WaybillForm
from arenda.core.files import file_response
from arenda.core.formats import format_number
from arenda.core.models import CompanySettings
from arenda.core.permissions import require
from arenda.core.roles import Action, can, can_see_pay
from arenda.flows import telematics as telematics_flow
from arenda.flows import trips
from arenda.integrations.telematics.plot import track_svg


def waybills_panel(booking: Booking, user) -> dict:
    """The waybills section of the booking page: the waybills with the settlement (three
    queries, whatever the number of waybills)."""
    if not can(user, Action.VIEW, "waybill"):
        return {"visible": False}
    rows = list(booking.waybills.select_related("driver", "unit", "evidence__decided_by"))
    radius = CompanySettings.current().telematics_site_radius_m if rows else 0
    for row in rows:  # the reverse one-to-one, read once: None when the trip has no evidence
        row.trip_evidence = evidence = getattr(row, "evidence", None)
        if evidence is not None:
            _with_plot(evidence, booking, radius)
    return {
        "visible": True,
        "booking": booking,
        "waybills": rows,
        "settlement": settlement(booking) if rows else None,
        "may_add": can(user, Action.ADD, "waybill") and booking.takes_waybills(),
        **_may(user, booking),
        "see_pay": can_see_pay(user),
    }


def _with_plot(evidence: TripEvidence, booking: Booking, radius: int) -> None:
    if evidence.track:
        evidence.track_svg = mark_safe(  # numbers only (integrations/telematics/plot.py)
            track_svg(evidence.track, site=site_of(booking), radius_m=radius, width=240, height=150)
        )


def _may(user, booking: Booking) -> dict:
    return {
        "may_change": can(user, Action.CHANGE, "waybill") and booking.is_editable(),
        # a tracker's suggestion may be dismissed (or the tracker asked again) even when the
        # booking is closed; accepting it corrects a waybill, so only while that is allowed
        "may_decide": can(user, Action.CHANGE, "waybill"),
    }


def _booking(pk) -> Booking:
    return get_object_or_404(
        Booking.objects.select_related("deal__counterparty", "unit", "driver", "equipment_type"), pk=pk
    )


def _done_message(result) -> str:
    text = _("%(waybill)s saved.") % {"waybill": result.waybill}
    invoice = result.overtime_invoice
    if invoice is not None:
        text += " " + _("Overtime: %(invoice)s for %(hours)s h.") % {
            "invoice": invoice,
            "hours": format_number(invoice.billed_hours),
        }
    if result.booking.status == Booking.Status.CLOSED:
        text += " " + _("Everything is paid: the booking is closed.")
    return text


def _form_page(request, *, booking, waybill=None):
    form = WaybillForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        booking=booking,
        waybill=waybill,
    )
    conflict, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            data, scan = form.service_data(), form.cleaned_data.get("scan") or None
            try:
                if waybill is None:
                    result = trips.waybill_record(booking=booking, data=data, scan=scan, by=request.user)
                else:
                    result = trips.waybill_update(waybill=waybill, data=data, scan=scan, by=request.user)
            except ValidationError as exc:
                form.add_service_error(exc)
            except BookingConflict as exc:
                conflict = exc.detail
            else:
                messages.success(request, _done_message(result))
                return redirect(booking.get_absolute_url() + "#waybills")
        status = 409 if conflict else 400
    elif waybill is None and not booking.takes_waybills():
        conflict, status = (
            _("A booking in status «%(status)s» takes no waybills.")
            % {"status": booking.get_status_display()},
            409,
        )
    elif waybill is not None and not booking.is_editable():
        conflict, status = _("A closed booking's waybills cannot be changed."), 409
    return render(
        request,
        "bookings/waybill_form.html",
        {
            "form": form,
            "booking": booking,
            "deal": booking.deal,
            "waybill": waybill,
            "conflict_text": conflict,
        },
        status=status,
    )


@require(Action.ADD, "waybill")
@require_http_methods(["GET", "POST"])
def waybill_create(request, pk):
    return _form_page(request, booking=_booking(pk))


@require(Action.CHANGE, "waybill")
@require_http_methods(["GET", "POST"])
def waybill_update(request, pk):
    waybill = get_object_or_404(Waybill, pk=pk)
    return _form_page(request, booking=_booking(waybill.booking_id), waybill=waybill)


@require(Action.VIEW, "waybill")
def waybill_scan(request, pk):
    """The stored scan, only to a signed-in user who may read waybills, with the type its
    content was sniffed as (docs/security.md, «Files»)."""
    found = waybills.scan_to_serve(get_object_or_404(Waybill, pk=pk))
    if found is None:
        raise Http404
    handle, content_type, filename = found
    return file_response(handle, content_type=content_type, filename=filename)


# --- the tracker's suggestion (docs/telematics.md) ---------------------------------------------
def _evidence(pk) -> TripEvidence:
    return get_object_or_404(TripEvidence.objects.select_related("booking", "waybill"), pk=pk)


def _back(evidence: TripEvidence):
    return redirect(evidence.booking.get_absolute_url() + f"#waybill-{evidence.waybill_id}")


def _refusal(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@require(Action.CHANGE, "waybill")
@require_POST
def evidence_accept(request, pk):
    """The manager takes the tracker's extra hours (and km) into a correction of the waybill;
    the overtime invoice follows."""
    evidence = _evidence(pk)
    try:
        result = telematics_flow.suggestion_accept(evidence=evidence, by=request.user)
    except ValidationError as exc:
        messages.error(request, _refusal(exc))
    except BookingConflict as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _done_message(result))
    return _back(evidence)


@require(Action.CHANGE, "waybill")
@require_POST
def evidence_dismiss(request, pk):
    evidence = _evidence(pk)
    try:
        telematics.suggestion_dismiss(
            evidence=evidence, reason=request.POST.get("reason", ""), by=request.user
        )
    except ValidationError as exc:
        messages.error(request, _refusal(exc))
    else:
        messages.success(request, _("The suggestion is dismissed; the waybill stays as it is."))
    return _back(evidence)


@require(Action.CHANGE, "waybill")
@require_POST
def evidence_retry(request, pk):
    evidence = telematics.evidence_retry(evidence=_evidence(pk))
    messages.success(request, _("The tracker will be read again in a moment."))
    return _back(evidence)


@require(Action.VIEW, "waybill")
def evidence_row(request, pk):
    """The evidence's row of the booking page, asked again while it waits for the tracker."""
    evidence = get_object_or_404(TripEvidence.objects.select_related("booking", "decided_by"), pk=pk)
    _with_plot(evidence, evidence.booking, CompanySettings.current().telematics_site_radius_m)
    context = {"e": evidence, "booking": evidence.booking, **_may(request.user, evidence.booking)}
    return render(request, "bookings/_evidence.html", context)
