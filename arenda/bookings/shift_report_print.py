"""The printed «Справка о работе машины (механизма)» of a signed shift report (ЭСМ-7 in
spirit): a Russian document, in Russian whatever the interface language (as the printed
invoice, ``billing/printing.py``). Everything on it comes from the report's frozen
snapshot, the signer and the stored signature, never from the booking as it is now;
the SHA-256 of the signed content is printed at the foot (docs/shift-report.md)."""

import base64
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.template.loader import render_to_string
from django.utils import timezone, translation

from arenda.bookings.models import ShiftReport
from arenda.bookings.telematics_paper import shift_report_appendix
from arenda.core.formats import format_plate, phone_display


def parse_moment(value: str) -> datetime | None:
    try:
        return timezone.localtime(datetime.fromisoformat(value)) if value else None
    except ValueError:
        return None


def time_text(value: str) -> str:
    when = parse_moment(value)
    return when.strftime("%H:%M %d.%m.%Y") if when else "—"


def day_text(value: str) -> str:
    try:
        return date.fromisoformat(value).strftime("%d.%m.%Y") if value else "—"
    except ValueError:
        return value


def number_text(value: str, unit: str = "") -> str:
    """«8.50» → «8,5»; empty → «—»."""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return "—"
    text = f"{number.normalize():f}".replace(".", ",")
    return f"{text}\u00a0{unit}" if unit else text


def _party(name: str, inn: str) -> str:
    return f"{name}, ИНН {inn}" if inn else (name or "—")


def signature_data_uri(report: ShiftReport) -> str:
    with report.signature.open("rb") as handle:
        return "data:image/png;base64," + base64.b64encode(handle.read()).decode("ascii")


def report_context(report: ShiftReport) -> dict:
    s = report.snapshot
    return {
        "report": report,
        "number": f"{s.get('booking', report.booking_id)}-{report.pk}",
        "date": day_text(s.get("date", "")),
        "organization": _party(s.get("organization", ""), s.get("organization_inn", "")),
        "customer": _party(s.get("customer", ""), s.get("customer_inn", "")),
        "site_address": s.get("site_address") or "—",
        "machine": s.get("machine") or "—",
        "plate": format_plate(s.get("plate", "")) or "—",
        "driver": s.get("driver") or "—",
        "waybill_number": s.get("waybill_number") or "—",
        "times": [
            ("Выезд", time_text(s.get("departed_at", ""))),
            ("Прибытие на объект", time_text(s.get("arrived_at", ""))),
            ("Начало работы", time_text(s.get("started_at", ""))),
            ("Окончание работы", time_text(s.get("finished_at", ""))),
        ],
        "hours": number_text(s.get("hours", ""), "ч"),
        "km": number_text(s.get("km", ""), "км"),
        "downtime": number_text(s.get("downtime_hours", ""), "ч"),
        "signer_phone": phone_display(report.signer_phone) if report.signer_phone else "",
        "signed_at": timezone.localtime(report.signed_at).strftime("%d.%m.%Y %H:%M:%S %z"),
        "signature": signature_data_uri(report),
        "code": "подтверждён" if report.code_confirmed else "не запрашивался",
        "telematics": shift_report_appendix(report),
    }


def render_html(report: ShiftReport) -> str:
    with translation.override("ru"):
        return render_to_string("bookings/shift_report_print.html", report_context(report))


def render_pdf(report: ShiftReport) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is made

    return HTML(string=render_html(report)).write_pdf()
