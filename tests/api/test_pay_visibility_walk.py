"""A walk over every field, list filter and ordering of drivers and waybills, and every column
and sort key of the reports, as each role: drivers' pay (``core.roles.PAY_FIELDS`` and the
reports' pay columns) shows exactly to the admin, the accountant, the director and a manager
with «may see drivers' pay» — absent for anyone else, and a sort or filter on it is a 400
naming the parameter (docs/permissions.md, «Drivers' pay»). A field, filter, ordering or
column added later is walked too."""

from decimal import Decimal
from types import SimpleNamespace

import django_filters
import pytest
from django.test import Client

from arenda.api import reports as report_views
from arenda.api.serializers import DriverSerializer
from arenda.api.views import DriverViewSet
from arenda.api.waybills import WaybillSerializer, WaybillViewSet
from arenda.core.roles import Role, is_pay_field
from arenda.directory.filters import DriverFilter
from arenda.front.filters import SearchFilter
from tests import factories as f

pytestmark = pytest.mark.django_db

# (role, may_see_driver_pay) → sees pay
WHO = {
    (Role.ADMIN, False): True,
    (Role.DIRECTOR, False): True,
    (Role.ACCOUNTANT, False): True,
    (Role.MANAGER, False): False,
    (Role.MANAGER, True): True,
}
IDS = [f"{role}{'-with-pay-right' if right else ''}" for role, right in WHO]

REPORTS = {
    "driver-payroll": report_views.DriverPayrollView.report_class,
    "plates": report_views.PlatesView.report_class,
    "receivables": report_views.ReceivablesView.report_class,
    "fleet": report_views.FleetView.report_class,
}


@pytest.fixture(params=list(WHO), ids=IDS)
def who(request, api, make_user):
    role, right = request.param
    client = api(user=make_user(role, may_see_driver_pay=right))
    client.sees_pay = WHO[request.param]
    return client


@pytest.fixture
def waybill():
    return f.WaybillFactory(
        hourly_pay=Decimal("600"), driver=f.DriverFactory(hourly_pay=Decimal("650")), unit=f.UnitFactory()
    )


def _output_fields(serializer_class) -> set[str]:
    # as the schema sees it: every field, whoever asks
    fields = serializer_class(context={"view": SimpleNamespace(swagger_fake_view=True)}).fields
    everything = serializer_class.Meta.fields
    write_only = {name for name, field in fields.items() if field.write_only}
    return set(everything) - write_only


def _filter_value(flt, obj):
    if isinstance(flt, SearchFilter):
        return "а"
    if isinstance(flt, django_filters.BooleanFilter):
        return "true"
    if isinstance(flt, django_filters.ModelChoiceFilter):
        return str(getattr(obj, flt.field_name + "_id", None) or obj.pk)
    if isinstance(flt, django_filters.ChoiceFilter):
        return str(flt.extra["choices"][0][0])
    if isinstance(flt, django_filters.NumberFilter):
        return "1"
    return "1"


def _walk_record(client, url, serializer_class, obj):
    body = client.get(url).json()
    for name in _output_fields(serializer_class):
        if is_pay_field(name):
            assert (name in body) is client.sees_pay, (url, name)
        else:
            assert name in body, (url, name)
    listed = client.get(url.rsplit("/", 2)[0] + "/").json()["results"]
    for row in listed:
        assert client.sees_pay or not any(is_pay_field(k) for k in row), row


def _walk_filters(client, list_url, filterset_class, obj):
    for name, flt in filterset_class.base_filters.items():
        response = client.get(list_url, {name: _filter_value(flt, obj)})
        if is_pay_field(name) and not client.sees_pay:
            assert response.status_code == 400 and name in response.json(), (name, response.content)
        else:
            assert response.status_code == 200, (name, response.content)


def _walk_orderings(client, list_url, ordering_fields):
    for field in ordering_fields:
        for term in (field, f"-{field}"):
            response = client.get(list_url, {"ordering": term})
            if is_pay_field(field) and not client.sees_pay:
                assert response.status_code == 400 and "ordering" in response.json(), term
            else:
                assert response.status_code == 200, (term, response.content)


def test_every_driver_field_filter_and_ordering(who, waybill):
    driver = waybill.driver
    _walk_record(who, f"/api/v1/drivers/{driver.pk}/", DriverSerializer, driver)
    _walk_filters(who, "/api/v1/drivers/", DriverFilter, driver)
    _walk_orderings(who, "/api/v1/drivers/", DriverViewSet.ordering_fields)


def test_every_waybill_field_filter_and_ordering(who, waybill):
    _walk_record(who, f"/api/v1/waybills/{waybill.pk}/", WaybillSerializer, waybill)
    _walk_filters(who, "/api/v1/waybills/", WaybillViewSet.filterset_class, waybill)
    _walk_orderings(who, "/api/v1/waybills/", WaybillViewSet.ordering_fields)


def test_the_pay_filters_and_orderings_are_walked():
    """The walk is not empty: drivers have pay to hide in a field, a filter and an ordering."""
    assert any(is_pay_field(n) for n in _output_fields(DriverSerializer))
    assert any(is_pay_field(n) for n in DriverFilter.base_filters)
    assert any(is_pay_field(n) for n in DriverViewSet.ordering_fields)
    assert any(c.pay for c in REPORTS["driver-payroll"].columns)


@pytest.mark.parametrize("slug", list(REPORTS))
def test_every_report_column_and_sort_key(who, waybill, slug):
    report = REPORTS[slug]
    pay_keys = {c.key for c in report.columns if c.pay} | set(report.extra_pay_keys)
    url = f"/api/v1/reports/{slug}/"
    body = who.get(url).json()
    for row in [*body["results"], body["totals"]]:
        assert who.sees_pay or not (pay_keys & set(row)), row
    shown = set(body["columns"])
    for column in report.columns:
        if column.pay:
            assert (column.key in shown) is who.sees_pay, column.key
    for key in report.form_class.sort_keys:
        for term in (key, f"-{key}"):
            response = who.get(url, {"sort": term})
            if key in pay_keys and not who.sees_pay:
                assert response.status_code == 400 and "sort" in response.json(), term
            else:
                assert response.status_code == 200, (term, response.content)


@pytest.mark.parametrize("sort", ["hourly_pay", "-amount"])
def test_a_manager_sorting_the_payroll_page_by_pay_gets_the_forms_error(make_user, waybill, sort):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(make_user(Role.MANAGER))
    response = client.get("/reports/payroll/", {"sort": sort})
    assert response.status_code == 400
    assert "may sort by it" in response.content.decode()
