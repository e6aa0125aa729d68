"""Forms of the booking pages. They validate; the views hand the data to the services."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from arenda.bookings import telematics
from arenda.bookings.models import Booking, SupplyOrder
from arenda.core.validators import period_error
from arenda.directory.models import Driver, EquipmentType, Unit
from arenda.front.forms import ServiceErrorsMixin, ServiceForm

NUMBER = forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"})
PHONE = forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "placeholder": "+7 912 345-67-89"})


class LocalDateTimeInput(forms.DateTimeInput):
    """A ``datetime-local`` picker; the form reads it in the company time zone."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class BookingForm(ServiceForm):
    site_location = forms.CharField(
        label=_("Site on the map"),
        required=False,
        max_length=2000,
        help_text=_(
            "A Yandex, Google, 2GIS or OpenStreetMap link to the site, or its coordinates «55.7512, 37.6184»: "
            "the tracker's time on site is measured around them."
        ),
        widget=forms.TextInput(
            attrs={"placeholder": "https://yandex.ru/maps/?pt=37.6184,55.7512", "autocomplete": "off"}
        ),
    )

    class Meta:
        model = Booking
        fields = [
            "equipment_type", "min_capacity_t", "start", "end", "site_address", "site_contact_name",
            "site_contact_phone", "ordered_hours", "min_hours", "rate_per_hour", "planned_km", "rate_per_km",
            "notes",
        ]  # fmt: skip
        widgets = {
            "start": LocalDateTimeInput(),
            "end": LocalDateTimeInput(),
            "min_capacity_t": NUMBER,
            "ordered_hours": NUMBER,
            "min_hours": NUMBER,
            "rate_per_hour": NUMBER,
            "rate_per_km": NUMBER,
            "planned_km": NUMBER,
            "site_contact_phone": PHONE,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def adjust_for_user(self, user):
        self.fields["planned_km"].required = False  # most jobs need no delivery billed
        if self.instance.site_lat is not None and self.instance.site_lon is not None:
            self.initial.setdefault(
                "site_location", f"{self.instance.site_lat.normalize()}, {self.instance.site_lon.normalize()}"
            )
        # the map right after the address
        order = list(self.fields)
        order.remove("site_location")
        order.insert(order.index("site_address") + 1, "site_location")
        self.order_fields(order)

    def clean_planned_km(self):
        return self.cleaned_data.get("planned_km") or Decimal("0")

    def clean_site_location(self):
        try:
            return telematics.parse_site(self.cleaned_data.get("site_location", ""))
        except ValueError:
            raise forms.ValidationError(
                _("No coordinates found: paste a map link to the site or type «55.7512, 37.6184».")
            )

    def service_data(self) -> dict:
        data = super().service_data()
        found = data.pop("site_location", None)
        data["site_lat"], data["site_lon"] = found if found else (None, None)
        return data


class CancelForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class SupplyOrderForm(ServiceForm):
    lookups = {"supplier": ("supplier", "active")}

    class Meta:
        model = SupplyOrder
        fields = ["supplier", "unit_plate", "driver_name", "driver_phone", "cost_per_hour", "notes"]
        widgets = {
            "cost_per_hour": NUMBER,
            "driver_phone": PHONE,
            "unit_plate": forms.TextInput(attrs={"placeholder": "А123ВС77", "autocomplete": "off"}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }


class ReserveForm(forms.Form):
    unit = forms.ModelChoiceField(Unit.objects.all(), label=_("Unit"), widget=forms.RadioSelect)
    driver = forms.ModelChoiceField(Driver.objects.all(), label=_("Driver"), widget=forms.RadioSelect)


class MoveForm(forms.Form):
    """A move proposed on the day board (``docs/day-board.md``): where, when, and the
    ``updated_at`` the board showed (``version``) to detect a stale board."""

    booking = forms.ModelChoiceField(Booking.objects.all(), label=_("Booking"))
    unit = forms.ModelChoiceField(Unit.objects.all(), label=_("Unit"))
    driver = forms.ModelChoiceField(Driver.objects.all(), label=_("Driver"))
    start = forms.DateTimeField(label=_("Start"))
    end = forms.DateTimeField(label=_("End"))
    version = forms.DateTimeField(label=_("Version"))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", _("The end must be after the start."))
        return data


class AvailabilityForm(forms.Form):
    equipment_type = forms.ModelChoiceField(
        EquipmentType.objects.order_by("name"), label=_("Equipment type"), required=False
    )
    min_capacity_t = forms.DecimalField(
        label=_("Minimum capacity, t"), required=False, min_value=0, widget=NUMBER
    )
    start = forms.DateTimeField(label=_("Start"), widget=LocalDateTimeInput())
    end = forms.DateTimeField(label=_("End"), widget=LocalDateTimeInput())

    def clean(self):
        data = super().clean()
        if error := period_error(data.get("start"), data.get("end")):
            self.add_error("end", error)
        return data
