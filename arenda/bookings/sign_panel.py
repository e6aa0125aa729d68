"""The sign-off section of the driver's trip page (``bookings/trip/_sign.html``): what
``trip_views`` and ``sign_views`` both render it with (docs/shift-report.md)."""

import secrets

from django.urls import reverse
from django.utils.translation import gettext as _

from arenda.bookings import shift_reports
from arenda.bookings.models import ShiftReport, SignCode
from arenda.bookings.shift_report_print import number_text, time_text
from arenda.core.formats import phone_display
from arenda.core.roles import Action, can


def _figures(snapshot: dict) -> list[tuple[str, str]]:
    return [
        (_("Waybill No."), snapshot["waybill_number"] or "—"),
        (_("Started"), time_text(snapshot["started_at"])),
        (_("Finished"), time_text(snapshot["finished_at"])),
        (_("Hours worked"), number_text(snapshot["hours"])),
        (_("Kilometres"), number_text(snapshot["km"])),
        (_("Downtime, hours"), number_text(snapshot["downtime_hours"])),
    ]


def _pdf_path(link, report: ShiftReport) -> str:
    return reverse("trip:shift_report_pdf", args=[link.token, report.pk])


def sign_context(link, booking, *, values=None, errors=None, notice="", notice_error=False) -> dict:
    """``sign`` for ``bookings/trip/_sign.html``: None when there is nothing to sign yet."""
    found = shift_reports.basis(booking)
    signed = list(ShiftReport.objects.filter(booking_id=booking.pk))
    if found is None and not signed:
        return {"sign": None}
    current = shift_reports.existing(booking=booking, idempotency_key="", found=found) if found else None
    phone = shift_reports.contact_phone(booking)
    route = shift_reports.code_route(phone)
    values = {
        **{"name": booking.site_contact_name, "position": "", "signature": "", "code": ""},
        **(values or {}),
    }
    if not values.get("key"):
        values["key"] = secrets.token_urlsafe(24)
    values["shown"] = shift_reports.figures_digest(found) if found else ""
    return {
        "sign": {
            "figures": _figures(shift_reports.snapshot(booking, found)) if found and current is None else [],
            "open": found is not None and current is None,
            "signed": [{"report": r, "pdf": _pdf_path(link, r)} for r in signed],
            "phone": phone_display(phone) if phone else "",
            "route": dict(SignCode.Channel.choices).get(route[0]) if route else "",
            "values": values,
            "errors": errors or {},
            "notice": notice,
            "notice_error": notice_error,
        }
    }


def shift_reports_panel(booking, user) -> dict:
    """The shift reports section of the booking page: who signed, when, whether a code
    confirmed it, the hash, the PDF, and whether the customer was e-mailed."""
    if not can(user, Action.VIEW, "waybill"):
        return {"visible": False}
    rows = list(ShiftReport.objects.filter(booking_id=booking.pk).select_related("email_message"))
    return {
        "visible": bool(rows),
        "rows": [{"report": r, "pdf": reverse("bookings:shift_report_pdf", args=[r.pk])} for r in rows],
        "no_email": not shift_reports.customer_email(booking),
    }
