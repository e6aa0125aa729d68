from datetime import timedelta

import factory
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from arenda.core.roles import Role
from arenda.directory import services
from arenda.directory.models import Counterparty, Unit
from tests.factories import (
    AccountingBaseFactory,
    CounterpartyFactory,
    EquipmentTypeFactory,
    MaintenanceWindowFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db


def counterparty_data(**overrides) -> dict:
    return factory.build(dict, FACTORY_CLASS=CounterpartyFactory, **overrides)


def unit_data(**overrides) -> dict:
    data = factory.build(dict, FACTORY_CLASS=UnitFactory, equipment_type=EquipmentTypeFactory())
    return data | overrides


def errors_of(call, *args, **kwargs) -> dict:
    with pytest.raises(ValidationError) as exc:
        call(*args, **kwargs)
    return exc.value.message_dict


def test_duplicate_counterparty_names_the_existing_one(make_user):
    manager = make_user(Role.MANAGER)
    first = services.counterparty_create(by=manager, **counterparty_data(inn="7707083893", kpp="773601001"))
    errors = errors_of(
        services.counterparty_create, by=manager, **counterparty_data(inn="7707083893", kpp="773601001")
    )
    assert set(errors) == {"inn"}
    assert f"#{first.pk}" in errors["inn"][0]
    assert first.name in errors["inn"][0]
    assert Counterparty.objects.filter(inn="7707083893").count() == 1


def test_updating_into_a_duplicate_is_refused_too(make_user):
    manager = make_user(Role.MANAGER)
    first = CounterpartyFactory(inn="7707083893", kpp="773601001")
    second = CounterpartyFactory()
    errors = errors_of(
        services.counterparty_update, instance=second, by=manager, inn="7707083893", kpp="773601001"
    )
    assert f"#{first.pk}" in errors["inn"][0]


def test_saving_a_counterparty_again_is_not_a_duplicate_of_itself(make_user):
    cp = CounterpartyFactory()
    services.counterparty_update(instance=cp, by=make_user(Role.MANAGER), name="ООО «Новое имя»")
    cp.refresh_from_db()
    assert cp.name == "ООО «Новое имя»"


def test_two_persons_without_inn(make_user):
    manager = make_user(Role.MANAGER)
    for name in ("Иванов Иван", "Петров Пётр"):
        services.counterparty_create(by=manager, kind="person", name=name, inn="", kpp="", ogrn="")
    assert Counterparty.objects.filter(kind="person").count() == 2


def test_phone_normalised_on_save(make_user):
    cp = services.counterparty_create(
        by=make_user(Role.MANAGER), **counterparty_data(phone="8 (912) 345-67-89")
    )
    cp.refresh_from_db()
    assert cp.phone == "+79123456789"


def test_bad_requisites_are_refused_by_field(make_user):
    errors = errors_of(
        services.counterparty_create,
        by=make_user(Role.MANAGER),
        **counterparty_data(inn="7707083894", kpp="77360100", ogrn="1027700132194"),
    )
    assert {"inn", "kpp", "ogrn"} <= set(errors)
    assert not Counterparty.objects.exists()


def test_plate_normalised_on_save_and_unique(make_user):
    manager = make_user(Role.MANAGER)
    unit = services.unit_create(by=manager, **unit_data(plate="a 123 bc 77"))
    unit.refresh_from_db()
    assert unit.plate == "А123ВС77"
    errors = errors_of(services.unit_create, by=manager, **unit_data(plate="А123ВС77"))
    assert set(errors) == {"plate"}
    assert f"#{unit.pk}" in errors["plate"][0]
    assert Unit.objects.count() == 1


def test_invalid_plate_refused(make_user):
    errors = errors_of(services.unit_create, by=make_user(Role.MANAGER), **unit_data(plate="А123ВБ77"))
    assert "plate" in errors


def test_maintenance_end_after_start(make_user):
    window = MaintenanceWindowFactory()
    errors = errors_of(
        services.maintenance_update,
        instance=window,
        by=make_user(Role.MANAGER),
        end=window.start - timedelta(hours=1),
    )
    assert "end" in errors


def test_manager_cannot_set_the_accounting_base(make_user):
    manager = make_user(Role.MANAGER)
    base = AccountingBaseFactory()
    with pytest.raises(PermissionDenied):
        services.counterparty_create(by=manager, **counterparty_data(accounting_base=base))
    assert not Counterparty.objects.exists()
    cp = CounterpartyFactory()
    with pytest.raises(PermissionDenied):
        services.counterparty_update(instance=cp, by=manager, accounting_base=base)
    cp.refresh_from_db()
    assert cp.accounting_base is None


def test_manager_may_edit_a_counterparty_whose_base_the_accountant_set(make_user):
    base = AccountingBaseFactory()
    cp = CounterpartyFactory(accounting_base=base)
    services.counterparty_update(
        instance=cp, by=make_user(Role.MANAGER), accounting_base=base, name="ООО «Ромашка»"
    )
    cp.refresh_from_db()
    assert (cp.name, cp.accounting_base) == ("ООО «Ромашка»", base)


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.ADMIN])
def test_accountant_and_admin_set_the_accounting_base(make_user, role):
    user = make_user(role)
    base, other = AccountingBaseFactory(), AccountingBaseFactory()
    cp = services.counterparty_create(by=user, **counterparty_data(accounting_base=base))
    services.counterparty_update(instance=cp, by=user, accounting_base=other)
    cp.refresh_from_db()
    assert cp.accounting_base == other


def test_history_records_the_author(make_user):
    manager, accountant = make_user(Role.MANAGER), make_user(Role.ACCOUNTANT)
    cp = services.counterparty_create(by=manager, **counterparty_data())
    services.counterparty_update(instance=cp, by=accountant, payment_terms_days=10)
    assert cp.history.count() == 2
    assert cp.history.first().history_user == accountant  # newest first
    assert cp.history.last().history_user == manager
    assert cp.history.first().diff_against(cp.history.last()).changed_fields == ["payment_terms_days"]


def test_accounting_base_password_is_kept_when_left_empty(make_user):
    accountant = make_user(Role.ACCOUNTANT)
    base = AccountingBaseFactory(password="old-secret")
    services.accounting_base_update(instance=base, by=accountant, password="", name="БП 2")
    base.refresh_from_db()
    assert (base.name, base.password) == ("БП 2", "old-secret")
    # Another 1C user is another set of credentials: the stored password does not follow it
    # (tests/onec/test_credentials.py).
    with pytest.raises(ValidationError) as refused:
        services.accounting_base_update(instance=base, by=accountant, password="", username="odata2")
    assert "password" in refused.value.message_dict
