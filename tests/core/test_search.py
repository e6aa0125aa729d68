"""The one search of every list (arenda/core/search.py): text in any case, phones, ИНН and
plates however they are typed, a number, and text that must neither fail nor find everything."""

import pytest
from django.db.models import Q

from arenda.core.search import NOTHING, Search, clean, words
from arenda.directory.models import Counterparty, Unit
from tests import factories as f

pytestmark = pytest.mark.django_db

COUNTERPARTY = Search(text=("name", "email"), phones=("phone",), inns=("inn",), numbers=("pk",))
UNIT = Search(text=("name", "equipment_type__name"), plates=("plate",))


@pytest.fixture
def crane_hire():
    f.CounterpartyFactory(name="ООО «Заказчик»", phone="+79031112233", inn=f.make_inn10(42))
    return f.CounterpartyFactory(
        name="ООО «Мостострой»", phone="+79161234567", inn=f.make_inn10(1234567), email="info@most.ru"
    )


def found(typed, search=COUNTERPARTY, model=Counterparty):
    return set(model.objects.filter(search.q(typed)).values_list("pk", flat=True))


@pytest.mark.parametrize(
    "typed",
    ["мостострой", "МОСТОСТРОЙ", "МостоСтрой", "мост", "ооо мостострой", "Мостострой, ООО", '"ООО «Мост"'],
)
def test_text_in_any_case_cyrillic_too_and_every_word(crane_hire, typed):
    assert found(typed) == {crane_hire.pk}


def test_every_word_must_be_found():
    assert words('ООО  "Мост строй", кран') == ["ООО", "Мост строй", "кран"]
    f.CounterpartyFactory(name="ООО «Мостострой»")
    assert found("ООО Кранстрой") == set()


@pytest.mark.parametrize(
    "typed",
    [
        "+79161234567",
        "8 916 123-45-67",
        "8 (916) 123-45-67",
        "+7 (916) 123",
        "7 916 123 45 67",
        "8916123",
        "9161234",
        "916 123 45 67",
        "4567",
    ],
)
def test_phone_typed_any_way(crane_hire, typed):
    assert found(typed) == {crane_hire.pk}


def test_inn_whole_in_part_or_spaced(crane_hire):
    inn = crane_hire.inn
    assert found(inn) == {crane_hire.pk}
    assert found(inn[:6]) == {crane_hire.pk}
    assert found(f"{inn[:4]} {inn[4:]}") == {crane_hire.pk}


def test_single_digit_does_not_match_inns_inside():
    # one digit is in nearly every ИНН: it finds an ИНН only when it is all of it
    by_name_and_inn = Search(text=("name",), inns=("inn",))
    f.CounterpartyFactory(name="ООО «Альфа»", inn=f.make_inn10(7))
    seven = f.CounterpartyFactory(name="Участок 7", inn=f.make_inn10(8))
    assert found("7", by_name_and_inn) == {seven.pk}
    assert found("77", by_name_and_inn) == set(Counterparty.objects.values_list("pk", flat=True))


@pytest.mark.parametrize(
    "typed", ["А123ВС77", "а123вс77", "a123bc77", "a 123 bc 77", "A-123-BC", "a123", "123 вс"]
)
def test_plate_with_latin_letters_and_spaces(typed):
    unit = f.UnitFactory(plate="А123ВС77", name="КС-55713")
    f.UnitFactory(plate="М456ОР99", name="КС-45717")
    assert found(typed, UNIT, Unit) == {unit.pk}


def test_number_exact(crane_hire):
    assert found(str(crane_hire.pk)) >= {crane_hire.pk}
    assert found(f"№ {crane_hire.pk}") == {crane_hire.pk}
    assert found(f"#{crane_hire.pk}") == {crane_hire.pk}
    # too long for a bigint: no number, and no failure
    assert found("9" * 40) == set()


@pytest.mark.parametrize("typed", ["%", "_", "%%", "_%_", "\\", "'", '"', "\\%", "%мост%"])
def test_like_wildcards_are_literal(crane_hire, typed):
    assert found(typed) == set()


@pytest.mark.parametrize("typed", ["\x00", "\x00\x00", " \x00 ", "\x01\x1f"])
def test_control_characters_alone_find_nothing(crane_hire, typed):
    assert COUNTERPARTY.q(typed) == NOTHING
    assert found(typed) == set()


def test_nul_inside_text_is_dropped(crane_hire):
    assert clean("мост\x00строй") == "мост строй"
    assert found("мост\x00строй") == {crane_hire.pk}


def test_nothing_typed_is_everything(crane_hire):
    assert COUNTERPARTY.q("") == Q() and COUNTERPARTY.q("   ") == Q()
    assert len(found("")) == 2


def test_long_text_is_cut_and_still_answers(crane_hire):
    assert found("мост " * 500) == {crane_hire.pk}
    assert len(clean("я" * 10000)) == 200


def test_a_search_with_only_numbers_finds_nothing_for_text(crane_hire):
    only_number = Search(numbers=("pk",))
    assert Counterparty.objects.filter(only_number.q("мост")).count() == 0
    assert set(Counterparty.objects.filter(only_number.q(str(crane_hire.pk)))) == {crane_hire}


DEAL = Search(text=("title", "counterparty__name"), inns=("counterparty__inn",))


def test_a_search_across_a_relation_finds_what_the_join_found():
    """Given the model, an OR reaching across a relation is a union of row ids (served by
    each table's indexes, docs/large-lists.md): the same rows as the plain OR."""
    from arenda.crm.models import Deal

    by_title = f.DealFactory(title="Погрузчик на Мостострой")
    by_customer = f.DealFactory(counterparty=f.CounterpartyFactory(name="ООО «Мостострой»"))
    by_inn = f.DealFactory(counterparty=f.CounterpartyFactory(inn=f.make_inn10(7654321)))
    f.DealFactory(title="Экскаватор", counterparty=f.CounterpartyFactory(name="ООО «Север»"))
    for typed, expected in [
        ("мостострой", {by_title.pk, by_customer.pk}),
        ("погрузчик мостострой", {by_title.pk}),
        ("765432", {by_inn.pk}),
    ]:
        union = DEAL.q(typed, model=Deal)
        assert set(Deal.objects.filter(union).values_list("pk", flat=True)) == expected, typed
        assert set(Deal.objects.filter(DEAL.q(typed)).values_list("pk", flat=True)) == expected, typed
        assert "UNION" in str(Deal.objects.filter(union).query).upper()


def test_a_search_of_own_fields_stays_a_plain_or(crane_hire):
    assert "UNION" not in str(Counterparty.objects.filter(COUNTERPARTY.q("мост", model=Counterparty)).query)
    assert found("мост") == {crane_hire.pk}
