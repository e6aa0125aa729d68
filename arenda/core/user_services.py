"""Writes of users. Only an administrator manages users; ``by=None`` is the system itself
(management commands, the demo seed)."""

import copy

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from arenda.core import audit
from arenda.core.models import User
from arenda.core.roles import Role, has_special
from arenda.core.services import record_create, record_delete, record_update
from arenda.core.validators import normalize_phone


def _guard(by) -> None:
    if by is not None and not has_special(by, "manage_users"):
        raise PermissionDenied(_("Only an administrator manages users."))


def _prepare(candidate: User, data: dict, password: str | None) -> None:
    """Normalise the phone and check the password against the validators (which compare it
    with the user's own name and e-mail, hence the candidate with the new data)."""
    if data.get("phone"):
        try:
            data["phone"] = normalize_phone(data["phone"])
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages})
    for field, value in data.items():
        setattr(candidate, field, value)
    if password is not None:
        try:
            validate_password(password, user=candidate)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages})
        candidate.set_password(password)
        data["password"] = candidate.password


# What decides what a user may do: a change to any of these is an audit event.
ACCESS_FIELDS = ("role", "is_active", "is_superuser", "is_staff", "may_see_driver_pay")


def audit_access_change(*, before: dict, user: User, by, password_set: bool = False) -> None:
    """Record a change of a user's role or rights (and a password set by someone else)."""
    changes = {
        name: [before.get(name), getattr(user, name)]
        for name in ACCESS_FIELDS
        if before.get(name) != getattr(user, name)
    }
    if changes or (password_set and by is not None and getattr(by, "pk", None) != user.pk):
        audit.record(
            audit.Kind.USER_ACCESS_CHANGED,
            by=by,
            target=user.get_username(),
            summary=", ".join(f"{name}: {old} → {new}" for name, (old, new) in changes.items())
            or "password set",
            changes=changes,
            password_set=password_set,
        )


def access_of(user: User) -> dict:
    return {name: getattr(user, name) for name in ACCESS_FIELDS}


@transaction.atomic
def user_create(*, by, password: str, **data) -> User:
    _guard(by)
    _prepare(User(), data, password)
    user = record_create(User, data=data, by=by)
    audit.record(
        audit.Kind.USER_CREATED,
        by=by,
        target=user.get_username(),
        summary=f"role: {user.role}",
        **access_of(user),
    )
    return user


@transaction.atomic
def user_update(*, instance: User, by, password: str | None = None, **data) -> User:
    _guard(by)
    if by is not None and instance.pk == by.pk:
        # An administrator locking themselves out may leave nobody to undo it.
        demoted = not by.is_superuser and data.get("role", instance.role) != Role.ADMIN
        if data.get("is_active") is False or demoted:
            raise ValidationError(_("You cannot deactivate yourself or take away your own admin role."))
    before = access_of(instance)
    _prepare(copy.copy(instance), data, password or None)
    user = record_update(instance, data=data, by=by)
    audit_access_change(before=before, user=user, by=by, password_set=bool(password))
    return user


@transaction.atomic
def user_delete(*, instance: User, by) -> None:
    _guard(by)
    if by is not None and instance.pk == by.pk:
        raise ValidationError(_("You cannot delete yourself."))
    username = instance.get_username()
    record_delete(instance, by=by)
    audit.record(audit.Kind.USER_DELETED, by=by, target=username)
