"""Writes of reference data. Views, API, admin, commands and tasks all call these."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from arenda.core import audit
from arenda.core.roles import has_special
from arenda.core.services import record_create, record_delete, record_update
from arenda.directory.models import (
    AccountingBase,
    Contact,
    Counterparty,
    Driver,
    EquipmentType,
    MaintenanceWindow,
    Organization,
    Supplier,
    Unit,
)


def _base_id(value):
    return getattr(value, "pk", value)


def _guard_accounting_base(*, by, old, new) -> None:
    """Only the accountant and the admin decide which 1C base a counterparty belongs to."""
    if _base_id(old) != _base_id(new) and not has_special(by, "set_counterparty_accounting_base"):
        raise PermissionDenied(
            _("Only an accountant or an administrator may set the counterparty's 1C base.")
        )


@transaction.atomic
def counterparty_create(*, by, **data) -> Counterparty:
    _guard_accounting_base(by=by, old=None, new=data.get("accounting_base"))
    return record_create(Counterparty, data=data, by=by)


@transaction.atomic
def counterparty_update(*, instance: Counterparty, by, **data) -> Counterparty:
    if "accounting_base" in data:
        _guard_accounting_base(by=by, old=instance.accounting_base_id, new=data["accounting_base"])
    return record_update(instance, data=data, by=by)


def counterparty_delete(*, instance: Counterparty, by) -> None:
    record_delete(instance, by=by)


# What the audit trail records of a 1C base's change (never its password: only whether it
# was set). docs/security.md, «The audit trail of access».
_BASE_AUDITED = ("name", "organization_id", "kind", "odata_url", "username", "is_active")


def _audit_base(base: AccountingBase, *, by, action: str, changed=(), password_set=False) -> None:
    what = [*changed, *(["password"] if password_set else [])]
    audit.record(
        audit.Kind.ACCOUNTING_BASE_CHANGED,
        by=by,
        target=base,
        summary=f"{action}: {', '.join(what)}" if what else action,
        action=action,
        base=base.pk,
        changed=list(changed),
        odata_url=base.odata_url,
        username=base.username,
        password_set=password_set,
    )


@transaction.atomic
def accounting_base_create(*, by, **data) -> AccountingBase:
    base = record_create(AccountingBase, data=data, by=by)
    _audit_base(base, by=by, action="created", password_set=bool(base.password))
    return base


@transaction.atomic
def accounting_base_update(*, instance: AccountingBase, by, **data) -> AccountingBase:
    """Change a 1C base. An empty password means "keep the stored one" (it is write-only) —
    unless the OData URL or the user changes: then the model asks for the password again
    and never sends the stored one to the new address (``AccountingBase.clean``)."""
    if not data.get("password"):
        data.pop("password", None)
    before = AccountingBase.objects.filter(pk=instance.pk).values(*_BASE_AUDITED).first() or {}
    base = record_update(instance, data=data, by=by)
    changed = [name.removesuffix("_id") for name in _BASE_AUDITED if before.get(name) != getattr(base, name)]
    if changed or "password" in data:
        _audit_base(base, by=by, action="changed", changed=changed, password_set="password" in data)
    return base


@transaction.atomic
def accounting_base_delete(*, instance: AccountingBase, by) -> None:
    record_delete(instance, by=by)
    audit.record(
        audit.Kind.ACCOUNTING_BASE_CHANGED, by=by, target=instance, summary="deleted", action="deleted"
    )


def _simple(model):
    def create(*, by, **data):
        return record_create(model, data=data, by=by)

    def update(*, instance, by, **data):
        return record_update(instance, data=data, by=by)

    def delete(*, instance, by):
        record_delete(instance, by=by)

    return create, update, delete


organization_create, organization_update, organization_delete = _simple(Organization)
contact_create, contact_update, contact_delete = _simple(Contact)
supplier_create, supplier_update, supplier_delete = _simple(Supplier)
equipment_type_create, equipment_type_update, equipment_type_delete = _simple(EquipmentType)
unit_create, unit_update, unit_delete = _simple(Unit)
maintenance_create, maintenance_update, maintenance_delete = _simple(MaintenanceWindow)
driver_create, driver_update, driver_delete = _simple(Driver)

# Which service writes which model: the API viewsets and UI views look them up here.
# Every service takes keyword arguments: create(by=, **data), update(instance=, by=, **data),
# delete(instance=, by=).
SERVICES = {
    Organization: (organization_create, organization_update, organization_delete),
    AccountingBase: (accounting_base_create, accounting_base_update, accounting_base_delete),
    Counterparty: (counterparty_create, counterparty_update, counterparty_delete),
    Contact: (contact_create, contact_update, contact_delete),
    Supplier: (supplier_create, supplier_update, supplier_delete),
    EquipmentType: (equipment_type_create, equipment_type_update, equipment_type_delete),
    Unit: (unit_create, unit_update, unit_delete),
    MaintenanceWindow: (maintenance_create, maintenance_update, maintenance_delete),
    Driver: (driver_create, driver_update, driver_delete),
}
