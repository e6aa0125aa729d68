"""Writes of users. Only an administrator manages users; ``by=None`` is the system itself
(management commands, the demo seed)."""

import copy

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

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


@transaction.atomic
def user_create(*, by, password: str, **data) -> User:
    _guard(by)
    _prepare(User(), data, password)
    return record_create(User, data=data, by=by)


@transaction.atomic
def user_update(*, instance: User, by, password: str | None = None, **data) -> User:
    _guard(by)
    if by is not None and instance.pk == by.pk:
        # An administrator locking themselves out may leave nobody to undo it.
        demoted = not by.is_superuser and data.get("role", instance.role) != Role.ADMIN
        if data.get("is_active") is False or demoted:
            raise ValidationError(_("You cannot deactivate yourself or take away your own admin role."))
    _prepare(copy.copy(instance), data, password or None)
    return record_update(instance, data=data, by=by)


@transaction.atomic
def user_delete(*, instance: User, by) -> None:
    _guard(by)
    if by is not None and instance.pk == by.pk:
        raise ValidationError(_("You cannot delete yourself."))
    record_delete(instance, by=by)
