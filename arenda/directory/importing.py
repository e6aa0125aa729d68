"""Import of counterparties (with a contact), units and drivers (with a document) from
XLSX or CSV, and the same lists as XLSX (docs/import.md).

The file is read with tablib (XLSX through openpyxl; CSV in UTF-8 or cp1251, «;» or «,»
found from the header line), its headers are matched to fields in Russian or English, the
values normalised (plates, phones) and checked row by row with the models' own
validators; django-import-export then runs the import — first as a dry run for the
preview (``new`` / ``update`` / ``unchanged`` per row) that writes nothing, then for real,
in one transaction, in bulk (``use_bulk``: a few queries per batch of rows, none per row,
history included). A file with any bad cell writes nothing (docs/import.md, «Speed»).
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

import tablib
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields as ie_fields
from import_export import resources, widgets
from openpyxl import Workbook
from openpyxl.styles import Font
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from arenda.core.services import set_author
from arenda.core.validators import normalize_phone, normalize_plate
from arenda.directory.models import (
    Contact,
    Counterparty,
    DocumentKind,
    Driver,
    DriverDocument,
    EquipmentType,
    Supplier,
    Unit,
)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 20000


@dataclass(frozen=True)
class Column:
    field: str
    ru: str
    en: str
    example: str = ""
    required: bool = False


COLUMNS: dict[str, list[Column]] = {
    "counterparty": [
        Column("name", "Наименование", "Name", "ООО «Ромашка»", required=True),
        Column("inn", "ИНН", "INN", "7707083893"),
        Column("kpp", "КПП", "KPP", "773601001"),
        Column("ogrn", "ОГРН", "OGRN", "1027700132195"),
        Column("kind", "Вид", "Kind", "Организация"),
        Column("full_name", "Полное наименование", "Full name", ""),
        Column("address", "Адрес", "Address", "г. Москва, ул. Ленина, д. 1"),
        Column("phone", "Телефон", "Phone", "+7 495 123-45-67"),
        Column("email", "E-mail", "E-mail", "info@example.ru"),
        Column("bik", "БИК", "BIK", ""),
        Column("account", "Расчётный счёт", "Settlement account", ""),
        Column("corr_account", "Корр. счёт", "Correspondent account", ""),
        Column("bank_name", "Банк", "Bank", ""),
        Column("payment_terms_days", "Срок оплаты, дней", "Payment terms, days", "5"),
        Column("notes", "Примечание", "Notes", ""),
        Column("contact_name", "Контакт", "Contact", "Иванов Иван Иванович"),
        Column("contact_phone", "Телефон контакта", "Contact phone", "8 912 345-67-89"),
        Column("contact_email", "E-mail контакта", "Contact e-mail", ""),
        Column("contact_position", "Должность контакта", "Contact position", "Прораб"),
    ],
    "unit": [
        Column("plate", "Госномер", "Plate", "А123ВС77", required=True),
        Column("equipment_type", "Тип техники", "Equipment type", "Автокран", required=True),
        Column("name", "Модель", "Model", "Ивановец КС-45717", required=True),
        Column("capacity_t", "Грузоподъёмность, т", "Capacity, t", "25", required=True),
        Column("owner", "Владелец", "Owner", "Своя"),
        Column("supplier", "Поставщик", "Supplier", ""),
        Column("rate_per_hour", "Ставка в час", "Rate per hour", "3500"),
        Column("rate_per_km", "Ставка за км", "Rate per km", "0"),
        Column("min_hours", "Минимальный заказ, ч", "Minimum order, hours", "4"),
        Column("notes", "Примечание", "Notes", ""),
    ],
    "driver": [
        Column("full_name", "ФИО", "Full name", "Петров Пётр Петрович", required=True),
        Column("phone", "Телефон", "Phone", "+7 912 000-11-22", required=True),
        Column("employment", "Оформление", "Employment", "Штат"),
        Column("license_number", "Номер ВУ", "Licence number", "77 12 345678"),
        Column("license_valid_until", "ВУ действует до", "Licence valid until", "2030-05-31"),
        Column("doc_kind", "Документ", "Document", "Водительское удостоверение"),
        Column("doc_categories", "Категории", "Categories", "B, C, CE"),
        Column("doc_number", "Номер документа", "Document number", "77 12 345678"),
        Column("doc_issued_on", "Документ выдан", "Document issued on", "2020-05-31"),
        Column("doc_valid_until", "Документ действует до", "Document valid until", "2030-05-31"),
        Column("notes", "Примечание", "Notes", ""),
    ],
}

TITLES = {
    "counterparty": gettext_lazy("counterparties"),
    "unit": gettext_lazy("units"),
    "driver": gettext_lazy("drivers"),
}

# Values a person types for a choice, lower case → the stored value.
KIND_WORDS = {
    "организация": "legal",
    "юрлицо": "legal",
    "юр. лицо": "legal",
    "organisation": "legal",
    "legal": "legal",
    "ип": "sole_trader",
    "индивидуальный предприниматель": "sole_trader",
    "sole trader": "sole_trader",
    "физлицо": "person",
    "физ. лицо": "person",
    "физическое лицо": "person",
    "person": "person",
}
OWNER_WORDS = {"своя": "own", "own": "own", "поставщик": "supplier", "supplier": "supplier"}
EMPLOYMENT_WORDS = {"штат": "staff", "staff": "staff", "подряд": "contractor", "contractor": "contractor"}


def _doc_kind_words() -> dict[str, str]:
    words = {}
    for kind in DocumentKind:
        words[kind.value] = kind.value
        words[str(kind.label).lower()] = kind.value
        with translation.override("ru"):
            words[str(kind.label).lower()] = kind.value
    words.update(
        {"ву": DocumentKind.DRIVING_LICENCE, "удостоверение тракториста": DocumentKind.TRACTOR_LICENCE}
    )
    return words


class FileError(Exception):
    """The file as a whole cannot be read (not a table, no headers we know)."""


@dataclass
class CellError:
    row: int  # the row number as Excel shows it
    column: str  # the header as written in the file
    message: str


@dataclass
class Preview:
    kind: str
    rows: list[dict] = field(default_factory=list)  # {"number", "status", "values", "errors"}
    errors: list[CellError] = field(default_factory=list)
    ignored_headers: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)  # the file's known headers, in its order

    @property
    def counts(self) -> dict[str, int]:
        counts = {"new": 0, "update": 0, "unchanged": 0, "error": 0}
        for row in self.rows:
            counts[row["status"]] += 1
        return counts

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


# --- Reading the file ---------------------------------------------------------------------------
def _header_key(value) -> str:
    return " ".join(str(value or "").replace("*", "").replace("ё", "е").replace("Ё", "Е").split()).lower()


def _aliases(kind: str) -> dict[str, Column]:
    found = {}
    for column in COLUMNS[kind]:
        found[_header_key(column.ru)] = column
        found[_header_key(column.en)] = column
        found[_header_key(column.field)] = column
    return found


def _read_table(content: bytes, filename: str) -> list[list]:
    name = filename.lower()
    if name.endswith(".xlsx"):
        try:
            dataset = tablib.Dataset().load(io.BytesIO(content), format="xlsx", headers=False)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise FileError(_("Not an XLSX file Excel could open.")) from exc
        return [list(row) for row in dataset]
    if name.endswith(".csv"):
        for encoding in ("utf-8-sig", "cp1251"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - cp1251 decodes nearly anything
            raise FileError(_("The CSV file is neither UTF-8 nor Windows-1251."))
        first = text.split("\n", 1)[0]
        delimiter = ";" if first.count(";") >= first.count(",") else ","
        return list(csv.reader(io.StringIO(text), delimiter=delimiter))
    raise FileError(_("Upload an .xlsx or .csv file."))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(value: str) -> str:
    """ISO for «31.05.2030» or «2030-05-31»; anything else is returned for the widget to refuse."""
    match = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", value)
    with contextlib.suppress(ValueError):
        if match:
            return date(int(match[3]), int(match[2]), int(match[1])).isoformat()
        return date.fromisoformat(value).isoformat()
    return value


# --- Normalising and checking one row -----------------------------------------------------------
def _messages(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {name: [m for e in errors for m in e.messages] for name, errors in exc.error_dict.items()}
    return {"__all__": exc.messages}


class _Checker:
    """Normalises the values of one kind and collects errors that the models' validators
    name, before django-import-export runs (duplicates in the file, unknown references)."""

    def __init__(self, kind: str):
        self.kind = kind
        self.seen: dict[tuple, int] = {}
        if kind == "unit":
            self.types = {t.name.lower(): t.name for t in EquipmentType.objects.all()}
            self.suppliers = {s.name.lower(): s.name for s in Supplier.objects.all()}
        if kind == "driver":
            self.doc_kinds = _doc_kind_words()

    def check(self, values: dict, number: int) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        getattr(self, f"_{self.kind}")(values, errors)
        key = self._key(values)
        if key and key in self.seen:
            field_name = {"counterparty": "inn", "unit": "plate", "driver": "phone"}[self.kind]
            errors.setdefault(field_name, []).append(
                _("The same record is already in row %(row)s of this file.") % {"row": self.seen[key]}
            )
        elif key:
            self.seen[key] = number
        for column in COLUMNS[self.kind]:
            if column.required and not values.get(column.field):
                errors.setdefault(column.field, []).append(_("This value is required."))
        return errors

    def _key(self, values) -> tuple | None:
        if self.kind == "counterparty":
            return (values["inn"], values["kpp"]) if values.get("inn") else None
        if self.kind == "unit":
            return (values["plate"],) if values.get("plate") else None
        return (values["phone"],) if values.get("phone") else None

    @staticmethod
    def _phone(values, name, errors):
        try:
            values[name] = normalize_phone(values.get(name, ""))
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)

    @staticmethod
    def _choice(values, name, words, errors, default):
        raw = values.get(name, "")
        if not raw:
            values[name] = default
            return
        value = words.get(raw.lower())
        if value is None:
            errors.setdefault(name, []).append(_("Unknown value «%(value)s».") % {"value": raw})
        else:
            values[name] = value

    def _counterparty(self, values, errors):
        values["inn"] = values.get("inn", "").replace(" ", "")
        values["kpp"] = values.get("kpp", "").replace(" ", "")
        self._phone(values, "phone", errors)
        kind = Counterparty.kind_for(name=values.get("name", ""), inn=values["inn"])
        self._choice(values, "kind", KIND_WORDS, errors, kind)
        if not values.get("payment_terms_days"):
            values["payment_terms_days"] = "5"
        contact = {
            "full_name": values.get("contact_name", ""),
            "phone": values.get("contact_phone", ""),
            "email": values.get("contact_email", ""),
            "position": values.get("contact_position", ""),
        }
        if any(contact.values()):
            self._phone(values, "contact_phone", errors)
            contact["phone"] = values["contact_phone"]
            try:  # the phone is normalised (or named) by _phone, its validator
                Contact(**contact).full_clean(
                    exclude=["counterparty", "phone"], validate_unique=False, validate_constraints=False
                )
            except ValidationError as exc:
                for name, messages in _messages(exc).items():
                    errors.setdefault(
                        f"contact_{name}" if name != "full_name" else "contact_name", []
                    ).extend(messages)

    def _unit(self, values, errors):
        if values.get("plate"):
            values["plate"] = normalize_plate(values["plate"])
        type_name = values.get("equipment_type", "")
        if type_name:
            known = self.types.get(type_name.lower())
            if known is None:
                errors.setdefault("equipment_type", []).append(
                    _("Unknown equipment type «%(value)s» (known: %(known)s).")
                    % {"value": type_name, "known": ", ".join(sorted(self.types.values())) or "—"}
                )
            else:
                values["equipment_type"] = known
        supplier = values.get("supplier", "")
        if supplier:
            known = self.suppliers.get(supplier.lower())
            if known is None:
                errors.setdefault("supplier", []).append(
                    _("Unknown supplier «%(value)s».") % {"value": supplier}
                )
            else:
                values["supplier"] = known
        default_owner = "supplier" if supplier else "own"
        self._choice(values, "owner", OWNER_WORDS, errors, default_owner)
        for name, default in (("rate_per_hour", "0"), ("rate_per_km", "0"), ("min_hours", "4")):
            values[name] = (values.get(name) or default).replace(",", ".").replace(" ", "")
        values["capacity_t"] = values.get("capacity_t", "").replace(",", ".")

    def _driver(self, values, errors):
        self._phone(values, "phone", errors)
        self._choice(values, "employment", EMPLOYMENT_WORDS, errors, "staff")
        for name in ("license_valid_until", "doc_issued_on", "doc_valid_until"):
            values[name] = _date(values.get(name, ""))
        document = {
            "kind": values.get("doc_kind", ""),
            "categories": values.get("doc_categories", ""),
            "number": values.get("doc_number", ""),
            "issued_on": values.get("doc_issued_on") or None,
            "valid_until": values.get("doc_valid_until") or None,
        }
        if any(document.values()):
            kind = self.doc_kinds.get(document["kind"].lower())
            if kind is None:
                errors.setdefault("doc_kind", []).append(
                    _("Unknown document «%(value)s».") % {"value": document["kind"]}
                )
                return
            values["doc_kind"] = document["kind"] = kind
            probe = DriverDocument(**document)
            try:
                probe.full_clean(exclude=["driver"], validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                for name, messages in _messages(exc).items():
                    errors.setdefault(f"doc_{name}" if name != "kind" else "doc_kind", []).extend(messages)
            else:
                values["doc_categories"] = probe.categories  # as clean() writes them: «B, C»


# --- The django-import-export resources ---------------------------------------------------------
BATCH = 500  # rows per bulk INSERT / UPDATE (and per history INSERT)


class _ByName(widgets.ForeignKeyWidget):
    """A ForeignKeyWidget that reads its model's rows (a few equipment types or suppliers)
    once per import instead of a query per row. Unknown names are a cell error (the
    checks name them first)."""

    def clean(self, value, row=None, **kwargs):
        if not value:
            return None
        if not hasattr(self, "_by_name"):
            self._by_name = {getattr(obj, self.field): obj for obj in self.model.objects.all()}
        if value not in self._by_name:
            raise ValueError(_("Unknown value «%(value)s».") % {"value": value})
        return self._by_name[value]


class _Resource(resources.ModelResource):
    """Common: the existing records of the file read in one query (by the key a
    re-import updates by), every row checked by the models' validators and ``clean()``
    without a query, and the records written in bulk (``use_bulk``) with their history
    (django-simple-history's bulk helpers) naming the user who imported. The preview
    (a dry run) writes nothing at all."""

    key_fields: tuple[str, ...] = ()
    prefetch: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    checked: tuple[str, ...] = ()  # fields _Checker has normalised with their validator
    child_parent = ""  # a contact's or document's foreign key to the record
    child_fields: tuple[str, ...] = ()  # what a row may change in an existing contact or document

    def __init__(self, user=None):
        super().__init__()
        self.user = user
        self.existing: dict[tuple, object] = {}
        self.snapshot: dict[int, list] = {}  # pk → the import fields' values as read
        self.child_snapshot: dict[int, list] = {}  # a contact's or document's pk → child_fields' values
        self.children: list[tuple[object, object]] = []  # (parent, contact or document) to save

    def _key(self, row) -> tuple:
        return tuple(row.get(name, "") for name in self.key_fields)

    def before_import(self, dataset, **kwargs):
        first = self.key_fields[0]
        values = {value for value in dataset[first] if value}
        queryset = self._meta.model.objects.filter(**{f"{first}__in": values}).order_by("-pk")
        fields = self.get_import_fields()
        for obj in queryset.select_related(*self.related).prefetch_related(*self.prefetch):
            self.existing[tuple(getattr(obj, name) for name in self.key_fields)] = obj  # the oldest wins
            self.snapshot[obj.pk] = [field.get_value(obj) for field in fields]
            for name in self.prefetch:
                for child in obj._prefetched_objects_cache[name]:
                    self.child_snapshot[child.pk] = [getattr(child, f) for f in self.child_fields]

    def get_instance(self, instance_loader, row):
        if not row.get(self.key_fields[0]):
            return None  # no key: always a new record
        return self.existing.get(self._key(row))

    def skip_row(self, instance, original, row, import_validation_errors=None):
        """Unchanged: every import field as it was read (``skip_diff`` spares the
        library's deep copy of each row's record; the values read in before_import are
        the original)."""
        if import_validation_errors or instance.pk is None:
            return False
        before = self.snapshot[instance.pk]
        fields = self.get_import_fields()
        return all(field.get_value(instance) == old for field, old in zip(fields, before, strict=True))

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # The fields' validators and the model's clean(), as full_clean runs them, but
        # without a query per row: the check constraints repeat the fields' choices and
        # validators (and the database enforces them again on save), a foreign key's
        # «does it exist?» query repeats what its widget has just read (_ByName), and the
        # clean()'s «is this key taken?» look-up is answered by before_import, which read
        # every record with the file's keys: a row with a taken key updates that record.
        errors = dict(import_validation_errors or {})
        # The fields _Checker normalised (phones) went through their validator there.
        relations = {f.name for f in instance._meta.concrete_fields if f.is_relation}
        try:
            instance.clean_fields(exclude={*errors, *relations, *self.checked})
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        try:
            self.clean_model(instance)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def clean_model(self, instance):
        instance.clean()

    def save_instance(self, instance, is_create, row, **kwargs):
        set_author(instance, self.user)
        return super().save_instance(instance, is_create, row, **kwargs)

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if dry_run:  # the preview writes nothing
            self.create_instances.clear()
            return
        try:
            bulk_create_with_history(
                self.create_instances,
                self._meta.model,
                batch_size=self._meta.batch_size,
                default_user=self.user,
            )
        except Exception as exc:  # a database refusal: the import is rolled back and says why
            self.handle_import_error(result, exc, raise_errors)
        finally:
            self.create_instances.clear()

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if dry_run:
            self.update_instances.clear()
            return
        # Only the fields some row of the batch changes: bulk_update writes a CASE of
        # every row for each field it is given, and building it is most of its time.
        import_fields = self.get_import_fields()
        changed = set()
        for instance in self.update_instances:
            before = self.snapshot[instance.pk]
            changed.update(
                f.attribute
                for f, old in zip(import_fields, before, strict=True)
                if f.get_value(instance) != old
            )
        try:
            fields = [name for name in self.get_bulk_update_fields() if name in changed]
            self._bulk_update(self.update_instances, self._meta.model, fields)
        except Exception as exc:
            self.handle_import_error(result, exc, raise_errors)
        finally:
            self.update_instances.clear()

    def after_import(self, dataset, result, **kwargs):
        """The rows' contacts or documents, once every parent has its id."""
        if kwargs.get("dry_run") or not self.children:
            return
        parent_field = self.child_parent
        new, changed = [], []
        for parent, child in self.children:
            setattr(child, parent_field, parent)
            set_author(child, self.user)
            (new if child.pk is None else changed).append(child)
        model, size = type(self.children[0][1]), self._meta.batch_size
        if new:
            bulk_create_with_history(new, model, batch_size=size, default_user=self.user)
        if changed:
            fields = [
                name
                for index, name in enumerate(self.child_fields)
                if any(getattr(c, name) != self.child_snapshot[c.pk][index] for c in changed)
            ]
            self._bulk_update(changed, model, fields)
        self.children.clear()

    def _bulk_update(self, objs, model, fields):
        """``fields`` of ``objs`` and their history; ``updated_at`` (which bulk_update
        does not touch) by one plain UPDATE per batch rather than a CASE of every row."""
        now, size = timezone.now(), self._meta.batch_size
        for obj in objs:
            obj.updated_at = now
        bulk_update_with_history(objs, model, fields, batch_size=size, default_user=self.user)
        for start in range(0, len(objs), size):
            model.objects.filter(pk__in=[obj.pk for obj in objs[start : start + size]]).update(updated_at=now)

    def add_child(self, parent, child, **kwargs):
        """A contact or document of the row, saved in after_import. Its values were
        checked and normalised with the row's (_Checker: the model's full_clean)."""
        if not kwargs.get("dry_run"):
            self.children.append((parent, child))

    @staticmethod
    def _children(instance, name):
        """The instance's prefetched children (no query), or none for a new record."""
        if instance.pk is None:
            return []
        cache = getattr(instance, "_prefetched_objects_cache", {})
        return list(cache[name]) if name in cache else list(getattr(instance, name).all())


class CounterpartyResource(_Resource):
    class Meta:
        model = Counterparty
        fields = (
            "name",
            "inn",
            "kpp",
            "ogrn",
            "kind",
            "full_name",
            "address",
            "phone",
            "email",
            "bik",
            "account",
            "corr_account",
            "bank_name",
            "payment_terms_days",
            "notes",
        )
        import_id_fields = ("inn", "kpp")
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        skip_diff = True
        use_transactions = True
        use_bulk = True
        batch_size = BATCH

    key_fields = ("inn", "kpp")
    prefetch = ("contacts",)
    checked = ("phone",)
    child_parent = "counterparty"
    child_fields = ("phone", "email", "position")

    def clean_model(self, instance):
        instance.clean(check_taken=False)  # a taken ИНН+КПП is this very record (before_import)

    def _contact(self, instance, row, *, apply: bool):
        """The row's contact and whether the row changes it; ``apply`` writes the row's
        values into it (skip_row only asks: the contact is the prefetched one)."""
        name = row.get("contact_name", "")
        if not name:
            return None, False
        found = [c for c in self._children(instance, "contacts") if c.full_name == name]
        contact = found[0] if found else Contact(counterparty=instance, full_name=name)
        values = {k: row.get(f"contact_{k}", "") for k in ("phone", "email", "position")}
        changed = contact.pk is None or any(getattr(contact, k) != v for k, v in values.items() if v)
        for k, v in values.items():
            if v and apply:
                setattr(contact, k, v)
        return contact, changed

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if not super().skip_row(instance, original, row, import_validation_errors):
            return False
        _contact, changed = self._contact(instance, row, apply=False)
        return not changed

    def after_save_instance(self, instance, row, **kwargs):
        contact, changed = self._contact(instance, row, apply=True)
        if contact is not None and changed:
            self.add_child(instance, contact, **kwargs)


class UnitResource(_Resource):
    key_fields = ("plate",)
    related = ("equipment_type", "supplier")

    equipment_type = ie_fields.Field(
        attribute="equipment_type", column_name="equipment_type", widget=_ByName(EquipmentType, "name")
    )
    supplier = ie_fields.Field(attribute="supplier", column_name="supplier", widget=_ByName(Supplier, "name"))

    def clean_model(self, instance):
        instance.clean(check_taken=False)  # a taken plate is this very unit (before_import)

    class Meta:
        model = Unit
        fields = (
            "plate",
            "equipment_type",
            "name",
            "capacity_t",
            "owner",
            "supplier",
            "rate_per_hour",
            "rate_per_km",
            "min_hours",
            "notes",
        )
        import_id_fields = ("plate",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        skip_diff = True
        use_transactions = True
        use_bulk = True
        batch_size = BATCH


class DriverResource(_Resource):
    license_valid_until = ie_fields.Field(
        attribute="license_valid_until",
        column_name="license_valid_until",
        widget=widgets.DateWidget("%Y-%m-%d"),
    )

    class Meta:
        model = Driver
        fields = ("full_name", "phone", "employment", "license_number", "license_valid_until", "notes")
        import_id_fields = ("phone",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        skip_diff = True
        use_transactions = True
        use_bulk = True
        batch_size = BATCH

    key_fields = ("phone",)
    prefetch = ("documents",)
    checked = ("phone",)
    child_parent = "driver"
    child_fields = ("categories", "issued_on", "valid_until")

    def _document(self, instance, row, *, apply: bool):
        """As CounterpartyResource._contact."""
        kind = row.get("doc_kind", "")
        if not kind:
            return None, False
        number = row.get("doc_number", "")
        found = [d for d in self._children(instance, "documents") if d.kind == kind and d.number == number]
        document = found[0] if found else DriverDocument(driver=instance, kind=kind, number=number)
        values = {
            "categories": row.get("doc_categories", ""),
            "issued_on": date.fromisoformat(row["doc_issued_on"]) if row.get("doc_issued_on") else None,
            "valid_until": date.fromisoformat(row["doc_valid_until"]) if row.get("doc_valid_until") else None,
        }
        changed = document.pk is None or any(
            getattr(document, k) != v for k, v in values.items() if k != "categories"
        )
        changed = changed or ", ".join(document.category_list()) != ", ".join(
            DriverDocument(categories=values["categories"]).category_list()
        )
        for k, v in values.items():
            if apply:
                setattr(document, k, v)
        return document, changed

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if not super().skip_row(instance, original, row, import_validation_errors):
            return False
        _document, changed = self._document(instance, row, apply=False)
        return not changed

    def after_save_instance(self, instance, row, **kwargs):
        document, changed = self._document(instance, row, apply=True)
        if document is not None and changed:
            self.add_child(instance, document, **kwargs)


RESOURCES = {"counterparty": CounterpartyResource, "unit": UnitResource, "driver": DriverResource}
STATUS = {"new": "new", "update": "update", "skip": "unchanged"}


# --- Preview and import -------------------------------------------------------------------------
def _prepare(kind: str, content: bytes, filename: str) -> tuple[Preview, tablib.Dataset, list[int], dict]:
    table = _read_table(content, filename)
    while table and not any(_text(v) for v in table[0]):
        table.pop(0)
    if not table:
        raise FileError(_("The file is empty."))
    aliases = _aliases(kind)
    header_columns: list[tuple[int, Column]] = []
    preview = Preview(kind=kind)
    for index, header in enumerate(table[0]):
        column = aliases.get(_header_key(header))
        if column is None:
            if _text(header):
                preview.ignored_headers.append(_text(header))
        elif all(c.field != column.field for _i, c in header_columns):
            header_columns.append((index, column))
    missing = [c for c in COLUMNS[kind] if c.required and all(c.field != h.field for _i, h in header_columns)]
    if missing:
        raise FileError(
            _("The file has no column %(columns)s (the template's headers are what the import reads).")
            % {"columns": ", ".join(f"«{c.ru}»" for c in missing)}
        )
    label = {column.field: _text(table[0][index]) for index, column in header_columns}
    preview.headers = [label[c.field] for _i, c in header_columns]
    fields = [c.field for c in COLUMNS[kind]]
    dataset = tablib.Dataset(headers=fields)
    numbers: list[int] = []
    checker = _Checker(kind)
    if len(table) - 1 > MAX_ROWS:
        raise FileError(_("At most %(count)s rows at a time.") % {"count": MAX_ROWS})
    for offset, raw in enumerate(table[1:]):
        number = offset + 2  # the header is row 1
        cells = {
            column.field: _text(raw[index]) if index < len(raw) else "" for index, column in header_columns
        }
        if not any(cells.values()):
            continue
        values = {name: cells.get(name, "") for name in fields}
        shown = [cells.get(c.field, "") for _i, c in header_columns]
        errors = checker.check(values, number)
        preview.rows.append(
            {"number": number, "status": "error" if errors else "", "values": shown, "errors": {}}
        )
        for name, messages in errors.items():
            _add_error(preview, preview.rows[-1], label, name, messages)
        dataset.append([values[name] for name in fields])
        numbers.append(number)
    if not preview.rows:
        raise FileError(_("The file has headers but no rows."))
    return preview, dataset, numbers, label


def _add_error(preview: Preview, row: dict, label: dict, name: str, messages) -> None:
    column = label.get(name) or next((c.ru for c in COLUMNS[preview.kind] if c.field == name), "") or "—"
    for message in messages:
        preview.errors.append(CellError(row["number"], column, str(message)))
        row["errors"].setdefault(column, []).append(str(message))
    row["status"] = "error"


def _run(kind: str, dataset: tablib.Dataset, *, user, dry_run: bool):
    resource = RESOURCES[kind](user=user)
    return resource.import_data(
        dataset,
        dry_run=dry_run,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
    )


def _apply_result(preview: Preview, result, numbers: list[int], label: dict) -> None:
    by_number = {row["number"]: row for row in preview.rows}
    for invalid in result.invalid_rows:
        row = by_number[numbers[invalid.number - 1]]
        for name, messages in invalid.error_dict.items():
            column = label.get(name)
            if column is None or column not in row["errors"]:  # the checks named it already
                _add_error(preview, row, label, name, messages)
    for number, errors in result.row_errors():
        row = by_number[numbers[number - 1]]
        _add_error(preview, row, label, "__all__", [str(e.error) for e in errors])
    for error in result.base_errors:  # the database refused a batch: no row to name
        preview.errors.append(CellError(0, "", str(error.error)))
    for index, row_result in enumerate(result.rows):
        row = by_number[numbers[index]]
        if row["status"] != "error":
            row["status"] = STATUS.get(row_result.import_type, "error")


def preview(kind: str, content: bytes, filename: str, *, user) -> Preview:
    """What importing the file would do, row by row; nothing is written."""
    result_preview, dataset, numbers, label = _prepare(kind, content, filename)
    # the dry run even when the checks found errors: it names the model's own ones too
    result = _run(kind, dataset, user=user, dry_run=True)
    _apply_result(result_preview, result, numbers, label)
    return result_preview


class ImportRefused(Exception):
    def __init__(self, preview: Preview):
        self.preview = preview
        super().__init__("import refused")


def run_import(kind: str, content: bytes, filename: str, *, user) -> Preview:
    """Import all rows in one transaction, or none: raises :class:`ImportRefused` with
    the preview naming the bad cells."""
    checked, dataset, numbers, label = _prepare(kind, content, filename)
    if checked.errors:
        raise ImportRefused(checked)
    try:
        with transaction.atomic():
            result = _run(kind, dataset, user=user, dry_run=False)
            _apply_result(checked, result, numbers, label)
            if checked.errors:
                raise ImportRefused(checked)
    except ImportRefused:
        raise
    return checked


# --- Templates and exports ----------------------------------------------------------------------
def _workbook(kind: str, rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = str(TITLES[kind])[:31]
    sheet.append([c.ru for c in COLUMNS[kind]])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for index, column in enumerate(COLUMNS[kind], start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(12, len(column.ru) + 4)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_xlsx(kind: str) -> bytes:
    """The headers the import reads (Russian; English ones are read too) and an example row."""
    return _workbook(kind, [[c.example for c in COLUMNS[kind]]])


def _export_row(kind: str, obj) -> list:
    if kind == "counterparty":
        contact = next(iter(obj.contacts.all()), None)
        extra = {
            "kind": obj.get_kind_display(),
            "contact_name": contact.full_name if contact else "",
            "contact_phone": contact.phone if contact else "",
            "contact_email": contact.email if contact else "",
            "contact_position": contact.position if contact else "",
        }
    elif kind == "unit":
        extra = {
            "equipment_type": obj.equipment_type.name,
            "supplier": obj.supplier.name if obj.supplier_id else "",
            "owner": obj.get_owner_display(),
        }
    else:
        document = next(iter(obj.documents.all()), None)
        extra = {
            "employment": obj.get_employment_display(),
            "doc_kind": document.get_kind_display() if document else "",
            "doc_categories": document.categories if document else "",
            "doc_number": document.number if document else "",
            "doc_issued_on": document.issued_on if document else None,
            "doc_valid_until": document.valid_until if document else None,
        }
    row = []
    for column in COLUMNS[kind]:
        value = extra[column.field] if column.field in extra else getattr(obj, column.field)
        row.append(value if isinstance(value, (int, float, date)) or value is None else str(value))
    return row


EXPORT_PREFETCH = {
    "counterparty": ("contacts",),
    "unit": (),
    "driver": ("documents",),
}
EXPORT_RELATED = {"counterparty": (), "unit": ("equipment_type", "supplier"), "driver": ()}


def export_xlsx(kind: str, queryset) -> bytes:
    """The records (a list's filtered queryset) in the template's columns: the file can be
    edited and imported back."""
    queryset = queryset.select_related(*EXPORT_RELATED[kind]).prefetch_related(*EXPORT_PREFETCH[kind])
    return _workbook(kind, (_export_row(kind, obj) for obj in queryset.iterator(chunk_size=1000)))
