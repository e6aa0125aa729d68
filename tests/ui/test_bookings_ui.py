"""The booking pages: who may open them, the picker that reserves in one step and explains
a refusal with links, cancelling with a reason, the timeline's constant query count."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import factory
import pytest
from django.urls import reverse
from django.utils import timezone

from arenda.bookings import services
from arenda.bookings.models import Booking, SupplyOrder
from arenda.core.roles import Role
from tests.conftest import ROLES
from tests.factories import (
    BookingFactory,
    DealFactory,
    DriverFactory,
    EquipmentTypeFactory,
    MaintenanceWindowFactory,
    SupplierFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db
READ_ONLY = [Role.ACCOUNTANT, Role.DIRECTOR]


@pytest.fixture
def login(client, make_user):
    def as_role(role=Role.MANAGER):
        user = make_user(role)
        client.force_login(user)
        return user

    return as_role


@pytest.fixture
def crane():
    return EquipmentTypeFactory(name="Автокран")


@pytest.fixture
def booking(crane):
    return BookingFactory(equipment_type=crane, deal=DealFactory(counterparty__name="ООО «Мостострой»"))


@pytest.fixture
def reserved(crane, make_user):
    b = BookingFactory(equipment_type=crane)
    return services.booking_reserve(
        booking=b, unit=UnitFactory(equipment_type=crane), driver=DriverFactory(), by=make_user()
    )


@pytest.fixture
def supply(crane, make_user):
    b = BookingFactory(equipment_type=crane, rate_per_hour=Decimal("4000"))
    return services.booking_request_supply(
        booking=b, supplier=SupplierFactory(), cost_per_hour=Decimal("3200"), by=make_user()
    )


def view_urls(booking, supply):
    day = timezone.localtime(booking.start).date().isoformat()
    return [
        reverse("bookings:booking_list"),
        reverse("bookings:booking_list") + "?status=draft&q=Мост&from=2020-01-01&to=2099-01-01",
        reverse("bookings:booking_detail", args=[booking.pk]),
        reverse("bookings:availability"),
        reverse("bookings:availability") + f"?start={day}T08:00&end={day}T18:00&min_capacity_t=5",
        reverse("bookings:timeline"),
        reverse("bookings:timeline") + f"?by=driver&days=31&start={day}",
        reverse("bookings:day") + f"?date={day}",
        reverse("bookings:board"),
        reverse("bookings:supply_order_list"),
        reverse("bookings:supply_order_list") + "?view=board",
        reverse("bookings:supply_order_detail", args=[supply.pk]),
    ]


def write_urls(booking):
    return [
        reverse("bookings:booking_create", args=[booking.deal_id]),
        reverse("bookings:booking_update", args=[booking.pk]),
        reverse("bookings:booking_reserve", args=[booking.pk]),
        reverse("bookings:booking_request_supply", args=[booking.pk]),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_pages(client, login, role, booking, supply):
    login(role)
    for url in view_urls(booking, supply):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", READ_ONLY)
def test_read_only_roles_may_not_write(client, login, role, booking, supply):
    login(role)
    for url in write_urls(booking):
        assert client.get(url).status_code == 403, url
    for name in ("booking_confirm", "booking_cancel", "booking_complete"):
        assert client.post(reverse(f"bookings:{name}", args=[booking.pk]), {"reason": "x"}).status_code == 403
    url = reverse("bookings:supply_order_status", args=[supply.pk])
    assert client.post(url, {"status": "confirmed"}).status_code == 403
    page = client.get(reverse("bookings:booking_detail", args=[booking.pk])).content.decode()
    assert reverse("bookings:booking_reserve", args=[booking.pk]) not in page


def test_anonymous_is_sent_to_login(client, booking):
    assert client.get(reverse("bookings:timeline")).status_code == 302


def test_create_a_booking_in_a_deal_in_moscow_time(client, login, crane):
    login()
    deal = DealFactory()
    assert "bookings/deal/" in client.get(deal.get_absolute_url()).content.decode()
    response = client.post(
        reverse("bookings:booking_create", args=[deal.pk]),
        {
            "equipment_type": crane.pk,
            "min_capacity_t": "25",
            "start": "2031-03-10T08:00",
            "end": "2031-03-10T17:00",
            "site_address": "Москва, Ленинский пр., 1",
            "ordered_hours": "8",
            "min_hours": "4",
            "rate_per_hour": "3500",
            "rate_per_km": "0",
        },
    )
    booking = Booking.objects.get(deal=deal)
    assert response.status_code == 302
    assert response["Location"] == reverse("bookings:booking_reserve", args=[booking.pk])
    assert booking.status == "draft"
    assert booking.start.astimezone(UTC).hour == 5  # 08:00 in Moscow is 05:00 UTC


def test_end_before_start_is_refused(client, login, crane):
    login()
    deal = DealFactory()
    response = client.post(
        reverse("bookings:booking_create", args=[deal.pk]),
        {"equipment_type": crane.pk, "min_capacity_t": "0", "start": "2031-03-10T08:00",
         "end": "2031-03-10T07:00", "site_address": "x", "ordered_hours": "0", "min_hours": "0",
         "rate_per_hour": "0", "rate_per_km": "0"},
    )  # fmt: skip
    assert response.status_code == 200
    assert not Booking.objects.filter(deal=deal).exists()


def test_picker_lists_free_first_and_busy_with_the_blocker(client, login, crane, booking):
    login()
    free, taken, in_repair = (UnitFactory(equipment_type=crane) for _ in range(3))
    other = BookingFactory(equipment_type=crane, start=booking.start, end=booking.end)
    services.booking_reserve(booking=other, unit=taken, driver=DriverFactory(), by=None)
    MaintenanceWindowFactory(unit=in_repair, start=booking.start, end=booking.end, reason="Замена троса")
    page = client.get(reverse("bookings:booking_reserve", args=[booking.pk])).content.decode()
    assert page.index(f'value="{free.pk}"') < page.index(f'value="{taken.pk}"')
    assert other.get_absolute_url() in page and other.deal.counterparty.name in page
    assert "Замена троса" in page


def test_reserve_through_the_picker(client, login, crane, booking):
    login()
    unit, driver = UnitFactory(equipment_type=crane), DriverFactory()
    url = reverse("bookings:booking_reserve", args=[booking.pk])
    response = client.post(url, {"unit": unit.pk, "driver": driver.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == booking.get_absolute_url()
    booking.refresh_from_db()
    assert (booking.status, booking.unit, booking.driver) == ("reserved", unit, driver)


def test_lost_race_shows_the_conflict_with_a_link(client, login, crane, booking):
    login()
    unit = UnitFactory(equipment_type=crane)
    rival = BookingFactory(equipment_type=crane, start=booking.start + timedelta(hours=2), end=booking.end)
    services.booking_reserve(booking=rival, unit=unit, driver=DriverFactory(), by=None)
    url = reverse("bookings:booking_reserve", args=[booking.pk])
    response = client.post(url, {"unit": unit.pk, "driver": DriverFactory().pk}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and 'id="picker"' in page and "<html" not in page
    assert rival.get_absolute_url() in page
    assert "already booked" in page or "уже" in page
    plain = client.post(url, {"unit": unit.pk, "driver": DriverFactory().pk})
    assert plain.status_code == 409 and rival.get_absolute_url() in plain.content.decode()
    booking.refresh_from_db()
    assert booking.status == "draft"


def test_confirm_without_prepayment_is_explained(client, login, reserved):
    login()
    response = client.post(reverse("bookings:booking_confirm", args=[reserved.pk]))
    assert response.status_code == 409
    assert "prepayment" in response.content.decode().lower() or "предоплат" in response.content.decode()
    reserved.deal.counterparty.prepayment_required = False
    reserved.deal.counterparty.save()
    assert client.post(reverse("bookings:booking_confirm", args=[reserved.pk])).status_code == 302
    reserved.refresh_from_db()
    assert reserved.status == "confirmed"


def test_cancel_needs_a_reason(client, login, reserved):
    login()
    url = reverse("bookings:booking_cancel", args=[reserved.pk])
    assert client.post(url, {"reason": "  "}).status_code == 400
    reserved.refresh_from_db()
    assert reserved.status == "reserved"
    assert client.post(url, {"reason": "Заказчик перенёс работы"}).status_code == 302
    reserved.refresh_from_db()
    assert (reserved.status, reserved.cancel_reason) == ("cancelled", "Заказчик перенёс работы")


def test_request_supply_shows_the_margin(client, login, crane, booking):
    login()
    booking.rate_per_hour = Decimal("4000")
    booking.save()
    supplier = SupplierFactory()
    response = client.post(
        reverse("bookings:booking_request_supply", args=[booking.pk]),
        {"supplier": supplier.pk, "unit_plate": "", "driver_name": "Петров", "driver_phone": "",
         "cost_per_hour": "3100", "notes": ""},
    )  # fmt: skip
    assert response.status_code == 302
    order = SupplyOrder.objects.get(booking=booking)
    page = client.get(booking.get_absolute_url()).content.decode()
    assert order.get_absolute_url() in page and "900,00" in page
    client.post(reverse("bookings:supply_order_status", args=[order.pk]), {"status": "confirmed"})
    order.refresh_from_db()
    assert order.status == "confirmed"
    bad = client.post(reverse("bookings:supply_order_status", args=[order.pk]), {"status": "requested"})
    assert bad.status_code == 409


def test_day_view_lists_the_booking(client, login, reserved):
    login()
    day = timezone.localtime(reserved.start).date()
    page = client.get(reverse("bookings:day") + f"?date={day.isoformat()}").content.decode()
    assert reserved.get_absolute_url() in page and reserved.unit.name in page
    other_day = (day + timedelta(days=3)).isoformat()
    assert (
        reserved.get_absolute_url()
        not in client.get(reverse("bookings:day") + f"?date={other_day}").content.decode()
    )


def test_board_puts_the_booking_in_its_status_column(client, login, reserved):
    login()
    page = client.get(reverse("bookings:board")).content.decode()
    column = page.split("col-reserved", 1)[1].split("kanban-col", 1)[0]
    assert reserved.get_absolute_url() in column


def test_timeline_shows_bars_and_maintenance(client, login, reserved):
    login()
    later = reserved.start + timedelta(days=1)
    MaintenanceWindowFactory(unit=reserved.unit, start=later, end=later + timedelta(hours=6), reason="ТО-2")
    start = timezone.localtime(reserved.start).date().isoformat()
    page = client.get(reverse("bookings:timeline") + f"?start={start}").content.decode()
    assert f'href="{reserved.get_absolute_url()}"' in page and "tl-mnt" in page and "ТО-2" in page
    assert '<svg x="0.000%' not in page  # the bar: the booking starts at 08:00, not midnight
    drivers = client.get(reverse("bookings:timeline") + f"?start={start}&by=driver").content.decode()
    assert reserved.driver.full_name in drivers and reserved.get_absolute_url() in drivers


def _fleet(crane, count, start):
    types = [crane, EquipmentTypeFactory(name="Манипулятор")]
    units = UnitFactory.create_batch(count, equipment_type=factory.Iterator(types))
    drivers = DriverFactory.create_batch(max(count // 3, 1))
    for i, unit in enumerate(units[: count // 2]):
        for week in range(4):
            at = start + timedelta(days=week * 7 + i % 7, hours=8)
            b = BookingFactory(equipment_type=unit.equipment_type, start=at, end=at + timedelta(hours=9))
            services.booking_reserve(booking=b, unit=unit, driver=drivers[(i + week) % len(drivers)], by=None)
    return units


def test_timeline_query_count_is_constant(client, login, crane, django_assert_max_num_queries):
    login()
    start = timezone.localdate()
    first = timezone.make_aware(datetime.combine(start, time(0)))
    url = reverse("bookings:timeline") + f"?start={start.isoformat()}&days=31"
    _fleet(crane, 10, first)
    with django_assert_max_num_queries(6):
        small = client.get(url)
    assert small.status_code == 200
    _fleet(crane, 290, first)
    # Speed is measured in bench/, not asserted here: the query count is what must hold.
    with django_assert_max_num_queries(6):
        big = client.get(url)
    assert big.status_code == 200 and big.content.decode().count('class="tl-row"') == 300
    with django_assert_max_num_queries(6):
        assert client.get(url + "&by=driver").status_code == 200


def test_calendar_subscriptions_page_gives_working_links_and_regenerates(ui, client):
    from arenda.bookings.models import CalendarFeed
    from tests.factories import DriverFactory

    driver = DriverFactory()
    manager = ui(Role.MANAGER)
    page = manager.get(reverse("bookings:calendar_feeds"), {"driver": driver.pk})
    assert page.status_code == 200
    feed = CalendarFeed.objects.get(kind="driver", driver=driver)
    assert feed.token in page.content.decode()
    assert client.get(reverse("api:calendar-feed", args=[feed.token])).status_code == 200
    old = feed.token
    manager.post(reverse("bookings:calendar_feeds"), {"feed": feed.pk})
    feed.refresh_from_db()
    assert feed.token != old
    assert client.get(reverse("api:calendar-feed", args=[old])).status_code == 404
    director = ui(Role.DIRECTOR)
    assert director.get(reverse("bookings:calendar_feeds")).status_code == 200
    assert director.post(reverse("bookings:calendar_feeds"), {"feed": feed.pk}).status_code == 403


def test_picker_query_count_does_not_grow_with_units_and_drivers(ui, django_assert_max_num_queries):
    from tests.factories import BookingFactory, DriverFactory, EquipmentTypeFactory, UnitFactory

    crane = EquipmentTypeFactory(name="Автокран-пикер")
    booking = BookingFactory(equipment_type=crane)
    client = ui(Role.MANAGER)
    url = reverse("bookings:booking_reserve", args=[booking.pk])
    client.get(url)
    for _ in range(3):
        UnitFactory(equipment_type=crane, supplier=None)
        DriverFactory()
    with django_assert_max_num_queries(14) as few:
        client.get(url)
    for _ in range(30):
        UnitFactory(equipment_type=crane)
        DriverFactory()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_supplier_machines_appear_on_the_unit_timeline(ui):
    from tests.factories import BookingFactory, SupplierFactory

    booking = BookingFactory()
    supplier = SupplierFactory(name="ООО «КранСервис»")
    order = services.booking_request_supply(
        booking=booking, supplier=supplier, unit_plate="В555ВВ77", by=None
    )
    start = timezone.localdate(booking.start)
    html = ui(Role.MANAGER).get(reverse("bookings:timeline"), {"start": start.isoformat()}).content.decode()
    assert order.get_absolute_url() in html
    assert f"bookings/{booking.pk}/" in html
