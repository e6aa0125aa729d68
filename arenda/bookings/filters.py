"""The filters and search of the booking lists: each FilterSet serves the page
(``arenda/bookings/views.py``) and the API viewset (``arenda/api/bookings.py``,
``arenda/api/waybills.py``) alike. See ``arenda/front/filters.py``."""

from datetime import datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as df

from arenda.bookings.models import Booking, SupplyOrder, Waybill
from arenda.core.search import Search
from arenda.directory.models import Counterparty, Driver, Unit
from arenda.front.filters import DateFilter, IsoDateTimeFilter, ListFilterSet, SearchFilter


def day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


class BookingFilter(ListFilterSet):
    """The booking list and ``bookings/``. Digits typed find the booking of that number too."""

    search = SearchFilter(
        Search(
            text=("deal__title", "deal__counterparty__name", "site_address", "driver__full_name"),
            plates=("unit__plate",),
            numbers=("pk",),
        )
    )
    status = df.ChoiceFilter(label=_("Status"), choices=Booking.Status.choices)
    unit = df.ModelChoiceFilter(label=_("Unit"), queryset=Unit.objects.all())
    driver = df.ModelChoiceFilter(label=_("Driver"), queryset=Driver.objects.all())
    counterparty = df.ModelChoiceFilter(
        label=_("Customer"), field_name="deal__counterparty", queryset=Counterparty.objects.all()
    )
    start_after = IsoDateTimeFilter(field_name="start", lookup_expr="gte")
    start_before = IsoDateTimeFilter(field_name="start", lookup_expr="lt")
    end_after = IsoDateTimeFilter(field_name="end", lookup_expr="gt")
    # Whole days: the bookings that overlap them (the page's «from» and «to»).
    period_from = DateFilter(method="overlap_from", label=_("from"))
    period_to = DateFilter(method="overlap_to", label=_("to"))

    page_params = {
        "q": "search",
        "status": "status",
        "from": "period_from",
        "to": "period_to",
        "unit": "unit",
        "driver": "driver",
        "counterparty": "counterparty",
    }
    page_lookups = {"unit": "unit", "driver": "driver", "counterparty": "counterparty"}

    class Meta:
        model = Booking
        fields = ["status", "deal", "unit", "driver", "equipment_type"]

    def overlap_from(self, qs, name, value):
        return qs.filter(end__gt=day_start(value))

    def overlap_to(self, qs, name, value):
        return qs.filter(start__lt=day_start(value + timedelta(days=1)))


class SupplyOrderFilter(ListFilterSet):
    """The supply orders page (its list and its board) and ``supply-orders/``."""

    search = SearchFilter(
        Search(text=("driver_name", "supplier__name", "booking__deal__title"), plates=("unit_plate",))
    )
    status = df.ChoiceFilter(label=_("Status"), choices=SupplyOrder.Status.choices)

    page_params = {"status": "status", "supplier": "supplier"}
    page_lookups = {"supplier": "supplier"}

    class Meta:
        model = SupplyOrder
        fields = ["status", "supplier", "booking"]


class WaybillFilter(ListFilterSet):
    """``waybills/`` (the booking page shows its own waybills whole)."""

    search = SearchFilter(Search(text=("number", "booking__deal__title", "booking__site_address")))

    class Meta:
        model = Waybill
        fields = ["booking", "driver", "unit", "source"]
