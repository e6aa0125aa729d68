"""Builds the demo company: our two legal entities with their 1C bases, customers with
contacts, equipment types, own and suppliers' units, maintenance windows, drivers and
one user per role.

Everything comes from one ``random.Random(seed)`` and from :class:`Requisites`, so a run
is repeatable and every ИНН/plate/account is unique by construction. Rows go in with
``bulk_create`` in batches (with their history rows), which keeps a 100,000-customer run
to minutes; small runs also pass every row through ``full_clean`` first.
"""

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import reset_queries, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from arenda.core.models import User
from arenda.core.roles import Role
from arenda.demo import data
from arenda.demo.jobs import JobBuilder
from arenda.demo.requisites import Requisites
from arenda.directory.models import (
    AccountingBase,
    Contact,
    Counterparty,
    DocumentKind,
    Driver,
    DriverDocument,
    EquipmentType,
    EquipmentTypeRequirement,
    MaintenanceWindow,
    Organization,
    Supplier,
    Unit,
    VatRate,
)
from arenda.env import env_str

BATCH = 2000
DEMO_TRACKERS = [
    ("wialon", "734455"),
    ("wialon", "734456"),
    ("wialon", "734457"),
    ("aemp", "AEMP-1001"),
    ("aemp", "AEMP-1002"),
]
# Above this many customers or units rows are not full_clean'ed one by one (it would take hours);
# the generators are tested to produce only valid values instead.
FULL_CLEAN_LIMIT = 1000
CHANGE_REASON = "Демо-данные"

# login, role, full name
DEMO_USERS = [
    ("admin", Role.ADMIN, "Андреев Сергей Николаевич"),
    ("manager", Role.MANAGER, "Смирнова Ольга Викторовна"),
    ("manager2", Role.MANAGER, "Кузнецов Дмитрий Алексеевич"),
    ("accountant", Role.ACCOUNTANT, "Белова Татьяна Николаевна"),
    ("director", Role.DIRECTOR, "Орлов Виктор Петрович"),
]

# The fake 1C (a later piece) serves these bases with these credentials.
DEMO_1C_USER = "odata"
DEMO_1C_PASSWORD = "demo-odata-1c"
DEMO_1C_BASES = {"osn": "spectech", "usn": "orlov"}

_MOSCOW_PLATE_REGIONS = ["77", "97", "99", "177", "197", "199", "777", "797", "799", "977"]
_REGION_PLATE_REGIONS = ["50", "90", "150", "190", "750", "790"]
_TRANSLIT = str.maketrans("абвгдеёзийклмнопрстуфыэ", "abvgdeeziyklmnoprstufye", "ъь") | {
    ord(k): v
    for k, v in {
        "ж": "zh",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ю": "yu",
        "я": "ya",
    }.items()
}


def fake_1c_url(slug: str) -> str:
    return f"{env_str('FAKE_1C_URL', 'http://127.0.0.1:8081').rstrip('/')}/{slug}/odata/standard.odata/"


def translit(text: str) -> str:
    out = text.lower().translate(_TRANSLIT)
    return "".join(ch for ch in out if ch.isascii() and (ch.isalnum() or ch == "-")).strip("-")


@dataclass(frozen=True)
class Plan:
    counterparties: int = 40
    units: int = 25
    suppliers: int = 3
    drivers: int = 20
    # the demo's jobs: bookings, waybills, invoices, payments (a benchmark builds its own)
    jobs: bool = True

    @classmethod
    def for_scale(
        cls, scale: int = 1, *, counterparties: int | None = None, units: int | None = None, jobs: bool = True
    ):
        base = cls()
        return cls(
            counterparties=base.counterparties * scale if counterparties is None else counterparties,
            units=base.units * scale if units is None else units,
            suppliers=base.suppliers * scale,
            drivers=base.drivers * scale,
            jobs=jobs,
        )


def demo_present() -> bool:
    return Organization.objects.exists()


def demo_users():
    logins = [login for login, _role, _name in DEMO_USERS]
    return sorted(User.objects.filter(username__in=logins), key=lambda u: logins.index(u.username))


@transaction.atomic
def seed_demo(plan: Plan, *, password: str, seed: int = 1) -> dict[str, int]:
    """Fill an empty database; returns the number of rows made per model."""
    validate = max(plan.counterparties, plan.units) <= FULL_CLEAN_LIMIT
    return _Builder(plan, seed=seed, validate=validate).build(password)


class _Builder:
    def __init__(self, plan: Plan, *, seed: int, validate: bool):
        self.plan = plan
        self.rng = random.Random(seed)
        self.req = Requisites(salt=seed)
        self.validate = validate
        self.today = timezone.localdate()
        self.counts: dict[str, int] = {}
        self.admin = None

    # --- helpers -------------------------------------------------------------------------
    def _insert(self, model, objs: list) -> list:
        if self.validate:
            for obj in objs:
                obj.full_clean()
        created = bulk_create_with_history(
            objs, model, batch_size=BATCH, default_user=self.admin, default_change_reason=CHANGE_REASON
        )
        reset_queries()  # with DEBUG on, the logged SQL of bulk inserts would pile up to hundreds of MB
        name = model._meta.verbose_name_plural
        self.counts[str(name)] = self.counts.get(str(name), 0) + len(objs)
        return created

    def _person(self, *, female: bool | None = None) -> tuple[str, str, str, bool]:
        rng = self.rng
        if female is None:
            female = rng.random() < 0.3
        surname = rng.choice(data.MALE_SURNAMES)
        male_patronymic, female_patronymic = rng.choice(data.PATRONYMICS)
        if female:
            surname = surname + "а"
            return surname, rng.choice(data.FEMALE_NAMES), female_patronymic, True
        return surname, rng.choice(data.MALE_NAMES), male_patronymic, False

    def _mobile(self) -> str:
        return f"+7{self.rng.choice(data.MOBILE_CODES)}{self.rng.randint(0, 9_999_999):07d}"

    def _address(self, region: str) -> str:
        rng = self.rng
        house = f"д. {rng.randint(1, 120)}" + (f", стр. {rng.randint(1, 9)}" if rng.random() < 0.4 else "")
        office = f", офис {rng.randint(1, 450)}" if rng.random() < 0.5 else ""
        if region == "77":
            postcode = f"1{rng.randint(5, 29):02d}{rng.randint(0, 999):03d}"
            return f"{postcode}, г. Москва, {rng.choice(data.MOSCOW_STREETS)}, {house}{office}"
        postcode, town = rng.choice(data.MOSCOW_REGION_TOWNS)
        return f"{postcode}, Московская обл., г. {town}, {rng.choice(data.REGION_STREETS)}, {house}{office}"

    def _region(self) -> str:
        return "77" if self.rng.random() < 0.65 else "50"

    def _year(self) -> int:
        return self.rng.randint(2003, 2023)

    # --- the company --------------------------------------------------------------------------
    def build(self, password: str) -> dict[str, int]:
        self._users(password)
        self._organizations()
        self._equipment_types()
        self._suppliers_and_units()
        self._maintenance()
        self._drivers()
        self._documents()
        self._counterparties()
        if self.plan.jobs:
            self._jobs()
        return self.counts

    def _jobs(self) -> None:
        """Past jobs with waybills, invoices and payments; today's and tomorrow's bookings."""
        self.counts.update(JobBuilder(self).build())

    def _users(self, password: str) -> None:
        hashed = make_password(password)  # one slow hash for all the demo users
        for login, role, full_name in DEMO_USERS:
            user = User(username=login, role=role, full_name=full_name, phone=self._mobile())
            user.first_name, user.last_name = full_name.split()[1], full_name.split()[0]
            user.is_staff = user.is_superuser = role == Role.ADMIN
            user.password = hashed
            if self.validate:
                user.full_clean()
            user._history_user = self.admin
            user.save()
            if role == Role.ADMIN:
                self.admin = user
        self.counts[str(User._meta.verbose_name_plural)] = len(DEMO_USERS)

    def _organizations(self) -> None:
        sber, alfa = data.BANKS[0], data.BANKS[1]
        inn, kpp, ogrn = self.req.legal("77", 2012)
        osn = Organization(
            name="ООО «СпецТехАренда»",
            full_name="Общество с ограниченной ответственностью «СпецТехАренда»",
            inn=inn,
            kpp=kpp,
            ogrn=ogrn,
            address="109316, г. Москва, Волгоградский пр-т, д. 42, корп. 5, офис 310",
            phone="+74951502233",
            email="info@spectecharenda.ru",
            director="Орлов Виктор Петрович",
            accountant="Белова Татьяна Николаевна",
            vat_rate=VatRate.VAT22,
            bank_name=sber[0],
            bik=sber[1],
            corr_account=sber[2],
            account=self.req.account(sber[1]),
        )
        inn, ogrnip = self.req.private("50", 2015)
        usn = Organization(
            name="ИП Орлов В. П.",
            full_name="Индивидуальный предприниматель Орлов Виктор Петрович",
            inn=inn,
            ogrn=ogrnip,
            address="140100, Московская обл., г. Раменское, ул. Транспортная, д. 7",
            phone="+74964612288",
            email="orlov.vp@spectecharenda.ru",
            director="Орлов Виктор Петрович",
            vat_rate=VatRate.NONE,
            bank_name=alfa[0],
            bik=alfa[1],
            corr_account=alfa[2],
            account=self.req.account(alfa[1], balance="40802", branch="0000"),
        )
        organizations = self._insert(Organization, [osn, usn])
        bases = self._insert(
            AccountingBase,
            [
                AccountingBase(
                    name=f"БП 3.0 — {org.name}",
                    organization=org,
                    kind=AccountingBase.Kind.ODATA,
                    odata_url=fake_1c_url(slug),
                    username=DEMO_1C_USER,
                    password=DEMO_1C_PASSWORD,
                )
                for org, slug in zip(organizations, DEMO_1C_BASES.values(), strict=True)
            ],
        )
        for org, base in zip(organizations, bases, strict=True):
            org.default_accounting_base = base
            if self.validate:
                org.full_clean()
            org._history_user = self.admin
            org.save(update_fields=["default_accounting_base", "updated_at"])
        self.base_osn, self.base_usn = bases

    def _equipment_types(self) -> None:
        types = self._insert(
            EquipmentType, [EquipmentType(name=name, description=desc) for name, desc in data.EQUIPMENT_TYPES]
        )
        self.types = {t.name: t for t in types}
        requirements = [
            EquipmentTypeRequirement(equipment_type=self.types[name], kind=kind, category=category)
            for name, rows in data.REQUIREMENTS.items()
            if name in self.types
            for kind, category in rows
        ]
        if self.validate:
            for requirement in requirements:
                requirement.full_clean()
        EquipmentTypeRequirement.objects.bulk_create(requirements)
        self.counts[str(EquipmentTypeRequirement._meta.verbose_name_plural)] = len(requirements)

    def _unit(self, model_row, *, supplier=None) -> Unit:
        type_name, name, capacity, per_hour, per_km, min_hours, meter, tractor = model_row
        rng = self.rng
        if tractor:
            plate = self.req.tractor_plate(rng.choice(["77", "50"]))
        else:
            plate = self.req.plate(rng.choice(_MOSCOW_PLATE_REGIONS + _REGION_PLATE_REGIONS))
        markup = Decimal("1.15") if supplier else Decimal(1)
        return Unit(
            equipment_type=self.types[type_name],
            name=name,
            capacity_t=capacity,
            plate=plate,
            owner=Unit.Owner.SUPPLIER if supplier else Unit.Owner.OWN,
            supplier=supplier,
            rate_per_hour=(per_hour * markup).quantize(Decimal("1")),
            rate_per_km=per_km,
            min_hours=min_hours,
            has_hour_meter=meter,
            notes=f"Год выпуска {rng.randint(2008, 2024)}.",
        )

    def _suppliers_and_units(self) -> None:
        rng = self.rng
        suppliers = []
        for i in range(self.plan.suppliers):
            name, person = data.SUPPLIER_NAMES[i % len(data.SUPPLIER_NAMES)]
            if i >= len(data.SUPPLIER_NAMES):
                name = name[:-1] + f"-{i // len(data.SUPPLIER_NAMES) + 1}»"
            suppliers.append(
                Supplier(
                    name=name,
                    inn=self.req.legal(self._region(), self._year())[0],
                    phone=self._mobile(),
                    email=f"zakaz@{translit(name.split('«')[1].rstrip('»'))}.ru",
                    contact_person=person,
                )
            )
        suppliers = self._insert(Supplier, suppliers)
        # Every model shows up once before any repeats, so even the default run has them all.
        own = [
            self._unit(data.UNIT_MODELS[i] if i < len(data.UNIT_MODELS) else rng.choice(data.UNIT_MODELS))
            for i in range(self.plan.units)
        ]
        hired = [self._unit(rng.choice(data.UNIT_MODELS), supplier=s) for s in suppliers for _ in range(2)]
        # The first own machines carry trackers, read from the fakes of `make run`
        # (docs/telematics.md): three in Wialon, two in a maker's ISO 15143-3 API.
        for unit, (provider, tracker_id) in zip(own, DEMO_TRACKERS, strict=False):
            unit.tracker_provider, unit.tracker_id = provider, tracker_id
        for start in range(0, len(own), BATCH):
            self._insert(Unit, own[start : start + BATCH])
        self._insert(Unit, hired)
        self.own_units = own

    def _maintenance(self) -> None:
        rng, tz = self.rng, timezone.get_current_timezone()
        windows = []
        for unit in rng.sample(self.own_units, min(len(self.own_units), max(2, self.plan.units // 12))):
            day = self.today + timedelta(days=rng.randint(2, 27))
            start = datetime.combine(day, time(8, 0), tzinfo=tz)
            end = start + rng.choice(
                [timedelta(hours=9), timedelta(days=1, hours=9), timedelta(days=2, hours=9)]
            )
            windows.append(
                MaintenanceWindow(
                    unit=unit, start=start, end=end, reason=rng.choice(data.MAINTENANCE_REASONS)
                )
            )
        self._insert(MaintenanceWindow, windows)

    def _drivers(self) -> None:
        rng = self.rng
        drivers = []
        for i in range(self.plan.drivers):
            surname, first, patronymic, _female = self._person(female=False)
            staff = i % 3 != 2
            if i == 0:
                valid_until = self.today + timedelta(days=10)  # expiring soon
            elif i == 1:
                valid_until = self.today - timedelta(days=20)  # already expired
            else:
                valid_until = self.today + timedelta(days=rng.randint(200, 3000))
            drivers.append(
                Driver(
                    full_name=f"{surname} {first} {patronymic}",
                    phone=self._mobile(),
                    employment=Driver.Employment.STAFF if staff else Driver.Employment.CONTRACTOR,
                    hourly_pay=Decimal(
                        rng.randrange(450, 850, 50) if staff else rng.randrange(700, 1250, 50)
                    ),
                    license_number=f"{rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(100000, 999999)}",
                    license_valid_until=valid_until,
                    telegram_chat_id=str(rng.randint(100_000_000, 7_999_999_999))
                    if rng.random() < 0.6
                    else "",
                    notes="" if staff else "Самозанятый, договор ГПХ.",
                )
            )
        for start in range(0, len(drivers), BATCH):
            self._insert(Driver, drivers[start : start + BATCH])

    def _documents(self) -> None:
        """Every driver's licences and certificates, so that each may take any machine —
        but for a few, on purpose: the second driver's licence has expired (it is on the
        dashboard), the first's medical certificate expires within days (the expiry notice),
        and the third lacks the crane operator's certificates (the picker shows why)."""
        rng, today = self.rng, self.today
        documents = []
        for i, driver in enumerate(Driver.objects.order_by("pk")):
            issued = today - timedelta(days=rng.randint(400, 3000))

            def add(kind, categories="", valid_until=None, number="", issued_on=issued, driver=driver):
                documents.append(
                    DriverDocument(
                        driver=driver,
                        kind=kind,
                        categories=categories,
                        number=number or f"{rng.randint(10, 99)} {rng.randint(100000, 999999)}",
                        issued_on=issued_on,
                        valid_until=valid_until,
                    )
                )

            licence_until = driver.license_valid_until
            add(
                DocumentKind.DRIVING_LICENCE,
                "B, C, CE",
                licence_until,
                driver.license_number,
                issued_on=min(issued, licence_until - timedelta(days=1)) if licence_until else issued,
            )
            add(DocumentKind.TRACTOR_LICENCE, "B, C, D, E", today + timedelta(days=rng.randint(400, 3000)))
            medical_until = (
                today + timedelta(days=12) if i == 0 else today + timedelta(days=rng.randint(90, 360))
            )
            add(
                DocumentKind.MEDICAL, "", medical_until, issued_on=today - timedelta(days=rng.randint(5, 200))
            )
            for kind in data.OPERATOR_CERTIFICATES:
                if i == 2 and kind in data.CRANE_CERTIFICATES:
                    continue
                add(kind)
        self._insert(DriverDocument, documents)

    # --- customers ------------------------------------------------------------------------------
    def _counterparties(self) -> None:
        total = self.plan.counterparties
        for start in range(0, total, BATCH):
            batch = [self._counterparty(i) for i in range(start, min(start + BATCH, total))]
            batch = self._insert(Counterparty, batch)
            self._insert(Contact, [c for cp in batch for c in self._contacts(cp)])

    def _counterparty(self, i: int) -> Counterparty:
        rng = self.rng
        region, year = self._region(), self._year()
        kind = {
            5: Counterparty.Kind.PERSON,
            2: Counterparty.Kind.SOLE_TRADER,
            9: Counterparty.Kind.SOLE_TRADER,
        }.get(i % 12, Counterparty.Kind.LEGAL)
        cp = Counterparty(kind=kind, address=self._address(region), notes=rng.choice(data.CUSTOMER_NOTES))
        if kind == Counterparty.Kind.LEGAL:
            short, long = rng.choice(data.LEGAL_FORMS)
            brand = (
                rng.choice(data.COMPANY_ROOTS)
                + rng.choice(data.COMPANY_ENDINGS)
                + rng.choice(data.COMPANY_TAILS)
            )
            cp.name, cp.full_name = f"{short} «{brand}»", f"{long} «{brand}»"
            cp.inn, cp.kpp, cp.ogrn = self.req.legal(region, year)
            code = "495" if region == "77" and rng.random() < 0.7 else ("499" if region == "77" else "496")
            cp.phone = f"+7{code}{rng.randint(1_000_000, 9_999_999)}"
            cp.email = f"info@{translit(brand)}.ru"
            self._bank(cp, "40702")
        else:
            surname, first, patronymic, _female = self._person()
            person = f"{surname} {first} {patronymic}"
            cp.phone = self._mobile()
            if kind == Counterparty.Kind.SOLE_TRADER:
                cp.name, cp.full_name = f"ИП {person}", f"Индивидуальный предприниматель {person}"
                cp.inn, cp.ogrn = self.req.private(region, year)
                cp.email = f"{translit(surname)}.{translit(first[0])}{rng.randint(1, 99)}@mail.ru"
                self._bank(cp, "40802")
            else:
                cp.name = cp.full_name = person
                cp.inn = self.req.private(region, year)[0] if rng.random() < 0.5 else ""
        roll = rng.random()
        if roll < 0.3:
            cp.accounting_base = None
        elif kind == Counterparty.Kind.LEGAL:
            cp.accounting_base = self.base_osn if roll < 0.85 else self.base_usn
        else:
            cp.accounting_base = self.base_usn
        if kind != Counterparty.Kind.PERSON and rng.random() < 0.3:
            cp.prepayment_required, cp.payment_terms_days = False, rng.choice([5, 7, 10, 14, 15, 20, 30])
        else:
            cp.prepayment_required, cp.payment_terms_days = True, rng.choice([0, 0, 1, 3, 5])
        return cp

    def _bank(self, cp: Counterparty, balance: str) -> None:
        cp.bank_name, cp.bik, cp.corr_account = self.rng.choice(data.BANKS)
        cp.account = self.req.account(cp.bik, balance=balance, branch=f"{self.rng.randint(0, 99) * 100:04d}")

    def _contacts(self, cp: Counterparty) -> list[Contact]:
        rng = self.rng
        if cp.kind == Counterparty.Kind.PERSON:
            return []
        count = rng.randint(1, 3) if cp.kind == Counterparty.Kind.LEGAL else rng.randint(1, 2)
        contacts = []
        for _ in range(count):
            surname, first, patronymic, _female = self._person()
            email = ""
            if cp.kind == Counterparty.Kind.LEGAL and rng.random() < 0.5:
                email = f"{translit(first)}.{translit(surname)}@{cp.email.split('@')[1]}"
            contacts.append(
                Contact(
                    counterparty=cp,
                    full_name=f"{surname} {first} {patronymic}",
                    phone=self._mobile(),
                    email=email,
                    position=rng.choice(data.CONTACT_POSITIONS),
                )
            )
        return contacts
