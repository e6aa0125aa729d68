"""Drivers' documents and the documents a type of machine requires: the model's rules, the
"what does this driver lack" selector, and reserving refusing an unqualified driver."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from arenda.bookings import services
from arenda.bookings.models import Booking
from arenda.bookings.services import BookingConflict
from arenda.directory import selectors
from arenda.directory.models import DocumentKind, DriverDocument, DriverPayRate, EquipmentTypeRequirement
from arenda.directory.services import (
    driver_document_create,
    driver_document_update,
    equipment_type_set_requirements,
)
from tests.factories import (
    BookingFactory,
    DriverDocumentFactory,
    DriverFactory,
    EquipmentTypeFactory,
    EquipmentTypeRequirementFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db


def crane_requirements(crane):
    for kind, category in (
        (DocumentKind.DRIVING_LICENCE, "C"),
        (DocumentKind.TRUCK_CRANE, ""),
        (DocumentKind.MEDICAL, ""),
    ):
        EquipmentTypeRequirementFactory(equipment_type=crane, kind=kind, category=category)


def qualified_driver(until=None):
    until = until or date.today() + timedelta(days=365)
    driver = DriverFactory()
    DriverDocumentFactory(
        driver=driver, kind=DocumentKind.DRIVING_LICENCE, categories="B, C", valid_until=until
    )
    DriverDocumentFactory(driver=driver, kind=DocumentKind.TRUCK_CRANE, valid_until=None)
    DriverDocumentFactory(driver=driver, kind=DocumentKind.MEDICAL, valid_until=until)
    return driver


@pytest.fixture
def crane():
    crane = EquipmentTypeFactory(name="Автокран")
    crane_requirements(crane)
    return crane


def booking_days_ahead(crane, days=3, hours=8):
    start = (timezone.localtime() + timedelta(days=days)).replace(hour=8, minute=0, second=0, microsecond=0)
    return BookingFactory(equipment_type=crane, start=start, end=start + timedelta(hours=hours))


# --- the model --------------------------------------------------------------------------------
def test_categories_are_normalised_and_cyrillic_lookalikes_read_as_latin():
    document = DriverDocumentFactory.build(
        driver=DriverFactory(), kind=DocumentKind.DRIVING_LICENCE, categories="в, с;ce  C"
    )
    document.full_clean()
    assert document.categories == "B, C, CE"


@pytest.mark.parametrize(
    ("kind", "categories"),
    [
        (DocumentKind.MEDICAL, "B"),  # no categories on a medical certificate
        (DocumentKind.DRIVING_LICENCE, "Z"),  # not a driving category
        (DocumentKind.TRACTOR_LICENCE, "CE"),  # a driving category, not a tractor one
        (DocumentKind.DRIVING_LICENCE, ""),  # a licence names its categories
    ],
)
def test_categories_must_fit_the_kind(kind, categories):
    document = DriverDocumentFactory.build(driver=DriverFactory(), kind=kind, categories=categories)
    with pytest.raises(ValidationError) as err:
        document.full_clean()
    assert set(err.value.message_dict) == {"categories"}


def test_valid_until_after_issued_on():
    document = DriverDocumentFactory.build(
        driver=DriverFactory(), issued_on=date(2026, 5, 1), valid_until=date(2026, 5, 1)
    )
    with pytest.raises(ValidationError) as err:
        document.full_clean()
    assert set(err.value.message_dict) == {"valid_until"}


def test_requirement_category_only_for_licences():
    requirement = EquipmentTypeRequirement(equipment_type=EquipmentTypeFactory(), kind="rigger", category="C")
    with pytest.raises(ValidationError) as err:
        requirement.full_clean()
    assert set(err.value.message_dict) == {"category"}


# --- what a driver lacks ----------------------------------------------------------------------
def test_gaps_name_missing_and_expiring_documents(crane):
    driver = DriverFactory()
    DriverDocumentFactory(driver=driver, kind=DocumentKind.DRIVING_LICENCE, categories="B", valid_until=None)
    DriverDocumentFactory(driver=driver, kind=DocumentKind.MEDICAL, valid_until=date(2027, 1, 10))
    gaps = selectors.qualification_gaps([driver.pk], crane.pk, date(2027, 1, 11))[driver.pk]
    assert [(g.kind, g.category, g.reason, g.valid_until) for g in gaps] == [
        ("driving_licence", "C", "missing", None),  # holds B only
        ("medical", "", "expires", date(2027, 1, 10)),
        ("truck_crane", "", "missing", None),
    ]
    assert gaps[0].as_dict()["label"]


def test_a_renewed_document_counts_beside_the_old_one(crane):
    driver = qualified_driver()
    DriverDocument.objects.filter(driver=driver, kind="medical").update(
        valid_until=date.today() - timedelta(1)
    )
    DriverDocumentFactory(driver=driver, kind=DocumentKind.MEDICAL, valid_until=date.today() + timedelta(400))
    assert selectors.qualification_gaps([driver.pk], crane.pk, date.today() + timedelta(30))[driver.pk] == []


def test_a_type_without_requirements_asks_nothing(django_assert_num_queries):
    plain = EquipmentTypeFactory()
    drivers = [DriverFactory() for _ in range(3)]
    with django_assert_num_queries(1):
        gaps = selectors.qualification_gaps([d.pk for d in drivers], plain.pk, date.today())
    assert gaps == {d.pk: [] for d in drivers}


def test_gaps_of_many_drivers_take_two_queries(crane, django_assert_num_queries):
    drivers = [qualified_driver() for _ in range(5)] + [DriverFactory() for _ in range(5)]
    with django_assert_num_queries(2):
        gaps = selectors.qualification_gaps([d.pk for d in drivers], crane.pk, date.today())
    assert [bool(gaps[d.pk]) for d in drivers] == [False] * 5 + [True] * 5


# --- reserving --------------------------------------------------------------------------------
def test_reserve_refuses_a_driver_lacking_a_requirement(crane, make_user):
    driver = qualified_driver()
    DriverDocument.objects.filter(driver=driver, kind="medical").delete()
    booking = booking_days_ahead(crane)
    with pytest.raises(BookingConflict) as err:
        services.booking_reserve(
            booking=booking, unit=UnitFactory(equipment_type=crane), driver=driver, by=make_user()
        )
    assert err.value.code == "driver_not_qualified"
    assert [(m["kind"], m["reason"]) for m in err.value.missing] == [("medical", "missing")]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.DRAFT and booking.driver is None


def test_reserve_refuses_a_document_expiring_before_the_booking_ends(crane, make_user):
    booking = booking_days_ahead(crane, days=3, hours=24 * 3)  # ends on the 6th day
    driver = qualified_driver(until=timezone.localdate(booking.start) + timedelta(days=1))
    with pytest.raises(BookingConflict) as err:
        services.booking_reserve(
            booking=booking, unit=UnitFactory(equipment_type=crane), driver=driver, by=make_user()
        )
    assert err.value.code == "driver_not_qualified"
    assert {(m["kind"], m["reason"]) for m in err.value.missing} == {
        ("driving_licence", "expires"),
        ("medical", "expires"),
    }


def test_reserve_accepts_a_qualified_driver_valid_to_the_last_day(crane, make_user):
    booking = booking_days_ahead(crane)
    driver = qualified_driver(until=timezone.localdate(booking.end))
    booking = services.booking_reserve(
        booking=booking, unit=UnitFactory(equipment_type=crane), driver=driver, by=make_user()
    )
    assert booking.status == Booking.Status.RESERVED and booking.driver == driver


def test_a_type_without_requirements_reserves_any_driver(make_user):
    plain = EquipmentTypeFactory()
    booking = booking_days_ahead(plain)
    booking = services.booking_reserve(
        booking=booking, unit=UnitFactory(equipment_type=plain), driver=DriverFactory(), by=make_user()
    )
    assert booking.status == Booking.Status.RESERVED


# --- the services -----------------------------------------------------------------------------
def test_a_new_valid_until_clears_the_expiry_notice(make_user):
    document = driver_document_create(
        driver=DriverFactory(), by=make_user(), kind="medical", valid_until=date.today() + timedelta(10)
    )
    DriverDocument.objects.filter(pk=document.pk).update(expiry_notified_at=timezone.now())
    document.refresh_from_db()
    document = driver_document_update(instance=document, by=make_user(), notes="renewed")
    assert document.expiry_notified_at is not None
    document = driver_document_update(
        instance=document, by=make_user(), valid_until=date.today() + timedelta(400)
    )
    assert document.expiry_notified_at is None


def test_set_requirements_replaces_and_validates(make_user):
    crane = EquipmentTypeFactory()
    equipment_type_set_requirements(
        equipment_type=crane,
        requirements=[{"kind": "driving_licence", "category": "с"}, {"kind": "medical"}],
        by=make_user(),
    )
    assert sorted(crane.requirements.values_list("kind", "category")) == [
        ("driving_licence", "C"),
        ("medical", ""),
    ]
    equipment_type_set_requirements(equipment_type=crane, requirements=[{"kind": "rigger"}], by=make_user())
    assert list(crane.requirements.values_list("kind", flat=True)) == ["rigger"]
    with pytest.raises(ValidationError) as err:
        equipment_type_set_requirements(
            equipment_type=crane,
            requirements=[{"kind": "pilot"}, {"kind": "rigger", "category": "C"}],
            by=make_user(),
        )
    assert list(err.value.message_dict) == ["requirements"]
    assert len(err.value.message_dict["requirements"]) == 2
    assert list(crane.requirements.values_list("kind", flat=True)) == ["rigger"]


# --- pay by machine -----------------------------------------------------------------------------
def test_pay_rate_on_prefers_the_rate_for_the_machine(make_user):
    crane, truck = EquipmentTypeFactory(), EquipmentTypeFactory()
    driver = DriverFactory(hourly_pay=Decimal("600"))
    DriverPayRate.objects.create(driver=driver, hourly_pay=Decimal("600"), valid_from=date(2026, 1, 1))
    DriverPayRate.objects.create(
        driver=driver, hourly_pay=Decimal("900"), valid_from=date(2026, 3, 1), equipment_type=crane
    )
    DriverPayRate.objects.create(driver=driver, hourly_pay=Decimal("650"), valid_from=date(2026, 4, 1))
    assert selectors.pay_rate_on(driver, date(2026, 2, 1), crane) == Decimal("600")  # before the crane rate
    assert selectors.pay_rate_on(driver, date(2026, 5, 1), crane) == Decimal("900")
    assert selectors.pay_rate_on(driver, date(2026, 5, 1), truck) == Decimal("650")
    assert selectors.pay_rate_on(driver, date(2026, 5, 1)) == Decimal("650")
