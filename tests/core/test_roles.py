"""The permission matrix, written out here by hand: a change to who may do what must be a
deliberate change of this table too."""

import pytest
from django.contrib.auth.models import AnonymousUser

from arenda.core.roles import (
    MATRIX,
    PAY_FIELDS,
    SPECIAL,
    Role,
    can,
    can_change_pay,
    can_see_pay,
    has_special,
    is_pay_field,
    role_of,
)

# resource: (manager, accountant, director); R view, C add, U change, D delete.
EXPECTED = {
    "user": ("", "", ""),
    "organization": ("R", "RCU", "R"),
    "accounting_base": ("", "RCUD", "R"),
    "counterparty": ("RCU", "RCUD", "R"),
    "contact": ("RCUD", "RCUD", "R"),
    "supplier": ("RCU", "RCU", "R"),
    "equipment_type": ("R", "R", "R"),
    "unit": ("RCU", "R", "R"),
    "maintenance": ("RCUD", "R", "R"),
    "driver": ("RCU", "RU", "R"),
    "driver_document": ("RCUD", "R", "R"),
    "lead": ("RCU", "R", "R"),
    "intake_token": ("", "", ""),
    "deal": ("RCU", "R", "R"),
    "booking": ("RCU", "R", "R"),
    "supply_order": ("RCU", "R", "R"),
    "company_settings": ("R", "R", "R"),
    "invoice": ("RCU", "RCUD", "R"),
    "payment": ("R", "RCUD", "R"),
    "bank_statement": ("", "RCUD", "R"),
    "waybill": ("RCU", "RU", "R"),
    "report": ("R", "R", "R"),
}
LETTERS = {"view": "R", "add": "C", "change": "U", "delete": "D"}
ROLE_COLUMNS = (Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR)


def test_table_covers_every_resource():
    assert set(EXPECTED) == set(MATRIX)


@pytest.mark.parametrize("resource", sorted(EXPECTED))
@pytest.mark.parametrize("action", sorted(LETTERS))
def test_can_matches_the_table(make_user, resource, action):
    for role, allowed in zip(ROLE_COLUMNS, EXPECTED[resource], strict=True):
        assert can(make_user(role), action, resource) is (LETTERS[action] in allowed), (
            role,
            action,
            resource,
        )
    assert can(make_user(Role.ADMIN), action, resource) is True


def test_superuser_is_admin_whatever_the_role(make_user):
    boss = make_user(Role.DIRECTOR, is_superuser=True)
    assert role_of(boss) == Role.ADMIN
    assert can(boss, "delete", "user")
    assert has_special(boss, "manage_users")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR])
def test_inactive_user_has_no_rights(make_user, role):
    user = make_user(role, is_active=False)
    assert role_of(user) is None
    assert not any(can(user, action, resource) for resource in MATRIX for action in LETTERS)
    assert not has_special(user, "set_counterparty_accounting_base")


def test_anonymous_has_no_rights():
    assert role_of(AnonymousUser()) is None
    assert role_of(None) is None
    assert not can(AnonymousUser(), "view", "unit")


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR])
def test_unknown_resource_raises(make_user, role):
    with pytest.raises(KeyError, match="unknown resource"):
        can(make_user(role), "view", "units")


def test_special_rights(make_user):
    expected = {
        "set_counterparty_accounting_base": {Role.ADMIN, Role.ACCOUNTANT},
        "manage_users": {Role.ADMIN},
        "cancel_invoice": {Role.ADMIN, Role.ACCOUNTANT},
        "view_driver_pay": {Role.ADMIN, Role.ACCOUNTANT, Role.DIRECTOR},
        "change_driver_pay": {Role.ADMIN, Role.ACCOUNTANT},
    }
    assert set(expected) == set(SPECIAL)
    for right, roles in expected.items():
        for role in (Role.ADMIN, Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR):
            assert has_special(make_user(role), right) is (role in roles), (right, role)


def test_a_manager_may_be_allowed_to_see_drivers_pay(make_user):
    manager = make_user(Role.MANAGER, may_see_driver_pay=True)
    assert has_special(manager, "view_driver_pay")
    assert not has_special(manager, "cancel_invoice")
    assert not has_special(
        make_user(Role.MANAGER, may_see_driver_pay=True, is_active=False), "view_driver_pay"
    )


def test_the_pay_right_lets_a_manager_see_pay_but_never_change_it(make_user):
    manager = make_user(Role.MANAGER, may_see_driver_pay=True)
    assert can_see_pay(manager)
    assert not can_change_pay(manager)
    assert not can_see_pay(make_user(Role.MANAGER))
    assert can_change_pay(make_user(Role.ACCOUNTANT))
    assert not can_change_pay(make_user(Role.DIRECTOR))


def test_pay_field_names_cover_orderings_and_filters():
    assert {"hourly_pay"} <= PAY_FIELDS
    for name in (
        "hourly_pay",
        "-hourly_pay",
        " hourly_pay",
        "hourly_pay__gte",
        "hourly_pay_min",
        "hourly_pay_from",
    ):
        assert is_pay_field(name), name
    for name in ("full_name", "-created_at", "pay", "hourly"):
        assert not is_pay_field(name), name
