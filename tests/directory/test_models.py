"""Reference-data rules at both levels: ``clean()`` for a readable error, and a database
constraint so that no write path (bulk insert, raw SQL, a race) can break them."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from arenda.directory.models import Counterparty, MaintenanceWindow, Unit
from tests.factories import (
    BIK,
    CounterpartyFactory,
    EquipmentTypeFactory,
    MaintenanceWindowFactory,
    SupplierFactory,
    UnitFactory,
    make_account,
    make_corr_account,
    make_inn10,
    make_inn12,
)

pytestmark = pytest.mark.django_db


def clean_errors(instance) -> dict:
    with pytest.raises(ValidationError) as exc:
        instance.full_clean()
    return exc.value.message_dict


def test_counterparty_inn_kpp_unique_in_the_database():
    CounterpartyFactory(inn="7707083893", kpp="773601001")
    with pytest.raises(IntegrityError), transaction.atomic():
        Counterparty.objects.create(kind="legal", name="Дубль", inn="7707083893", kpp="773601001")


def test_same_inn_other_kpp_is_a_branch_not_a_duplicate():
    CounterpartyFactory(inn="7707083893", kpp="773601001")
    branch = CounterpartyFactory(inn="7707083893", kpp="773643001")
    branch.full_clean()


def test_persons_without_inn_do_not_collide():
    for name in ("Иванов Иван", "Петров Пётр"):
        Counterparty.objects.create(kind="person", name=name, inn="", kpp="")
    assert Counterparty.objects.filter(inn="").count() == 2


def test_an_organisation_without_its_kpp_is_recorded_but_lacks_it_for_invoices():
    cp = CounterpartyFactory.build(kind="legal", kpp="")
    cp.full_clean()  # nothing refused
    assert cp.missing_requisites() == ["kpp"]


def test_kpp_forbidden_for_a_sole_trader_and_a_person():
    for kind, inn in (("sole_trader", make_inn12(1)), ("person", make_inn12(2))):
        cp = CounterpartyFactory.build(kind=kind, inn=inn, kpp="773601001", ogrn="")
        assert "kpp" in clean_errors(cp), kind


def test_inn_length_per_kind():
    assert "inn" in clean_errors(CounterpartyFactory.build(kind="legal", inn=make_inn12(3)))
    sole = CounterpartyFactory.build(kind="sole_trader", inn=make_inn10(3), kpp="", ogrn="")
    assert "inn" in clean_errors(sole)
    CounterpartyFactory.build(kind="sole_trader", inn=make_inn12(4), kpp="", ogrn="").full_clean()


def test_an_organisation_or_a_sole_trader_without_an_inn_lacks_it_for_invoices():
    assert CounterpartyFactory.build(kind="legal", inn="", kpp="").missing_requisites() == ["inn", "kpp"]
    assert CounterpartyFactory.build(kind="sole_trader", inn="", kpp="").missing_requisites() == ["inn"]
    assert CounterpartyFactory.build(kind="person", inn="", kpp="").missing_requisites() == []


@pytest.mark.parametrize(
    "name, inn, kind",
    [
        ("ООО СтройМонтаж", "", "legal"),
        ("ООО «КровляДевелопмент-М»", "", "legal"),
        ("АО «Мостострой-11»", "", "legal"),
        ("ИП Петров А. А.", "", "sole_trader"),
        ("Индивидуальный предприниматель Петров", "", "sole_trader"),
        ("Петров Алексей", "", "person"),
        ("", "7707083893", "legal"),
        ("", "500100732259", "sole_trader"),
        ("Ооорганика", "", "person"),
    ],
)
def test_what_a_name_and_an_inn_say_a_counterparty_is(name, inn, kind):
    assert Counterparty.kind_for(name=name, inn=inn) == kind


def test_ogrn_length_per_kind():
    legal = CounterpartyFactory.build(kind="legal", ogrn="304500116000157")
    assert "ogrn" in clean_errors(legal)
    sole = CounterpartyFactory.build(kind="sole_trader", inn=make_inn12(5), kpp="", ogrn="1027700132195")
    assert "ogrn" in clean_errors(sole)


def test_account_not_matching_the_bik_names_account():
    other_bik = "044525593"  # the account below is keyed for BIK 044525225
    cp = CounterpartyFactory.build(bik=other_bik, account=make_account(BIK, 7), corr_account="")
    errors = clean_errors(cp)
    assert set(errors) == {"account"}


def test_correspondent_account_not_matching_the_bik_names_corr_account():
    cp = CounterpartyFactory.build(bik="045004641", account="", corr_account=make_corr_account(BIK))
    assert set(clean_errors(cp)) == {"corr_account"}


def test_matching_bank_requisites_pass():
    CounterpartyFactory.build(
        bik=BIK, account=make_account(BIK, 7), corr_account=make_corr_account(BIK)
    ).full_clean()


def test_account_without_bik_asks_for_the_bik():
    cp = CounterpartyFactory.build(bik="", account=make_account(BIK, 7))
    assert "bik" in clean_errors(cp)


def test_unit_owner_and_supplier_agree_in_clean():
    supplier = SupplierFactory()
    assert "supplier" in clean_errors(
        UnitFactory.build(equipment_type=EquipmentTypeFactory(), owner="supplier")
    )
    own_with_supplier = UnitFactory.build(
        equipment_type=EquipmentTypeFactory(), owner="own", supplier=supplier
    )
    assert "supplier" in clean_errors(own_with_supplier)
    UnitFactory.build(equipment_type=EquipmentTypeFactory(), owner="supplier", supplier=supplier).full_clean()


@pytest.mark.parametrize("owner, with_supplier", [("supplier", False), ("own", True)])
def test_unit_owner_and_supplier_agree_in_the_database(owner, with_supplier):
    supplier = SupplierFactory() if with_supplier else None
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.create(
            equipment_type=EquipmentTypeFactory(),
            name="Автокран",
            capacity_t=25,
            plate="А001АА77",
            owner=owner,
            supplier=supplier,
        )


def test_unit_plate_unique_in_the_database():
    UnitFactory(plate="А123ВС77")
    with pytest.raises(IntegrityError), transaction.atomic():
        UnitFactory(plate="А123ВС77")


def test_maintenance_end_after_start_in_clean():
    window = MaintenanceWindowFactory()
    window.end = window.start
    assert "end" in clean_errors(window)
    window.end = window.start - timedelta(hours=1)
    assert "end" in clean_errors(window)


@pytest.mark.parametrize("hours", [0, -1])
def test_maintenance_end_after_start_in_the_database(hours):
    window = MaintenanceWindowFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        MaintenanceWindow.objects.create(
            unit=window.unit, start=window.start, end=window.start + timedelta(hours=hours), reason="ТО"
        )


def test_a_person_has_a_12_digit_inn_and_no_ogrn():
    from django.core.exceptions import ValidationError

    from arenda.directory.models import Counterparty
    from tests.factories import make_inn10, make_inn12, make_ogrn

    person = Counterparty(kind="person", name="Иванов Иван", inn=make_inn10(4242))
    with pytest.raises(ValidationError) as err:
        person.full_clean()
    assert "inn" in err.value.message_dict
    person = Counterparty(kind="person", name="Иванов Иван", inn=make_inn12(4242), ogrn=make_ogrn(1))
    with pytest.raises(ValidationError) as err:
        person.full_clean()
    assert set(err.value.message_dict) == {"ogrn"}
