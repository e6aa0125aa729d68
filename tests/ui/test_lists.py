"""Lists: search, filters, sorting, pagination, the HTMX results partial, and a query count
that does not grow with the rows."""

import pytest
from django.urls import reverse

from arenda.core.roles import Role
from tests.factories import (
    AccountingBaseFactory,
    ContactFactory,
    CounterpartyFactory,
    DriverFactory,
    EquipmentTypeFactory,
    SupplierFactory,
    UnitFactory,
    make_inn12,
)
from tests.ui.conftest import FACTORIES

LIST = reverse("directory:counterparty_list")


def names(response):
    return [row["obj"].name for row in response.context["rows"]]


def test_search_is_case_insensitive_in_cyrillic(ui):
    CounterpartyFactory(name="ООО «Бетонмастер»")
    CounterpartyFactory(name="АО «Кранстрой»")
    client = ui(Role.MANAGER)
    assert names(client.get(LIST, {"q": "бетон"})) == ["ООО «Бетонмастер»"]
    assert names(client.get(LIST, {"q": "КРАН"})) == ["АО «Кранстрой»"]


def test_search_finds_inn_and_phone(ui):
    target = CounterpartyFactory(phone="+79161234567")
    CounterpartyFactory()
    client = ui(Role.MANAGER)
    assert names(client.get(LIST, {"q": target.inn})) == [target.name]
    assert names(client.get(LIST, {"q": "9161234567"})) == [target.name]


def test_unit_search_accepts_a_plate_typed_in_latin(ui):
    UnitFactory(plate="А123ВС77")
    UnitFactory(plate="М456ОР99")
    response = ui(Role.MANAGER).get(reverse("directory:unit_list"), {"q": "a123bc"})
    assert [row["obj"].plate for row in response.context["rows"]] == ["А123ВС77"]


def test_filters_combine_and_stay_in_the_url(ui):
    base = AccountingBaseFactory()
    CounterpartyFactory(name="Юрлицо в базе", accounting_base=base)
    CounterpartyFactory(name="Юрлицо без базы")
    CounterpartyFactory(
        name="ИП в базе", kind="sole_trader", inn=make_inn12(7), kpp="", ogrn="", accounting_base=base
    )
    client = ui(Role.ACCOUNTANT)
    response = client.get(LIST, {"base": base.pk, "kind": "legal"})
    assert names(response) == ["Юрлицо в базе"]
    html = response.content.decode()
    assert f'<option value="{base.pk}" selected>' in html
    assert '<option value="legal" selected>' in html
    # a filter value that is not a choice is ignored, not an error
    assert len(names(client.get(LIST, {"kind": "alien"}))) == 3


def test_boolean_and_foreign_key_filters_on_units(ui):
    crane, loader = EquipmentTypeFactory(name="Автокран"), EquipmentTypeFactory(name="Погрузчик")
    UnitFactory(equipment_type=crane, is_active=True, name="Кран 1")
    UnitFactory(equipment_type=crane, is_active=False, name="Кран 2")
    UnitFactory(equipment_type=loader, name="Погрузчик 1")
    response = ui(Role.DIRECTOR).get(reverse("directory:unit_list"), {"type": crane.pk, "active": "0"})
    assert [row["obj"].name for row in response.context["rows"]] == ["Кран 2"]


def test_sorting_by_column_both_ways(ui):
    for name in ("Бета", "Альфа", "Гамма"):
        CounterpartyFactory(name=name)
    client = ui(Role.MANAGER)
    assert names(client.get(LIST, {"o": "name"})) == ["Альфа", "Бета", "Гамма"]
    assert names(client.get(LIST, {"o": "-name"})) == ["Гамма", "Бета", "Альфа"]
    # an unknown column falls back to the default order instead of failing
    assert client.get(LIST, {"o": "password"}).status_code == 200


def test_pagination_keeps_filters_and_shows_the_count(ui):
    CounterpartyFactory.create_batch(53, kind="legal")
    client = ui(Role.MANAGER)
    first = client.get(LIST, {"kind": "legal"})
    assert len(first.context["rows"]) == 50
    html = first.content.decode()
    assert "Showing 1–50 of 53" in html
    assert "?kind=legal&amp;page=2" in html
    second = client.get(LIST, {"kind": "legal", "page": 2})
    assert len(second.context["rows"]) == 3
    assert "Showing 51–53 of 53" in second.content.decode()


def test_htmx_search_returns_only_the_results(ui):
    CounterpartyFactory(name="ООО «Бетонмастер»")
    response = ui(Role.MANAGER).get(LIST, {"q": "бетон"}, headers={"HX-Request": "true"})
    html = response.content.decode().strip()
    assert html.startswith('<div id="results"')
    assert "<nav" not in html and "Бетонмастер" in html
    # links keep their href so they work without HTMX too
    assert 'href="/directory/counterparties/' in html


def test_empty_states(ui):
    client = ui(Role.MANAGER)
    empty = client.get(LIST).content.decode()
    assert "There are no counterparties yet." in empty
    assert reverse("directory:counterparty_create") in empty
    CounterpartyFactory()
    nothing = client.get(LIST, {"q": "zzzz"}).content.decode()
    assert "Nothing matches" in nothing


def _make_rows(resource, count):
    if resource == "counterparty":
        for _ in range(count):
            CounterpartyFactory(accounting_base=AccountingBaseFactory())
    elif resource == "unit":
        for _ in range(count):
            UnitFactory(equipment_type=EquipmentTypeFactory(), owner="supplier", supplier=SupplierFactory())
    elif resource == "contact":
        ContactFactory.create_batch(count)
    elif resource == "driver":
        DriverFactory.create_batch(count)
    else:
        FACTORIES[resource].create_batch(count)


@pytest.mark.parametrize("resource", FACTORIES)
def test_list_queries_do_not_grow_with_rows(ui, resource, django_assert_max_num_queries):
    client = ui(Role.ADMIN)
    url = reverse(f"directory:{resource}_list")
    _make_rows(resource, 2)
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    _make_rows(resource, 20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["rows"]) >= 22


def test_phone_search_accepts_the_way_people_type_it(ui):
    target = CounterpartyFactory(phone="+79161234567")
    CounterpartyFactory()
    assert names(ui(Role.MANAGER).get(LIST, {"q": "8 (916) 123-45-67"})) == [target.name]
