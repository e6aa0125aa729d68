"""Roles and the permission matrix — the single source of who may do what.

The API (``core.permissions.RolePermission``), the UI views (``core.permissions.require``)
and the Django admin (``core.admin.RoleAdminMixin``) all ask :func:`can`, so the three
can never disagree. ``docs/permissions.md`` is generated from :data:`MATRIX`.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Manager")
    ACCOUNTANT = "accountant", _("Accountant")
    DIRECTOR = "director", _("Director")


class Action(models.TextChoices):
    VIEW = "view", _("view")
    ADD = "add", _("create")
    CHANGE = "change", _("change")
    DELETE = "delete", _("delete")


V, A, C, D = Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE
ALL = frozenset({V, A, C, D})
READ = frozenset({V})
NONE: frozenset = frozenset()

# resource -> role -> allowed actions. Admin (and any superuser) may do everything.
MATRIX: dict[str, dict[str, frozenset]] = {
    "user": {Role.MANAGER: NONE, Role.ACCOUNTANT: NONE, Role.DIRECTOR: NONE},
    "organization": {Role.MANAGER: READ, Role.ACCOUNTANT: frozenset({V, A, C}), Role.DIRECTOR: READ},
    "accounting_base": {Role.MANAGER: NONE, Role.ACCOUNTANT: ALL, Role.DIRECTOR: READ},
    "counterparty": {Role.MANAGER: frozenset({V, A, C}), Role.ACCOUNTANT: ALL, Role.DIRECTOR: READ},
    "contact": {Role.MANAGER: ALL, Role.ACCOUNTANT: ALL, Role.DIRECTOR: READ},
    "supplier": {
        Role.MANAGER: frozenset({V, A, C}),
        Role.ACCOUNTANT: frozenset({V, A, C}),
        Role.DIRECTOR: READ,
    },
    "equipment_type": {Role.MANAGER: READ, Role.ACCOUNTANT: READ, Role.DIRECTOR: READ},
    "unit": {Role.MANAGER: frozenset({V, A, C}), Role.ACCOUNTANT: READ, Role.DIRECTOR: READ},
    "maintenance": {Role.MANAGER: ALL, Role.ACCOUNTANT: READ, Role.DIRECTOR: READ},
    "driver": {Role.MANAGER: frozenset({V, A, C}), Role.ACCOUNTANT: frozenset({V, C}), Role.DIRECTOR: READ},
    # a driver's licences and certificates (kept up to date by whoever runs the fleet)
    "driver_document": {Role.MANAGER: ALL, Role.ACCOUNTANT: READ, Role.DIRECTOR: READ},
    "lead": {Role.MANAGER: frozenset({V, A, C}), Role.ACCOUNTANT: READ, Role.DIRECTOR: READ},
    # the secrets websites and PBXs send to the intake webhook
    "intake_token": {Role.MANAGER: NONE, Role.ACCOUNTANT: NONE, Role.DIRECTOR: NONE},
    "deal": {Role.MANAGER: frozenset({V, A, C}), Role.ACCOUNTANT: READ, Role.DIRECTOR: READ},
    # change = reserve, request supply, confirm, cancel; bookings are cancelled, not deleted
    "booking": {Role.MANAGER: frozenset({V, A, C}), Role.ACCOUNTANT: READ, Role.DIRECTOR: READ},
    "supply_order": {Role.MANAGER: frozenset({V, A, C}), Role.ACCOUNTANT: READ, Role.DIRECTOR: READ},
    "company_settings": {Role.MANAGER: READ, Role.ACCOUNTANT: READ, Role.DIRECTOR: READ},
    # a manager makes and issues invoices at any hour; delete = a draft only
    "invoice": {Role.MANAGER: frozenset({V, A, C}), Role.ACCOUNTANT: ALL, Role.DIRECTOR: READ},
    # add = a payment entered by hand; delete = a manual one entered by mistake
    "payment": {Role.MANAGER: READ, Role.ACCOUNTANT: ALL, Role.DIRECTOR: READ},
    "bank_statement": {Role.MANAGER: NONE, Role.ACCOUNTANT: ALL, Role.DIRECTOR: READ},
    # the paper waybill of a trip: hours, km, the scan; change = correct it
    "waybill": {Role.MANAGER: frozenset({V, A, C}), Role.ACCOUNTANT: frozenset({V, C}), Role.DIRECTOR: READ},
    # payroll, plates, receivables, fleet (drivers' pay columns: see view_driver_pay)
    "report": {Role.MANAGER: READ, Role.ACCOUNTANT: READ, Role.DIRECTOR: READ},
}

# Special rights beyond the CRUD matrix.
SPECIAL: dict[str, frozenset] = {
    # set or change the 1C base a counterparty belongs to
    "set_counterparty_accounting_base": frozenset({Role.ADMIN, Role.ACCOUNTANT}),
    # see the audit trail of users (who changed roles)
    "manage_users": frozenset({Role.ADMIN}),
    # cancel an issued invoice (its number stays used)
    "cancel_invoice": frozenset({Role.ADMIN, Role.ACCOUNTANT}),
    # drivers' pay in reports (a manager too when the admin ticks «may see drivers' pay»)
    "view_driver_pay": frozenset({Role.ADMIN, Role.ACCOUNTANT, Role.DIRECTOR}),
    # set a driver's pay rate (the «may see drivers' pay» flag never gives this)
    "change_driver_pay": frozenset({Role.ADMIN, Role.ACCOUNTANT}),
}

SPECIAL_LABELS = {
    "set_counterparty_accounting_base": _("Set a counterparty's 1C base"),
    "manage_users": _("Manage users and roles"),
    "cancel_invoice": _("Cancel an invoice"),
    "view_driver_pay": _("See drivers' pay in reports"),
    "change_driver_pay": _("Change a driver's pay"),
}

# The fields that carry a driver's pay wherever they appear (the driver, its rates, the
# waybills, the payroll report's rate column; ``hourly_pay_from`` is the date a new rate
# starts). Serializers, forms, list filters and orderings, history and the admin hide them
# from whoever ``can_see_pay`` refuses, and only ``can_change_pay`` writes them
# (docs/permissions.md, «Drivers' pay»).
PAY_FIELDS: frozenset[str] = frozenset({"hourly_pay", "hourly_pay_from"})


def role_of(user) -> str | None:
    """The effective role of a user: a superuser counts as admin; inactive or anonymous
    users have none."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    return getattr(user, "role", None) or None


def can(user, action: str, resource: str) -> bool:
    if resource not in MATRIX:
        raise KeyError(f"unknown resource {resource!r} in the permission matrix")
    role = role_of(user)
    if role is None:
        return False
    if role == Role.ADMIN:
        return True
    return action in MATRIX[resource].get(role, NONE)


def has_special(user, right: str) -> bool:
    role = role_of(user)
    if role is None:
        return False
    if right == "view_driver_pay" and getattr(user, "may_see_driver_pay", False):
        return True
    return role in SPECIAL[right]


def can_see_pay(user) -> bool:
    """Drivers' pay: admin, accountant, director, and a user with «may see drivers' pay»."""
    return has_special(user, "view_driver_pay")


def can_change_pay(user) -> bool:
    """Only the admin and the accountant set a driver's pay."""
    return has_special(user, "change_driver_pay")


def is_pay_field(name: str) -> bool:
    """A field, an ordering term (``-hourly_pay``) or a filter (``hourly_pay_min``) on pay."""
    base = name.strip().lstrip("-").split("__")[0]
    return any(base == field or base.startswith(field + "_") for field in PAY_FIELDS)


def hidden_pay_fields(user) -> frozenset[str]:
    """The pay fields this user may not see (none for those who may)."""
    return frozenset() if can_see_pay(user) else PAY_FIELDS


def matrix_markdown() -> str:
    """The matrix as a Markdown table (docs/permissions.md is written from this)."""
    letters = {V: "R", A: "C", C: "U", D: "D"}
    roles = [Role.ADMIN, Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR]
    lines = [
        "| resource | " + " | ".join(r.value for r in roles) + " |",
        "| --- |" + " --- |" * len(roles),
    ]
    for resource in MATRIX:
        cells = []
        for role in roles:
            allowed = ALL if role == Role.ADMIN else MATRIX[resource].get(role, NONE)
            cells.append("".join(letters[a] for a in (V, A, C, D) if a in allowed) or "—")
        lines.append(f"| {resource} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
