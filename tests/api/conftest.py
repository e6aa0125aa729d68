"""What the API tests need to know about each resource: how to make one, a valid body to
create one, a valid change, and its URLs."""

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from arenda.directory import models as m
from tests import factories as f

_n = itertools.count(1)

LATIN = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")


def fresh_plate() -> tuple[str, str]:
    """(as typed: Latin, lower case, spaces; as stored)."""
    stored = f.make_plate(3000 + next(_n))
    typed = f"{stored[0]} {stored[1:4]} {stored[4:6]} {stored[6:]}".translate(LATIN).lower()
    return typed, stored


@dataclass
class Spec:
    resource: str  # the permission-matrix resource
    path: str  # the list path; maintenance lives under a unit
    make: Callable[[], Any]  # an existing record
    body: Callable[[], dict]  # a valid body to create one (may create related records)
    change: dict  # a valid PATCH

    def list_url(self, obj=None) -> str:
        if self.resource == "maintenance":
            unit_id = obj.unit_id if obj is not None else f.UnitFactory().pk
            return f"/api/v1/units/{unit_id}/maintenance/"
        if self.resource == "driver_document":
            driver_id = obj.driver_id if obj is not None else f.DriverFactory().pk
            return f"/api/v1/drivers/{driver_id}/documents/"
        return f"/api/v1/{self.path}/"

    def detail_url(self, obj) -> str:
        return f"{self.list_url(obj)}{obj.pk}/"


def _user_body():
    n = next(_n)
    return {
        "username": f"api-user-{n}",
        "password": "Tr1cky-Crane-Hook",
        "full_name": f"Новый Сотрудник {n}",
        "role": "accountant",
        "email": f"user{n}@example.ru",
        "phone": "8 (916) 000-11-22",
    }


def _organization_body():
    n = 700000 + next(_n)
    return {
        "name": f"ООО «Кран-{n}»",
        "inn": f.make_inn10(n),
        "kpp": "770101001",
        "ogrn": f.make_ogrn(n),
        "bik": f.BIK,
        "corr_account": f.make_corr_account(f.BIK),
        "account": f.make_account(f.BIK, n),
        "vat_rate": "20",
    }


def _accounting_base_body():
    n = next(_n)
    return {
        "name": f"Бухгалтерия {n}",
        "organization": f.OrganizationFactory().pk,
        "kind": "odata",
        "odata_url": f"http://1c.local/base{n}/odata/standard.odata/",
        "username": "odata",
        "password": "s3cret-Base-pass",
    }


def _counterparty_body():
    n = 800000 + next(_n)
    return {
        "kind": "legal",
        "name": f"ООО «Стройка {n}»",
        "inn": f.make_inn10(n),
        "kpp": "770201001",
        "phone": "8 (916) 123-45-67",
        "prepayment_required": False,
        "payment_terms_days": 10,
    }


def _contact_body():
    return {"counterparty": f.CounterpartyFactory().pk, "full_name": "Прорабов Олег", "phone": "9031234567"}


def _supplier_body():
    n = 900000 + next(_n)
    return {"name": f"ООО «Аренда {n}»", "inn": f.make_inn10(n), "phone": "+7 905 111 22 33"}


def _unit_body():
    typed, _stored = fresh_plate()
    return {
        "equipment_type": f.EquipmentTypeFactory().pk,
        "name": "Liebherr LTM 1050",
        "capacity_t": "50.00",
        "plate": typed,
        "owner": "own",
        "rate_per_hour": "7500.00",
        "rate_per_km": "150.00",
        "min_hours": "4.00",
    }


def _maintenance_body():
    start = timezone.now() + timedelta(days=3)
    return {"start": start.isoformat(), "end": (start + timedelta(hours=6)).isoformat(), "reason": "ТО-1"}


def _driver_body():
    return {
        "full_name": f"Рулевой Семён {next(_n)}",
        "phone": "8-915-765-43-21",
        "employment": "contractor",
        "license_valid_until": "2030-01-31",
    }


def _driver_document_body():
    return {
        "kind": "driving_licence",
        "categories": "b, c",
        "number": f"77 {next(_n):08d}",
        "issued_on": "2024-03-01",
        "valid_until": "2034-03-01",
    }


SPECS = {
    s.resource: s
    for s in [
        Spec("user", "users", f.UserFactory, _user_body, {"full_name": "Переименованный"}),
        Spec(
            "organization", "organizations", f.OrganizationFactory, _organization_body, {"vat_rate": "none"}
        ),
        Spec(
            "accounting_base",
            "accounting-bases",
            f.AccountingBaseFactory,
            _accounting_base_body,
            {"kind": "manual", "odata_url": ""},
        ),
        Spec(
            "counterparty",
            "counterparties",
            f.CounterpartyFactory,
            _counterparty_body,
            {"payment_terms_days": 30},
        ),
        Spec("contact", "contacts", f.ContactFactory, _contact_body, {"position": "главный инженер"}),
        Spec(
            "equipment_type",
            "equipment-types",
            f.EquipmentTypeFactory,
            lambda: {"name": f"Манипулятор {next(_n)}"},
            {"description": "с КМУ"},
        ),
        Spec("supplier", "suppliers", f.SupplierFactory, _supplier_body, {"contact_person": "Иван"}),
        Spec("unit", "units", f.UnitFactory, _unit_body, {"rate_per_hour": "8000.00"}),
        Spec(
            "maintenance", "maintenance", f.MaintenanceWindowFactory, _maintenance_body, {"reason": "ремонт"}
        ),
        Spec("driver", "drivers", f.DriverFactory, _driver_body, {"notes": "ночные смены"}),
        Spec(
            "driver_document",
            "documents",
            f.DriverDocumentFactory,
            _driver_document_body,
            {"number": "99 12 345678"},
        ),
    ]
}


def _deal_body():
    return {"title": f"Аренда крана {next(_n)}", "counterparty": f.CounterpartyFactory().pk}


def _booking_body():
    deal = f.DealFactory()
    start = (timezone.localtime() + timedelta(days=4)).replace(hour=8, minute=0, second=0, microsecond=0)
    return {
        "deal": deal.pk,
        "equipment_type": f.EquipmentTypeFactory().pk,
        "start": start.isoformat(),
        "end": (start + timedelta(hours=8)).isoformat(),
        "site_address": "Москва, ул. Строителей, 5",
        "ordered_hours": "8",
        "rate_per_hour": "3500.00",
    }


# The reference resources above plus the workflow resources with plain CRUD endpoints.
PERMISSION_SPECS = {
    **SPECS,
    "deal": Spec("deal", "deals", f.DealFactory, _deal_body, {"title": "Переименована"}),
    "booking": Spec("booking", "bookings", f.BookingFactory, _booking_body, {"notes": "въезд с юга"}),
}

MODELS = {
    "organization": m.Organization,
    "accounting_base": m.AccountingBase,
    "counterparty": m.Counterparty,
    "contact": m.Contact,
    "equipment_type": m.EquipmentType,
    "supplier": m.Supplier,
    "unit": m.Unit,
    "maintenance": m.MaintenanceWindow,
    "driver": m.Driver,
    "driver_document": m.DriverDocument,
}


@pytest.fixture(params=list(SPECS), ids=list(SPECS))
def spec(request) -> Spec:
    return SPECS[request.param]
