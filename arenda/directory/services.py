"""Writes of reference data. Views, API, admin, commands and tasks all call these."""

from datetime import date, datetime, time

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from arenda.core import audit
from arenda.core.files import CONTENT_TYPES, display_name, scan_kind
from arenda.core.notify import notify
from arenda.core.roles import Role, can_change_pay, has_special
from arenda.core.services import locked, record_create, record_delete, record_update, set_author
from arenda.directory.models import (
    AccountingBase,
    Contact,
    Counterparty,
    Driver,
    DriverDocument,
    DriverPayRate,
    EquipmentType,
    EquipmentTypeRequirement,
    MaintenanceWindow,
    Organization,
    Supplier,
    Unit,
)
from arenda.directory.selectors import documents_expiring

User = get_user_model()


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
_type_create, _type_update, equipment_type_delete = _simple(EquipmentType)


@transaction.atomic
def equipment_type_create(*, by, requirements=None, **data) -> EquipmentType:
    """A type of machine; ``requirements`` (dicts of ``kind``, ``category``): the documents
    its drivers must hold."""
    equipment_type = _type_create(by=by, **data)
    if requirements is not None:
        equipment_type_set_requirements(equipment_type=equipment_type, requirements=requirements, by=by)
    return equipment_type


@transaction.atomic
def equipment_type_update(*, instance: EquipmentType, by, requirements=None, **data) -> EquipmentType:
    """Change a type; ``requirements`` given replaces the list (left out: kept)."""
    if requirements is not None:
        requirement_rows(requirements)  # every error before anything is written
    equipment_type = _type_update(instance=instance, by=by, **data)
    if requirements is not None:
        equipment_type_set_requirements(equipment_type=equipment_type, requirements=requirements, by=by)
        # a list read before (prefetched by the API's viewset) is stale now
        getattr(equipment_type, "_prefetched_objects_cache", {}).pop("requirements", None)
    return equipment_type


unit_create, unit_update, unit_delete = _simple(Unit)
maintenance_create, maintenance_update, maintenance_delete = _simple(MaintenanceWindow)
_driver_delete = _simple(Driver)[2]

# Set only by the invite link (bookings/driver_link.py), never by a form or the API.
MESSENGER_FIELDS = ("telegram_chat_id", "telegram_invite_token")


def _guard_driver_data(data: dict, *, by, pay_changes: bool) -> None:
    bound = [name for name in MESSENGER_FIELDS if name in data]
    if bound:
        raise ValidationError(
            {
                name: _("A driver's chat is bound only by the driver opening the invite link.")
                for name in bound
            }
        )
    if pay_changes and by is not None and not can_change_pay(by):
        raise PermissionDenied(_("Only an accountant or an administrator may change a driver's pay."))


def _pay_from(value: date | None) -> date:
    """The day a new pay starts: today in the company's time zone unless given (an earlier
    day only when given explicitly: a change is never silently retroactive)."""
    return value or timezone.localdate()


def _record_pay(driver: Driver, *, old, new, valid_from: date, by) -> None:
    """A new rate from ``valid_from`` on, written to the rates and (unless it is a new
    driver's zero) the audit trail."""
    DriverPayRate.objects.create(
        driver=driver,
        hourly_pay=new,
        valid_from=valid_from,
        created_by=by if getattr(by, "pk", None) else None,
    )
    if old is None and not new:
        return
    audit.record(
        audit.Kind.PAY_CHANGED,
        by=by,
        target=driver,
        summary=f"{old if old is not None else '—'} → {new} ({valid_from:%Y-%m-%d})",
        driver=driver.pk,
        old=None if old is None else f"{old:.2f}",
        new=f"{new:.2f}",
        valid_from=valid_from.isoformat(),
    )


def _check_backdated(driver: Driver, valid_from: date) -> None:
    """A pay may start on an earlier day only before the driver's first trip recorded from
    that day on: a recorded waybill keeps the pay it was recorded with, so a new pay starting
    before it would silently not apply to it."""
    if valid_from >= timezone.localdate():
        return
    start = datetime.combine(valid_from, time.min, tzinfo=timezone.get_current_timezone())
    # Waybills point at drivers (bookings.Waybill.driver, related_name "waybills").
    last = driver.waybills.filter(started_at__gte=start).order_by("-started_at").first()
    if last is not None:
        raise ValidationError(
            {
                "hourly_pay_from": _(
                    "A trip on %(day)s is already recorded at the current pay: the new pay may start "
                    "the day after it at the earliest."
                )
                % {"day": f"{timezone.localtime(last.started_at):%d.%m.%Y}"}
            }
        )


@transaction.atomic
def driver_create(*, by, **data) -> Driver:
    valid_from = data.pop("hourly_pay_from", None)
    _guard_driver_data(data, by=by, pay_changes=bool(data.get("hourly_pay")) or valid_from is not None)
    driver = record_create(Driver, data=data, by=by)
    _record_pay(driver, old=None, new=driver.hourly_pay, valid_from=_pay_from(valid_from), by=by)
    return driver


@transaction.atomic
def driver_update(*, instance: Driver, by, **data) -> Driver:
    """``hourly_pay`` (with ``hourly_pay_from``, the day it starts) is the accountant's; a
    change adds a dated rate (``DriverPayRate``) and an audit event."""
    valid_from = data.pop("hourly_pay_from", None)
    driver = locked(Driver, instance.pk)
    old = driver.hourly_pay
    pay_changes = "hourly_pay" in data and data["hourly_pay"] != old
    _guard_driver_data(data, by=by, pay_changes=pay_changes)
    driver = record_update(driver, data=data, by=by)
    if pay_changes:
        valid_from = _pay_from(valid_from)
        _check_backdated(driver, valid_from)
        created = timezone.localdate(driver.created_at)
        if not driver.pay_rates.exists() and valid_from > created:
            # the pay before this change, from the driver's first day
            DriverPayRate.objects.create(driver=driver, hourly_pay=old, valid_from=created, created_by=None)
        _record_pay(driver, old=old, new=driver.hourly_pay, valid_from=valid_from, by=by)
    return driver


@transaction.atomic
def driver_pay_rate_add(*, driver: Driver, hourly_pay, by, equipment_type, valid_from: date | None = None):
    """A pay for one kind of machine from ``valid_from`` (today unless given) on: a waybill
    of a trip on that kind of machine takes it (``selectors.pay_rate_on``); the general pay
    stays ``hourly_pay`` (``driver_update``). The accountant's and the admin's only; the
    same rule for a back-dated start as the general pay's."""
    if not can_change_pay(by):
        raise PermissionDenied(_("Only an accountant or an administrator may change a driver's pay."))
    if equipment_type is None:
        raise ValidationError(
            {"equipment_type": _("Choose the equipment type; the general pay is the driver's hourly pay.")}
        )
    driver = locked(Driver, getattr(driver, "pk", driver))
    valid_from = _pay_from(valid_from)
    _check_backdated(driver, valid_from)
    rate = DriverPayRate(
        driver=driver,
        hourly_pay=hourly_pay,
        valid_from=valid_from,
        equipment_type=equipment_type,
        created_by=by if getattr(by, "pk", None) else None,
    )
    rate.full_clean(exclude=["driver", "created_by"])
    rate.save()
    audit.record(
        audit.Kind.PAY_CHANGED,
        by=by,
        target=driver,
        summary=f"{equipment_type}: {rate.hourly_pay} ({valid_from:%Y-%m-%d})",
        driver=driver.pk,
        old=None,
        new=f"{rate.hourly_pay:.2f}",
        valid_from=valid_from.isoformat(),
        equipment_type=equipment_type.pk,
    )
    return rate


def driver_delete(*, instance: Driver, by) -> None:
    _driver_delete(instance=instance, by=by)


# --- drivers' documents ------------------------------------------------------------------------
def _original_name(scan) -> str:
    name = str(getattr(scan, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1]
    return name[:255]


def _store_document(document: DriverDocument, *, scan, by) -> DriverDocument:
    """Validate everything, then store the scan (a random name with the sniffed type's
    extension: ``models.driver_document_scan_path``) and the row."""
    errors: dict = {}
    kind = None
    if scan is not None:
        try:
            kind = scan_kind(scan)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    try:
        document.full_clean(exclude=["scan"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    old_file = document.scan.name if (scan is not None and document.scan) else ""
    if scan is not None:
        document.scan_type = CONTENT_TYPES[kind]
        document.scan_name = display_name(_original_name(scan), document.scan_type, fallback="scan")
        document.scan = scan
    set_author(document, by)
    document.save()
    if old_file and old_file != document.scan.name:
        storage = document.scan.storage
        transaction.on_commit(lambda: storage.delete(old_file))
    return document


DOCUMENT_FIELDS = ("kind", "categories", "number", "issued_on", "valid_until", "notes")


@transaction.atomic
def driver_document_create(*, driver: Driver, by, scan=None, **data) -> DriverDocument:
    """A licence or certificate of a driver. The driver's row is locked first, as a
    reservation locks it, so a reservation never reads half a change of documents."""
    driver = locked(Driver, getattr(driver, "pk", driver))
    document = DriverDocument(driver=driver)
    for name in DOCUMENT_FIELDS:
        if name in data:
            setattr(document, name, data[name])
    return _store_document(document, scan=scan, by=by)


@transaction.atomic
def driver_document_update(*, instance: DriverDocument, by, scan=None, **data) -> DriverDocument:
    """Change a document; a new ``valid_until`` clears ``expiry_notified_at``, so the
    admins are told again before the new date."""
    data.pop("driver", None)  # a document stays with its driver
    locked(Driver, instance.driver_id)
    document = locked(DriverDocument, instance.pk)
    old_until = document.valid_until
    for name in DOCUMENT_FIELDS:
        if name in data:
            setattr(document, name, data[name])
    if document.valid_until != old_until:
        document.expiry_notified_at = None
    return _store_document(document, scan=scan, by=by)


@transaction.atomic
def driver_document_delete(*, instance: DriverDocument, by) -> None:
    locked(Driver, instance.driver_id)
    old_file = instance.scan.name if instance.scan else ""
    storage = instance.scan.storage
    record_delete(instance, by=by)
    if old_file:
        transaction.on_commit(lambda: storage.delete(old_file))


# --- equipment types' requirements -------------------------------------------------------------
def requirement_rows(requirements) -> list[tuple[str, str]]:
    """Each requirement validated (kind, category), duplicates refused; the errors under
    ``requirements``, each led by the item's number (from 1)."""
    rows, errors = [], []
    for index, item in enumerate(requirements):
        item = dict(item)
        candidate = EquipmentTypeRequirement(kind=item.get("kind", ""), category=item.get("category") or "")
        try:
            candidate.full_clean(
                exclude=["equipment_type"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            errors += [f"{index + 1}. {name}: {m}" for name, ms in exc.message_dict.items() for m in ms]
            continue
        key = (candidate.kind, candidate.category)
        if key in rows:
            errors.append(f"{index + 1}. {_('This document is already required.')}")
            continue
        rows.append(key)
    if errors:
        raise ValidationError({"requirements": errors})
    return rows


@transaction.atomic
def equipment_type_set_requirements(*, equipment_type: EquipmentType, requirements, by) -> list:
    """Replace the documents a type of machine requires with ``requirements`` (dicts of
    ``kind`` and ``category``). Bookings already reserved keep their drivers; the next
    reservation is checked against the new list."""
    equipment_type = locked(EquipmentType, equipment_type.pk)
    wanted = requirement_rows(requirements)
    existing = {(r.kind, r.category): r for r in equipment_type.requirements.all()}
    for key, requirement in existing.items():
        if key not in wanted:
            requirement.delete()
    for kind, category in wanted:
        if (kind, category) not in existing:
            EquipmentTypeRequirement.objects.create(
                equipment_type=equipment_type, kind=kind, category=category
            )
    return list(equipment_type.requirements.all())


# --- expiry notices ----------------------------------------------------------------------------
def notify_expiring_documents(today: date | None = None) -> int:
    """Tell the active administrators once about each document of an active driver that
    expires within ``EXPIRY_NOTICE_DAYS`` (``expiry_notified_at`` marks it; a new
    ``valid_until`` clears the mark). Each document is claimed under its row lock before
    the notices are written, so two runs at once tell once. Returns how many were told."""
    admins = list(
        User.objects.filter(is_active=True).filter(Q(role=Role.ADMIN) | Q(is_superuser=True)).order_by("pk")
    )
    told = 0
    for pk in list(
        documents_expiring(today).filter(expiry_notified_at__isnull=True).values_list("pk", flat=True)
    ):
        with transaction.atomic():
            document = (
                DriverDocument.objects.select_for_update(of=("self",))
                .select_related("driver")
                .filter(pk=pk, expiry_notified_at__isnull=True)
                .first()
            )
            if document is None:
                continue
            DriverDocument.objects.filter(pk=pk).update(expiry_notified_at=timezone.now())
            text = _("%(driver)s: %(document)s expires on %(date)s.") % {
                "driver": document.driver,
                "document": document.get_kind_display(),
                "date": f"{document.valid_until:%d.%m.%Y}",
            }
            for admin in admins:
                notify(admin, text, document.get_absolute_url())
            told += 1
    return told


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
    DriverDocument: (driver_document_create, driver_document_update, driver_document_delete),
}
