"""Generic writes shared by the reference-data services: validate fully, save, record who.

Domain services (``directory.services`` and later ones) call these so that every write
goes through ``full_clean`` (the validators and cross-field rules of the model), records
the author in the change history, and turns a constraint race into a readable error.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _


class RecordInUse(Exception):
    """Deleting a record that other records still point to."""

    def __init__(self, instance, protected):
        self.instance = instance
        self.protected = list(protected)[:10]
        super().__init__(str(instance))


def set_author(instance: models.Model, by) -> None:
    """The next save of ``instance`` is recorded in its history as made by ``by``."""
    if by is not None and getattr(by, "is_authenticated", False):
        instance._history_user = by


def locked(model: type[models.Model], pk):
    """The row re-read under a row lock (PostgreSQL); on SQLite the IMMEDIATE transaction
    already holds the write lock."""
    return model.objects.select_for_update().get(pk=pk)


def _assign(instance: models.Model, data: dict) -> None:
    for field, value in data.items():
        model_field = instance._meta.get_field(field)
        if model_field.many_to_many:
            raise ValueError("many-to-many fields are not set through record services")
        setattr(
            instance,
            model_field.attname if model_field.is_relation and not isinstance(value, models.Model) else field,
            value,
        )


def _save(instance: models.Model, *, by) -> models.Model:
    instance.full_clean()
    set_author(instance, by)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        # A concurrent write won the race for a unique value: re-validate to name the field.
        instance.full_clean()
        raise ValidationError(
            _("This record conflicts with another one saved at the same moment. Try again.")
        )
    return instance


@transaction.atomic
def record_create(model: type[models.Model], *, data: dict, by) -> models.Model:
    instance = model()
    _assign(instance, data)
    return _save(instance, by=by)


@transaction.atomic
def record_update(instance: models.Model, *, data: dict, by) -> models.Model:
    _assign(instance, data)
    return _save(instance, by=by)


@transaction.atomic
def record_delete(instance: models.Model, *, by) -> None:
    set_author(instance, by)
    try:
        with transaction.atomic():
            instance.delete()
    except models.ProtectedError as exc:
        raise RecordInUse(instance, exc.protected_objects)
    except models.RestrictedError as exc:
        raise RecordInUse(instance, exc.restricted_objects)
