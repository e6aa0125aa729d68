"""factory_boy factories with valid Russian requisites (see arenda.core.validators)."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from arenda.bookings import ledger
from arenda.core.models import User
from arenda.core.roles import Role
from arenda.directory import models as m

_seq = itertools.count(1)


def make_inn10(n: int) -> str:
    base = f"77{n:07d}"[-9:]
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(int(d) * w for d, w in zip(base, weights, strict=True)) % 11 % 10
    return base + str(check)


def make_inn12(n: int) -> str:
    base = f"50{n:08d}"[-10:]
    w1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    c1 = sum(int(d) * w for d, w in zip(base, w1, strict=True)) % 11 % 10
    w2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    c2 = sum(int(d) * w for d, w in zip(base + str(c1), w2, strict=True)) % 11 % 10
    return base + str(c1) + str(c2)


def make_ogrn(n: int) -> str:
    base = f"102770{n:06d}"[-12:]
    return base + str(int(base) % 11 % 10)


def make_account(bik: str, n: int, prefix: str = "40702810") -> str:
    """A settlement account whose control key (digit 9) matches the BIK."""
    weights = (7, 1, 3) * 8
    body = prefix + "0" + f"{n:011d}"[-11:]
    for key in range(10):
        candidate = body[:8] + str(key) + body[9:]
        if sum(int(d) * w for d, w in zip(bik[-3:] + candidate, weights, strict=False)) % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def make_corr_account(bik: str) -> str:
    weights = (7, 1, 3) * 8
    body = "30101810" + "0" + "00000000" + bik[-3:]
    for key in range(10):
        candidate = body[:8] + str(key) + body[9:]
        if sum(int(d) * w for d, w in zip("0" + bik[4:6] + candidate, weights, strict=False)) % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


BIK = "044525225"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"Пользователь {n}")
    role = Role.MANAGER
    password = factory.PostGenerationMethodCall("set_password", "pass-12345")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Organization

    name = factory.Sequence(lambda n: f"ООО «Спецтехника-{n}»")
    full_name = factory.LazyAttribute(lambda o: f"Общество с ограниченной ответственностью {o.name}")
    inn = factory.Sequence(lambda n: make_inn10(100 + n))
    kpp = "770101001"
    ogrn = factory.Sequence(lambda n: make_ogrn(100 + n))
    address = "г. Москва, ул. Строителей, д. 1"
    bank_name = "ПАО Сбербанк"
    bik = BIK
    corr_account = factory.LazyFunction(lambda: make_corr_account(BIK))
    account = factory.Sequence(lambda n: make_account(BIK, n))
    director = "Иванов И. И."
    accountant = "Петрова А. А."
    vat_rate = m.VatRate.VAT22


class AccountingBaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.AccountingBase

    name = factory.Sequence(lambda n: f"БП 3.0 — база {n}")
    organization = factory.SubFactory(OrganizationFactory)
    kind = m.AccountingBase.Kind.ODATA
    odata_url = factory.Sequence(lambda n: f"http://127.0.0.1:8081/base{n}/odata/standard.odata/")
    username = "odata"
    password = "secret-1c"


class CounterpartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Counterparty

    kind = m.Counterparty.Kind.LEGAL
    name = factory.Sequence(lambda n: f"ООО «Заказчик {n}»")
    inn = factory.Sequence(lambda n: make_inn10(5000 + n))
    kpp = "770201001"
    ogrn = factory.Sequence(lambda n: make_ogrn(5000 + n))
    address = "г. Москва, ул. Ленина, д. 10"
    phone = factory.Sequence(lambda n: f"+7916{n:07d}")
    prepayment_required = True
    payment_terms_days = 5


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Contact

    counterparty = factory.SubFactory(CounterpartyFactory)
    full_name = factory.Sequence(lambda n: f"Контактов Пётр {n}")
    phone = factory.Sequence(lambda n: f"+7903{n:07d}")
    position = "прораб"


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Supplier

    name = factory.Sequence(lambda n: f"ООО «Поставщик {n}»")
    inn = factory.Sequence(lambda n: make_inn10(9000 + n))
    phone = factory.Sequence(lambda n: f"+7905{n:07d}")


class EquipmentTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.EquipmentType
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Автокран {n}")


_LETTERS = "АВЕКМНОРСТУХ"


def make_plate(n: int) -> str:
    return f"{_LETTERS[n % 12]}{n % 1000:03d}{_LETTERS[(n // 12) % 12]}{_LETTERS[(n // 144) % 12]}{77 + (n // 1728) % 100}"


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Unit

    equipment_type = factory.SubFactory(EquipmentTypeFactory)
    name = "КС-55713 «Галичанин»"
    capacity_t = Decimal("25")
    plate = factory.Sequence(make_plate)
    owner = m.Unit.Owner.OWN
    rate_per_hour = Decimal("3500.00")
    rate_per_km = Decimal("120.00")
    min_hours = Decimal("4")


class MaintenanceWindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.MaintenanceWindow

    unit = factory.SubFactory(UnitFactory)
    start = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(hours=8))
    reason = "ТО-2"


class DriverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Driver

    full_name = factory.Sequence(lambda n: f"Водителев Иван {n}")
    phone = factory.Sequence(lambda n: f"+7915{n:07d}")
    employment = m.Driver.Employment.STAFF
    hourly_pay = Decimal("600.00")
    license_valid_until = factory.LazyFunction(lambda: date.today() + timedelta(days=365))


class DriverDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.DriverDocument

    driver = factory.SubFactory(DriverFactory)
    kind = m.DocumentKind.MEDICAL
    number = factory.Sequence(lambda n: f"77 {n:08d}")
    issued_on = factory.LazyFunction(lambda: date.today() - timedelta(days=100))
    valid_until = factory.LazyFunction(lambda: date.today() + timedelta(days=365))


class EquipmentTypeRequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.EquipmentTypeRequirement

    equipment_type = factory.SubFactory(EquipmentTypeFactory)
    kind = m.DocumentKind.MEDICAL
    category = ""


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Deal"

    title = factory.Sequence(lambda n: f"Аренда автокрана, объект {n}")
    counterparty = factory.SubFactory(CounterpartyFactory)
    stage = "new"


def _next_morning():
    local = timezone.localtime() + timedelta(days=2)
    return local.replace(hour=8, minute=0, second=0, microsecond=0)


class BookingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "bookings.Booking"

    deal = factory.SubFactory(DealFactory)
    equipment_type = factory.SubFactory(EquipmentTypeFactory)
    min_capacity_t = Decimal("10")
    start = factory.LazyFunction(_next_morning)
    end = factory.LazyAttribute(lambda o: o.start + timedelta(hours=8))
    site_address = "Москва, ул. Строителей, 5, стройплощадка"
    ordered_hours = Decimal("8")
    min_hours = Decimal("4")
    rate_per_hour = Decimal("3500.00")
    rate_per_km = Decimal("0")


class LeadFactory(factory.django.DjangoModelFactory):
    """An open lead with a phone of its own (+7 912 xxx-xx-xx)."""

    class Meta:
        model = "crm.Lead"

    source = "website"
    name = factory.Sequence(lambda n: f"Заказчиков Пётр {n}")
    phone = factory.Sequence(lambda n: f"+7912{n + 1000000:07d}")
    message = "Нужен автокран 25 т на завтра"


class DealLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.DealLine"

    deal = factory.SubFactory(DealFactory)
    equipment_type = factory.SubFactory(EquipmentTypeFactory)
    min_capacity_t = Decimal("25")
    start = factory.LazyFunction(_next_morning)
    end = factory.LazyAttribute(lambda o: o.start + timedelta(hours=8))
    ordered_hours = Decimal("8")
    min_hours = Decimal("4")
    rate_per_hour = Decimal("3500.00")
    km = Decimal("20")
    rate_per_km = Decimal("100.00")
    site_address = "Москва, ул. Строителей, 5, стройплощадка"


class InvoiceFactory(factory.django.DjangoModelFactory):
    """An invoice with one line, made by the billing services (so the total, VAT and the
    number are theirs): a draft, or numbered with ``issued=True``."""

    class Meta:
        model = "billing.Invoice"

    kind = "postpayment"
    counterparty = factory.SubFactory(CounterpartyFactory)
    organization = factory.SubFactory(OrganizationFactory)
    quantity = Decimal("8")
    price = Decimal("3500.00")
    issued = False

    @classmethod
    def _create(cls, model_class, *, quantity, price, issued, **kwargs):
        from arenda.billing.services import LineData, invoice_create, invoice_issue

        lines = [LineData("Услуги автокрана с экипажем", quantity, price)]
        invoice = invoice_create(lines=lines, by=None, **kwargs)
        return invoice_issue(invoice=invoice, by=None) if issued else invoice


class WaybillFactory(factory.django.DjangoModelFactory):
    """A waybill written straight to the table (no settling); tests of the rules use
    ``arenda.flows.trips.waybill_record``."""

    class Meta:
        model = "bookings.Waybill"

    booking = factory.SubFactory(BookingFactory)
    number = factory.Sequence(lambda n: f"ПЛ-{n + 1}")
    started_at = factory.LazyAttribute(lambda o: o.booking.start)
    finished_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(hours=8))
    hours = Decimal("8")
    km = Decimal("0")
    unit = factory.LazyAttribute(lambda o: o.booking.unit)
    driver = factory.LazyAttribute(lambda o: o.booking.driver)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Its trip ledger row too, as every waybill write does (``bookings/ledger.py``)."""
        waybill = super()._create(model_class, *args, **kwargs)
        ledger.refresh([waybill.booking_id])
        return waybill


class TripEvidenceFactory(factory.django.DjangoModelFactory):
    """What a tracker said of a waybill's trip, written straight to the table (no read): a
    received evidence with the engine hours given, flagged as the test says."""

    class Meta:
        model = "bookings.TripEvidence"

    waybill = factory.SubFactory(WaybillFactory)
    booking = factory.LazyAttribute(lambda o: o.waybill.booking)
    unit = factory.LazyAttribute(lambda o: o.waybill.unit or o.waybill.booking.unit)
    provider = "wialon"
    tracker_id = "734455"
    window_start = factory.LazyAttribute(lambda o: o.waybill.started_at - timedelta(minutes=30))
    window_end = factory.LazyAttribute(lambda o: o.waybill.finished_at + timedelta(minutes=30))
    status = "ready"
    fetched_at = factory.LazyFunction(timezone.now)
    samples = 120
