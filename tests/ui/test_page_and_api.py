"""A list's page and its API endpoint read through one FilterSet: the same search or
filter finds the same rows in both. The page keeps its own parameter names (``?q=``,
``?active=1``) and leaves out a value that does not validate; the API answers 400 naming
the parameter."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from arenda.billing import services as billing
from arenda.billing.models import BankStatement, Invoice, StatementPayment
from arenda.bookings import services
from arenda.bookings.models import Booking
from arenda.core.roles import Role
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(ui, api):
    return ui(Role.ADMIN), api(Role.ADMIN)


def page_ids(client, url, params) -> set[int]:
    """The rows of a CRUD page (``rows``) or of a page with its own template (``page_obj``)."""
    response = client.get(url, params)
    assert response.status_code == 200
    if "rows" in response.context:
        return {row["obj"].pk for row in response.context["rows"]}
    return {obj.pk for obj in response.context["page_obj"].object_list}


def api_ids(client, url, params) -> set[int]:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def same(clients, page_url, page_params, api_url, api_params) -> set[int]:
    page, api = clients
    found = page_ids(page, page_url, page_params)
    assert found == api_ids(api, api_url, api_params)
    return found


# --- directory ----------------------------------------------------------------------------------
def test_units_a_plate_typed_in_latin_with_spaces(clients):
    unit = f.UnitFactory(plate="А123ВС77")
    f.UnitFactory(plate="М456ОР99")
    units = reverse("directory:unit_list")
    for typed in ("a 123 bc 77", "A123BC", "а123вс77", "123 вс"):
        assert same(clients, units, {"q": typed}, "/api/v1/units/", {"search": typed}) == {unit.pk}


def test_units_filters_under_their_page_and_api_names(clients):
    crane, loader = f.EquipmentTypeFactory(name="Автокран"), f.EquipmentTypeFactory(name="Погрузчик")
    idle = f.UnitFactory(equipment_type=crane, is_active=False)
    f.UnitFactory(equipment_type=crane)
    f.UnitFactory(equipment_type=loader, is_active=False)
    found = same(
        clients,
        reverse("directory:unit_list"),
        {"type": crane.pk, "active": "0"},
        "/api/v1/units/",
        {"equipment_type": crane.pk, "is_active": "false"},
    )
    assert found == {idle.pk}


@pytest.mark.parametrize(
    "typed", ["мостострой", "ООО МОСТОСТРОЙ", "8 (916) 123-45-67", "+7 916 123", "9161234", "info@most"]
)
def test_counterparties_name_phone_and_email(clients, typed):
    target = f.CounterpartyFactory(name="ООО «Мостострой»", phone="+79161234567", email="info@most.ru")
    f.CounterpartyFactory(phone="+79031112233")
    found = same(
        clients,
        reverse("directory:counterparty_list"),
        {"q": typed},
        "/api/v1/counterparties/",
        {"search": typed},
    )
    assert found == {target.pk}


def test_counterparties_inn_whole_and_in_part(clients):
    target = f.CounterpartyFactory(inn=f.make_inn10(7654321))
    f.CounterpartyFactory(inn=f.make_inn10(1111111))
    for typed in (target.inn, target.inn[:7]):
        found = same(
            clients,
            reverse("directory:counterparty_list"),
            {"q": typed},
            "/api/v1/counterparties/",
            {"search": typed},
        )
        assert found == {target.pk}


def test_drivers_and_suppliers_and_contacts(clients):
    driver = f.DriverFactory(full_name="Баранкин Пётр", phone="+79157776655", employment="contractor")
    f.DriverFactory(employment="contractor")
    assert same(
        clients,
        reverse("directory:driver_list"),
        {"q": "8 915 777-66-55", "employment": "contractor"},
        "/api/v1/drivers/",
        {"search": "8 915 777-66-55", "employment": "contractor"},
    ) == {driver.pk}
    supplier = f.SupplierFactory(name="ООО «Тягач»")
    assert same(
        clients, reverse("directory:supplier_list"), {"q": "ТЯГАЧ"}, "/api/v1/suppliers/", {"search": "ТЯГАЧ"}
    ) == {supplier.pk}
    contact = f.ContactFactory(full_name="Прорабов Олег", counterparty__name="ООО «Опора»")
    assert same(
        clients, reverse("directory:contact_list"), {"q": "опора"}, "/api/v1/contacts/", {"search": "опора"}
    ) == {contact.pk}


def test_counterparties_base_and_prepayment(clients):
    base = f.AccountingBaseFactory()
    chosen = f.CounterpartyFactory(accounting_base=base, prepayment_required=False)
    f.CounterpartyFactory(accounting_base=base)
    f.CounterpartyFactory(prepayment_required=False)
    assert same(
        clients,
        reverse("directory:counterparty_list"),
        {"base": base.pk, "prepayment": "0"},
        "/api/v1/counterparties/",
        {"accounting_base": base.pk, "prepayment_required": "false"},
    ) == {chosen.pk}


@pytest.mark.parametrize("typed", ["%", "_", "\x00", "%\x00_"])
def test_wildcards_and_nul_neither_fail_nor_find_everything(clients, typed):
    f.CounterpartyFactory.create_batch(2)
    found = same(
        clients,
        reverse("directory:counterparty_list"),
        {"q": typed},
        "/api/v1/counterparties/",
        {"search": typed},
    )
    assert found == set()


def test_a_bad_value_is_left_out_on_the_page_and_named_by_the_api(clients):
    page, api = clients
    f.UnitFactory.create_batch(2, capacity_t=Decimal("25"))
    assert len(page_ids(page, reverse("directory:unit_list"), {"type": "crane", "active": "perhaps"})) == 2
    response = api.get("/api/v1/units/", {"equipment_type": "crane"})
    assert response.status_code == 400 and set(response.json()) == {"equipment_type"}
    response = api.get("/api/v1/units/", {"min_capacity_t": "heavy"})
    assert response.status_code == 400 and set(response.json()) == {"min_capacity_t"}


# --- crm ------------------------------------------------------------------------------------------
def test_deals_search_and_filters(clients):
    target = f.DealFactory(title="Кран на Ленина", counterparty__inn=f.make_inn10(3456789))
    f.DealFactory(title="Кран на Мира", stage="selection")
    deals = reverse("crm:deal_list")
    for typed in ("кран ЛЕНИНА", target.counterparty.inn[:5], target.counterparty.name.upper()):
        assert same(clients, deals, {"q": typed}, "/api/v1/deals/", {"search": typed}) == {target.pk}
    assert same(
        clients,
        deals,
        {"q": "кран", "stage": "new", "counterparty": target.counterparty_id},
        "/api/v1/deals/",
        {"search": "кран", "stage": "new", "counterparty": target.counterparty_id},
    ) == {target.pk}


@pytest.mark.parametrize("typed", ["8 (903) 111", "+7 903 111-22-33", "9031112233", "кранов", "PETR@"])
def test_leads_search(clients, typed):
    target = f.LeadFactory(phone="+79031112233", name="Пётр Кранов", email="petr@example.ru")
    f.LeadFactory(phone="+79123456789")
    found = same(clients, reverse("crm:lead_list"), {"q": typed}, "/api/v1/leads/", {"search": typed})
    assert found == {target.pk}


def test_leads_filters_and_nobodys(clients, make_user):
    manager = make_user(Role.MANAGER)
    mine = f.LeadFactory(manager=manager, source="vk")
    nobodys = f.LeadFactory(source="vk")
    f.LeadFactory(status="junk", junk_reason="спам", source="vk")
    f.LeadFactory(source="website")
    leads = reverse("crm:lead_list")
    assert same(
        clients, leads, {"source": "vk", "status": "new"}, "/api/v1/leads/", {"source": "vk", "status": "new"}
    ) == {mine.pk, nobodys.pk}
    assert same(clients, leads, {"manager": manager.pk}, "/api/v1/leads/", {"manager": manager.pk}) == {
        mine.pk
    }
    assert nobodys.pk in same(clients, leads, {"manager": "none"}, "/api/v1/leads/", {"manager": "none"})
    today = timezone.localdate(mine.created_at).isoformat()  # the company's day, not UTC's
    assert (
        same(
            clients,
            leads,
            {"start": today, "end": today, "source": "website"},
            "/api/v1/leads/",
            {"created_after": today, "created_before": today, "source": "website"},
        )
        != set()
    )
    page, api = clients
    assert page.get(leads, {"status": "nonsense", "start": "2020-13-45"}).status_code == 200
    response = api.get("/api/v1/leads/", {"status": "nonsense", "created_after": "2020-13-45"})
    assert response.status_code == 400 and set(response.json()) == {"status", "created_after"}


def test_the_qualify_pickers_counterparties_are_the_lists(clients):
    page, _api = clients
    target = f.CounterpartyFactory(name="ООО «Мостострой»", phone="+79161234567", inn=f.make_inn10(3456789))
    f.CounterpartyFactory()
    options = reverse("lookup", args=["counterparty"])
    for typed in ("мосто", "8 916 123-45-67", target.inn[:6]):
        listed = page.get(options, {"q": typed}).context["options"]
        assert [o["pk"] for o in listed] == [target.pk]
        assert page_ids(page, reverse("directory:counterparty_list"), {"q": typed}) == {target.pk}


# --- bookings -----------------------------------------------------------------------------------
@pytest.fixture
def bookings(make_user):
    crane = f.EquipmentTypeFactory(name="Автокран")
    unit, driver = (
        f.UnitFactory(plate="А123ВС77", equipment_type=crane),
        f.DriverFactory(full_name="Рулёв Иван"),
    )
    target = f.BookingFactory(
        equipment_type=crane,
        deal=f.DealFactory(title="Мост через Яузу", counterparty__name="ООО «Мостострой»"),
    )
    target = services.booking_reserve(booking=target, unit=unit, driver=driver, by=make_user())
    later = f.BookingFactory(site_address="Химки, склад")
    Booking.objects.filter(pk=later.pk).update(
        start=target.start + timedelta(days=10), end=target.end + timedelta(days=10)
    )
    return Booking.objects.get(pk=target.pk), Booking.objects.get(pk=later.pk)


@pytest.mark.parametrize("typed", ["a 123 bc", "А123ВС77", "мостострой", "ЯУЗУ", "рулёв", "number"])
def test_bookings_search(clients, bookings, typed):
    target, _later = bookings
    typed = str(target.pk) if typed == "number" else typed
    found = same(
        clients, reverse("bookings:booking_list"), {"q": typed}, "/api/v1/bookings/", {"search": typed}
    )
    assert target.pk in found and (typed == str(target.pk) or found == {target.pk})


def test_bookings_filters_and_days(clients, bookings):
    target, later = bookings
    url = reverse("bookings:booking_list")
    for page_params, api_params in (
        ({"status": "reserved"}, {"status": "reserved"}),
        (
            {"unit": target.unit_id, "driver": target.driver_id},
            {"unit": target.unit_id, "driver": target.driver_id},
        ),
        ({"counterparty": target.deal.counterparty_id}, {"counterparty": target.deal.counterparty_id}),
    ):
        assert same(clients, url, page_params, "/api/v1/bookings/", api_params) == {target.pk}
    day = timezone.localtime(later.start).date()
    days = {"from": day.isoformat(), "to": day.isoformat()}
    assert same(clients, url, days, "/api/v1/bookings/", {"period_from": day, "period_to": day}) == {later.pk}
    start = timezone.make_aware(datetime.combine(day, time.min))
    assert api_ids(
        clients[1],
        "/api/v1/bookings/",
        {"end_after": start.isoformat(), "start_before": (start + timedelta(days=1)).isoformat()},
    ) == {later.pk}
    page, api = clients
    assert len(page_ids(page, url, {"from": "2026-02-30", "unit": "x", "counterparty": "-1"})) == 2
    response = api.get("/api/v1/bookings/", {"start_after": "soon", "counterparty": "abc"})
    assert response.status_code == 400 and set(response.json()) == {"start_after", "counterparty"}


def test_supply_orders_status_and_supplier(clients, make_user):
    supplier = f.SupplierFactory()
    order = services.booking_request_supply(booking=f.BookingFactory(), supplier=supplier, by=make_user())
    services.booking_request_supply(booking=f.BookingFactory(), supplier=f.SupplierFactory(), by=make_user())
    assert same(
        clients,
        reverse("bookings:supply_order_list"),
        {"status": "requested", "supplier": supplier.pk},
        "/api/v1/supply-orders/",
        {"status": "requested", "supplier": supplier.pk},
    ) == {order.pk}


# --- billing ------------------------------------------------------------------------------------
def test_invoices_search_and_filters(clients):
    cp = f.CounterpartyFactory(name="ООО «Мостострой»", inn=f.make_inn10(2345678))
    mine = f.InvoiceFactory(issued=True, counterparty=cp)
    late = f.InvoiceFactory(issued=True)
    Invoice.objects.filter(pk=late.pk).update(due_date=timezone.localdate() - timedelta(days=3))
    draft = f.InvoiceFactory(kind="prepayment")
    url = reverse("billing:invoice_list")
    for typed in ("мостострой", cp.inn, cp.inn[:6]):
        assert same(clients, url, {"q": typed}, "/api/v1/invoices/", {"search": typed}) == {mine.pk}
    assert mine.pk in same(clients, url, {"q": mine.number}, "/api/v1/invoices/", {"search": mine.number})
    for params in ({"status": "draft"}, {"kind": "prepayment"}):
        assert same(clients, url, params, "/api/v1/invoices/", params) == {draft.pk}
    assert same(clients, url, {"overdue": "1"}, "/api/v1/invoices/", {"overdue": "true"}) == {late.pk}
    assert same(clients, url, {"counterparty": cp.pk}, "/api/v1/invoices/", {"counterparty": cp.pk}) == {
        mine.pk
    }
    page, api = clients
    assert len(page_ids(page, url, {"status": "nonsense", "counterparty": "abc"})) == 3
    response = api.get("/api/v1/invoices/", {"status": "nonsense", "date_after": "yesterday"})
    assert response.status_code == 400 and set(response.json()) == {"status", "date_after"}


def test_payments_search_source_and_dates(clients):
    today = timezone.localdate()
    invoice = f.InvoiceFactory(issued=True, counterparty__name="ООО «Мостострой»")
    hand = billing.payment_record(invoice=invoice, amount="100", on=today, source="manual", reference="пп 7")
    old = billing.payment_record(
        invoice=f.InvoiceFactory(issued=True),
        amount="10",
        on=today - timedelta(days=40),
        source="1c",
        reference="x1",
    )
    url = reverse("billing:payment_list")
    for typed in ("ПП 7", "мостострой", invoice.number):
        assert hand.payment.pk in same(clients, url, {"q": typed}, "/api/v1/payments/", {"search": typed})
    assert same(clients, url, {"source": "1c"}, "/api/v1/payments/", {"source": "1c"}) == {old.payment.pk}
    day = (today - timedelta(days=40)).isoformat()
    assert same(
        clients, url, {"from": day, "to": day}, "/api/v1/payments/", {"date_after": day, "date_before": day}
    ) == {old.payment.pk}


def test_statement_payments_waiting_and_set_aside(clients):
    statement = BankStatement.objects.create(file_name="kl_to_1c.txt", sha256="0" * 64)
    rows = {
        state: StatementPayment.objects.create(
            statement=statement,
            key=state,
            number=state[:3],
            date=timezone.localdate(),
            amount="1.00",
            state=state,
        )
        for state in ("matched", "ambiguous", "unmatched", "ignored")
    }
    url = reverse("billing:statement_waiting")
    api_url = "/api/v1/statement-payments/"
    waiting = {rows["ambiguous"].pk, rows["unmatched"].pk}
    assert same(clients, url, {}, api_url, {"state": "ambiguous,unmatched"}) == waiting
    assert same(clients, url, {"show": "ignored"}, api_url, {"state": "ignored"}) == {rows["ignored"].pk}
    response = clients[1].get(api_url, {"state": "ambiguous,lost"})
    assert response.status_code == 400 and set(response.json()) == {"state"}
