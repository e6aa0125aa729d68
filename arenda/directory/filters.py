"""The filters and search of the reference-data lists: each FilterSet serves the page
(``arenda/directory/views.py``, through ``arenda/front/crud.py``) and the API viewset
(``arenda/api/views.py``) alike. See ``arenda/front/filters.py``."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as df

from arenda.core.search import Search
from arenda.directory import models as m
from arenda.front.filters import ListFilterSet, SearchFilter


def _active():
    return df.BooleanFilter(label=_("Active"))


class OrganizationFilter(ListFilterSet):
    search = SearchFilter(Search(text=("name", "full_name"), inns=("inn",)))
    is_active = _active()

    page_params = {"q": "search", "active": "is_active"}

    class Meta:
        model = m.Organization
        fields = ["vat_rate", "is_active"]


class AccountingBaseFilter(ListFilterSet):
    search = SearchFilter(Search(text=("name", "odata_url", "organization__name")))
    organization = df.ModelChoiceFilter(label=_("Legal entity"), queryset=m.Organization.objects.all())
    kind = df.ChoiceFilter(label=_("Kind"), choices=m.AccountingBase.Kind.choices)
    is_active = _active()

    page_params = {"q": "search", "organization": "organization", "kind": "kind", "active": "is_active"}

    class Meta:
        model = m.AccountingBase
        fields = ["organization", "kind", "is_active"]


class CounterpartyFilter(ListFilterSet):
    search = SearchFilter(Search(text=("name", "full_name", "email"), phones=("phone",), inns=("inn",)))
    kind = df.ChoiceFilter(label=_("Kind"), choices=m.Counterparty.Kind.choices)
    accounting_base = df.ModelChoiceFilter(label=_("1C base"), queryset=m.AccountingBase.objects.all())
    prepayment_required = df.BooleanFilter(label=_("Prepayment"))

    page_params = {
        "q": "search",
        "kind": "kind",
        "base": "accounting_base",
        "prepayment": "prepayment_required",
    }

    class Meta:
        model = m.Counterparty
        fields = ["kind", "accounting_base", "prepayment_required", "inn"]


class ContactFilter(ListFilterSet):
    search = SearchFilter(Search(text=("full_name", "email", "counterparty__name"), phones=("phone",)))

    page_params = {"q": "search"}

    class Meta:
        model = m.Contact
        fields = ["counterparty"]


class SupplierFilter(ListFilterSet):
    search = SearchFilter(Search(text=("name", "contact_person", "email"), phones=("phone",), inns=("inn",)))
    is_active = _active()

    page_params = {"q": "search", "active": "is_active"}

    class Meta:
        model = m.Supplier
        fields = ["is_active", "inn"]


class EquipmentTypeFilter(ListFilterSet):
    search = SearchFilter(Search(text=("name", "description")))

    page_params = {"q": "search"}

    class Meta:
        model = m.EquipmentType
        fields: list[str] = []


class UnitFilter(ListFilterSet):
    search = SearchFilter(Search(text=("name", "equipment_type__name", "supplier__name"), plates=("plate",)))
    equipment_type = df.ModelChoiceFilter(label=_("Type"), queryset=m.EquipmentType.objects.all())
    owner = df.ChoiceFilter(label=_("Owner"), choices=m.Unit.Owner.choices)
    supplier = df.ModelChoiceFilter(label=_("Supplier"), queryset=m.Supplier.objects.all())
    is_active = _active()
    min_capacity_t = df.NumberFilter(field_name="capacity_t", lookup_expr="gte")
    max_capacity_t = df.NumberFilter(field_name="capacity_t", lookup_expr="lte")

    page_params = {
        "q": "search",
        "type": "equipment_type",
        "owner": "owner",
        "supplier": "supplier",
        "active": "is_active",
    }
    page_lookups = {"supplier": "supplier"}

    class Meta:
        model = m.Unit
        fields = ["equipment_type", "owner", "supplier", "is_active", "has_hour_meter"]


class DriverFilter(ListFilterSet):
    search = SearchFilter(Search(text=("full_name", "license_number", "telegram_chat_id"), phones=("phone",)))
    employment = df.ChoiceFilter(label=_("Employment"), choices=m.Driver.Employment.choices)
    is_active = _active()
    # pay (core.roles.PAY_FIELDS): the API refuses them to whoever may not see pay
    hourly_pay_min = df.NumberFilter(field_name="hourly_pay", lookup_expr="gte", label=_("hourly pay from"))
    hourly_pay_max = df.NumberFilter(field_name="hourly_pay", lookup_expr="lte", label=_("hourly pay up to"))

    page_params = {"q": "search", "employment": "employment", "active": "is_active"}

    class Meta:
        model = m.Driver
        fields = ["employment", "is_active"]


class MaintenanceWindowFilter(ListFilterSet):
    """The API's list of a unit's windows (the unit's page shows its latest windows whole)."""

    search = SearchFilter(Search(text=("reason",)))

    class Meta:
        model = m.MaintenanceWindow
        fields: list[str] = []
