"""The waybill form of the booking page. It parses; ``bookings.waybills`` checks the rules
(span, tolerance, odometer, number) and writes."""

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenda.bookings.forms import LocalDateTimeInput
from arenda.bookings.waybills import FIELDS, MAX_SCAN_BYTES
from arenda.front.forms import ServiceErrorsMixin

DECIMAL = {"attrs": {"step": "0.01", "min": "0", "inputmode": "decimal"}}
TENTHS = {"attrs": {"step": "0.1", "min": "0", "inputmode": "decimal"}}


def _first_free_day(booking) -> dict:
    """A new waybill starts at the booking's times on its first day without a waybill."""
    start, end = timezone.localtime(booking.start), timezone.localtime(booking.end)
    taken = {timezone.localtime(w).date() for w in booking.waybills.values_list("started_at", flat=True)}
    day = start
    while day.date() in taken and day.date() < end.date():
        day += timedelta(days=1)
    finish = day.replace(hour=end.hour, minute=end.minute)
    if finish <= day:
        finish = day + (end - start) if end - start < timedelta(days=1) else day + timedelta(hours=9)
    return {"started_at": day, "finished_at": finish}


class WaybillForm(ServiceErrorsMixin, forms.Form):
    number = forms.CharField(label=_("Waybill number"), max_length=50)
    started_at = forms.DateTimeField(label=_("Started"), widget=LocalDateTimeInput())
    finished_at = forms.DateTimeField(label=_("Finished"), widget=LocalDateTimeInput())
    hours = forms.DecimalField(
        label=_("Hours worked"),
        max_digits=7,
        decimal_places=2,
        min_value=0,
        widget=forms.NumberInput(**DECIMAL),
    )
    odometer_start = forms.DecimalField(
        label=_("Odometer at start"),
        max_digits=10,
        decimal_places=1,
        min_value=0,
        required=False,
        widget=forms.NumberInput(**TENTHS),
    )
    odometer_end = forms.DecimalField(
        label=_("Odometer at end"),
        max_digits=10,
        decimal_places=1,
        min_value=0,
        required=False,
        widget=forms.NumberInput(**TENTHS),
    )
    km = forms.DecimalField(
        label=_("Kilometres"),
        max_digits=9,
        decimal_places=1,
        min_value=0,
        required=False,
        help_text=_("Leave empty to take them from the odometer."),
        widget=forms.NumberInput(**TENTHS),
    )
    engine_hours = forms.DecimalField(
        label=_("Engine hours"),
        max_digits=7,
        decimal_places=2,
        min_value=0,
        required=False,
        widget=forms.NumberInput(**DECIMAL),
    )
    downtime_hours = forms.DecimalField(
        label=_("Idle / downtime, hours"),
        max_digits=7,
        decimal_places=2,
        min_value=0,
        required=False,
        widget=forms.NumberInput(**DECIMAL),
    )
    scan = forms.FileField(
        label=_("Scan or photo of the paper waybill"),
        required=False,
        help_text=_("JPEG, PNG, WebP, HEIC or PDF, up to %(mb)s MB.")
        % {"mb": MAX_SCAN_BYTES // (1024 * 1024)},
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,application/pdf"}
        ),
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, booking, waybill=None, **kwargs):
        self.booking, self.waybill = booking, waybill
        if waybill is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(waybill, name) for name in FIELDS}
        elif waybill is None and "initial" not in kwargs:
            kwargs["initial"] = _first_free_day(booking)
        super().__init__(*args, **kwargs)
        if booking.unit is None or not booking.unit.has_hour_meter:
            # The service refuses engine hours of a unit without a meter; do not ask.
            del self.fields["engine_hours"]
        self.fields["scan"].widget.is_required = False

    def service_data(self) -> dict:
        data = {name: value for name, value in self.cleaned_data.items() if name in FIELDS}
        if data.get("downtime_hours") is None:
            data["downtime_hours"] = 0
        return data


class TripReportForm(WaybillForm):
    """The waybill on the driver's phone (the trip page): the manager's form without the
    scan and the notes — the photos of the paper waybill come as ``photos`` (several files,
    checked by ``bookings/trip_reports.py``). Starts at the driver's marks when there are."""

    def __init__(self, *args, booking, **kwargs):
        if "initial" not in kwargs:
            start = booking.arrived_at or booking.departed_at or booking.start
            finish = booking.work_finished_at or booking.end
            if finish <= start:
                finish = start + timedelta(hours=1)
            span = Decimal((finish - start).total_seconds()) / Decimal(3600)
            kwargs["initial"] = {
                "started_at": timezone.localtime(start),
                "finished_at": timezone.localtime(finish),
                "hours": (span * 4).quantize(Decimal("1"), rounding=ROUND_DOWN) / 4,
            }
        super().__init__(*args, booking=booking, **kwargs)
        del self.fields["scan"]
        del self.fields["notes"]
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "trip-input")
        self.fields["number"].widget.attrs["autocomplete"] = "off"
