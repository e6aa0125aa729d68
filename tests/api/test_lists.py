"""Pagination, filters, search, ordering — and a constant number of queries per list."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arenda.core.roles import Role
from tests import factories as f
from tests.api.conftest import SPECS


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_pagination(api):
    f.DriverFactory.create_batch(7)
    client = api()
    page = client.get("/api/v1/drivers/?page_size=3").json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert (page["count"], len(page["results"]), page["previous"]) == (7, 3, None)
    last = client.get("/api/v1/drivers/?page_size=3&page=3").json()
    assert len(last["results"]) == 1 and last["next"] is None
    assert client.get("/api/v1/drivers/?page_size=100000").status_code == 200


def test_page_size_is_capped_at_500(api):
    f.EquipmentTypeFactory.create_batch(501)
    page = api().get("/api/v1/equipment-types/?page_size=1000").json()
    assert (page["count"], len(page["results"])) == (501, 500)


def test_counterparty_filters(api):
    base = f.AccountingBaseFactory()
    in_base = f.CounterpartyFactory(accounting_base=base, prepayment_required=False)
    person = f.CounterpartyFactory(kind="person", inn="", kpp="", ogrn="")
    other = f.CounterpartyFactory()
    client = api(Role.ACCOUNTANT)
    assert ids(client.get(f"/api/v1/counterparties/?accounting_base={base.pk}")) == [in_base.pk]
    assert ids(client.get("/api/v1/counterparties/?kind=person")) == [person.pk]
    assert ids(client.get("/api/v1/counterparties/?prepayment_required=false")) == [in_base.pk]
    assert set(ids(client.get("/api/v1/counterparties/?prepayment_required=true"))) == {person.pk, other.pk}
    assert ids(client.get(f"/api/v1/counterparties/?inn={other.inn}")) == [other.pk]


def test_unit_filters(api):
    crane = f.EquipmentTypeFactory(name="Автокран")
    small = f.UnitFactory(equipment_type=crane, capacity_t=Decimal("16"))
    big = f.UnitFactory(equipment_type=crane, capacity_t=Decimal("50"))
    supplier = f.SupplierFactory()
    hired = f.UnitFactory(equipment_type=crane, capacity_t=Decimal("25"), owner="supplier", supplier=supplier)
    f.UnitFactory(capacity_t=Decimal("100"), is_active=False)
    client = api()
    assert ids(
        client.get(f"/api/v1/units/?equipment_type={crane.pk}&min_capacity_t=25&ordering=capacity_t")
    ) == [
        hired.pk,
        big.pk,
    ]
    assert ids(client.get(f"/api/v1/units/?equipment_type={crane.pk}&max_capacity_t=20")) == [small.pk]
    assert ids(client.get(f"/api/v1/units/?supplier={supplier.pk}")) == [hired.pk]
    assert ids(client.get("/api/v1/units/?owner=supplier")) == [hired.pk]
    assert len(ids(client.get("/api/v1/units/?is_active=true"))) == 3
    assert client.get("/api/v1/units/?min_capacity_t=heavy").status_code == 400


def test_other_filters(api):
    client = api(Role.ADMIN)
    contractor = f.DriverFactory(employment="contractor")
    f.DriverFactory()
    assert ids(client.get("/api/v1/drivers/?employment=contractor")) == [contractor.pk]
    contact = f.ContactFactory()
    f.ContactFactory()
    assert ids(client.get(f"/api/v1/contacts/?counterparty={contact.counterparty_id}")) == [contact.pk]
    base = f.AccountingBaseFactory()
    f.AccountingBaseFactory()
    assert ids(client.get(f"/api/v1/accounting-bases/?organization={base.organization_id}")) == [base.pk]
    assert ids(client.get("/api/v1/users/?role=admin")) == [client.user.pk]


def test_search(api):
    client = api(Role.ADMIN)
    counterparty = f.CounterpartyFactory(name="ООО «Мостострой»", phone="+79161112233")
    f.CounterpartyFactory()
    assert ids(client.get("/api/v1/counterparties/?search=мостострой")) == [counterparty.pk]
    assert ids(client.get(f"/api/v1/counterparties/?search={counterparty.inn}")) == [counterparty.pk]
    assert ids(client.get("/api/v1/counterparties/?search=8 (916) 111-22-33")) == [counterparty.pk]
    assert ids(client.get("/api/v1/counterparties/?search=1112233")) == [counterparty.pk]

    unit = f.UnitFactory(plate="А123ВС77")
    f.UnitFactory()
    assert ids(client.get("/api/v1/units/?search=a123bc 77")) == [unit.pk]
    assert ids(client.get("/api/v1/units/?search=А123")) == [unit.pk]

    driver = f.DriverFactory(full_name="Баранкин Пётр", phone="+79150000001")
    assert ids(client.get("/api/v1/drivers/?search=89150000001")) == [driver.pk]
    supplier = f.SupplierFactory(name="ООО «Тягач»")
    assert ids(client.get("/api/v1/suppliers/?search=тягач")) == [supplier.pk]


def test_search_for_an_inn_that_looks_like_a_phone(api):
    counterparty = f.CounterpartyFactory(inn=f.make_inn10(1234567))
    assert ids(api().get(f"/api/v1/counterparties/?search={counterparty.inn}")) == [counterparty.pk]


def test_ordering(api):
    cheap = f.DriverFactory(hourly_pay=Decimal("500"))
    dear = f.DriverFactory(hourly_pay=Decimal("900"))
    client = api(Role.ACCOUNTANT)  # a manager may not sort by pay (tests/api/test_driver_pay.py)
    assert ids(client.get("/api/v1/drivers/?ordering=-hourly_pay")) == [dear.pk, cheap.pk]
    assert ids(client.get("/api/v1/drivers/?ordering=hourly_pay")) == [cheap.pk, dear.pk]


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("resource", list(SPECS))
def test_list_queries_do_not_grow_with_rows(api, resource, django_assert_max_num_queries):
    spec = SPECS[resource]
    client = api(Role.ADMIN)
    first = spec.make()
    url = spec.list_url(first)
    one = _count_queries(client, url)
    for _ in range(29):
        if resource == "maintenance":
            f.MaintenanceWindowFactory(unit=first.unit)
        elif resource == "driver_document":
            f.DriverDocumentFactory(driver=first.driver)
        elif resource == "accounting_base":
            f.AccountingBaseFactory(organization=f.OrganizationFactory())
        elif resource == "unit":
            f.UnitFactory(
                owner="supplier", supplier=f.SupplierFactory(), equipment_type=f.EquipmentTypeFactory()
            )
        else:
            spec.make()
    assert client.get(url).json()["count"] >= 30
    with django_assert_max_num_queries(one):
        client.get(url)
