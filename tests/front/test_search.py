"""Search everywhere (arenda/front/search.py, docs/search.md): every kind by every key, in
the API, on the no-JS page and in the header's panel; permissions; bounded queries."""

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from arenda.billing.models import Act
from arenda.core import roles
from arenda.core.roles import Role
from arenda.front import search
from tests import factories as f

pytestmark = pytest.mark.django_db

API = "/api/v1/search/"


@pytest.fixture
def world():
    org_a = f.OrganizationFactory(name="ООО «Кран-Север»")
    org_b = f.OrganizationFactory(name="ООО «Кран-Юг»")
    customer = f.CounterpartyFactory(
        name="ООО «КровляДевелопмент-М»", inn=f.make_inn10(777), phone="+79123456789"
    )
    contact = f.ContactFactory(
        counterparty=customer, full_name="Сидоров Павел", phone="+79031112233", email="sidorov@krovlya.ru"
    )
    deal = f.DealFactory(title="Монтаж кровли на Ленинском", counterparty=customer, organization=org_a)
    unit = f.UnitFactory(plate="А123ВС77", name="Liebherr LTM 1050")
    driver = f.DriverFactory(full_name="Шофёров Николай", phone="+79261234567")
    booking = f.BookingFactory(deal=deal, unit=unit)
    invoice_a = f.InvoiceFactory(counterparty=customer, organization=org_a, issued=True)
    invoice_b = f.InvoiceFactory(counterparty=customer, organization=org_b, issued=True)
    act = Act.objects.create(
        status=Act.Status.ISSUED,
        organization=org_a,
        counterparty=customer,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        year=2026,
        sequence=4815,
        number="4815",
        date=date(2026, 11, 30),
        total=Decimal("100.00"),
    )
    return {
        "org_a": org_a,
        "org_b": org_b,
        "customer": customer,
        "contact": contact,
        "deal": deal,
        "unit": unit,
        "driver": driver,
        "booking": booking,
        "invoices": (invoice_a, invoice_b),
        "act": act,
    }


def found(api_client, q: str) -> dict[str, list[dict]]:
    response = api_client.get(API, {"q": q})
    assert response.status_code == 200, response.content
    return {g["kind"]: g["results"] for g in response.json()["groups"]}


def ids(groups, kind) -> set[int]:
    return {r["id"] for r in groups.get(kind, [])}


@pytest.mark.parametrize("q", ["КровляДевелопмент", "кровлядевелоп"])
def test_counterparty_by_name(api, world, q):
    assert world["customer"].pk in ids(found(api(), q), "counterparty")


def test_counterparty_by_inn(api, world):
    inn = world["customer"].inn
    groups = found(api(), inn)
    assert world["customer"].pk in ids(groups, "counterparty")
    assert inn in groups["counterparty"][0]["subtitle"]


@pytest.mark.parametrize("q", ["+7 912 345-67-89", "89123456789", "9123456789", "(912) 345 67 89"])
def test_counterparty_by_phone_in_any_format(api, world, q):
    assert ids(found(api(), q), "counterparty") == {world["customer"].pk}


@pytest.mark.parametrize("q", ["Сидоров", "8 (903) 111-22-33", "sidorov@krovlya"])
def test_contact_by_name_phone_or_email(api, world, q):
    groups = found(api(), q)
    assert world["contact"].pk in ids(groups, "contact")
    assert "КровляДевелопмент" in groups["contact"][0]["subtitle"]


def test_deal_by_title_and_by_number(api, world):
    client = api()
    assert world["deal"].pk in ids(found(client, "кровли на ленинском"), "deal")
    # a one-digit id is typed with its sign: the text needs two characters
    assert world["deal"].pk in ids(found(client, f"#{world['deal'].pk}"), "deal")
    assert world["deal"].pk in ids(found(client, f"{world['deal'].pk:02d}"), "deal")


@pytest.mark.parametrize("form", ["{:02d}", "#{}", "№ {}"])
def test_booking_by_number_with_its_legal_entity(api, world, form):
    booking = world["booking"]
    groups = found(api(), form.format(booking.pk))
    [hit] = [r for r in groups["booking"] if r["id"] == booking.pk]
    assert "Кран-Север" in hit["subtitle"]
    assert hit["url"] == reverse("bookings:booking_detail", args=[booking.pk])


def test_invoice_numbers_repeat_per_legal_entity_and_each_shows_its_own(api, world):
    invoice_a, invoice_b = world["invoices"]
    assert invoice_a.number == invoice_b.number  # the first of each entity's year
    for q in (f"№ {invoice_a.number}", f"#{invoice_a.number}", f"№{invoice_a.number}"):
        hits = {r["id"]: r for r in found(api(), q)["invoice"]}
        assert set(hits) >= {invoice_a.pk, invoice_b.pk}
        assert "Кран-Север" in hits[invoice_a.pk]["subtitle"]
        assert "Кран-Юг" in hits[invoice_b.pk]["subtitle"]


def test_an_invoice_number_is_matched_whole(api, world):
    invoice_a, _ = world["invoices"]
    assert not ids(found(api(), f"№ {invoice_a.number}0"), "invoice")


def test_act_by_number(api, world):
    groups = found(api(), "4815")
    assert ids(groups, "act") == {world["act"].pk}
    assert "Кран-Север" in groups["act"][0]["subtitle"]


@pytest.mark.parametrize("q", ["а123вс77", "A123BC 77", "a 123 bc 77", "А123ВС77", "a123bc"])
def test_unit_by_plate_in_latin_or_cyrillic_with_or_without_spaces(api, world, q):
    assert ids(found(api(), q), "unit") == {world["unit"].pk}


def test_unit_by_name(api, world):
    assert world["unit"].pk in ids(found(api(), "liebherr"), "unit")


@pytest.mark.parametrize("q", ["Шофёров", "+7 926 123-45-67", "89261234567", "(926) 123 45 67"])
def test_driver_by_name_or_phone(api, world, q):
    assert world["driver"].pk in ids(found(api(), q), "driver")


def test_the_api_shape(api, world):
    body = api().get(API, {"q": "  а123вс77 "}).json()
    assert body["q"] == "а123вс77"
    [group] = [g for g in body["groups"] if g["kind"] == "unit"]
    with translation.override(settings.LANGUAGE_CODE):  # a request speaks the company's language
        assert group["label"] == str(search.KINDS[6].label) and search.KINDS[6].kind == "unit"
    assert group["results"] == [
        {
            "id": world["unit"].pk,
            "title": "А 123 ВС 77 · Liebherr LTM 1050",
            "subtitle": group["results"][0]["subtitle"],
            "url": reverse("directory:unit_detail", args=[world["unit"].pk]),
        }
    ]
    assert [g["kind"] for g in body["groups"]] == [
        k.kind for k in search.KINDS if k.kind in {g["kind"] for g in body["groups"]}
    ]


@pytest.mark.parametrize("q", [None, "", " ", "a", " я ", "x" * 201])
def test_the_api_refuses_a_short_or_missing_q_naming_it(api, q):
    params = {} if q is None else {"q": q}
    response = api().get(API, params)
    assert response.status_code == 400
    assert list(response.json()) == ["q"]


def test_nothing_found_is_an_empty_list(api, world):
    assert api().get(API, {"q": "ничего такого"}).json() == {"q": "ничего такого", "groups": []}


def test_groups_are_bounded(api, world):
    for n in range(search.HEADER_LIMIT + 3):
        f.DriverFactory(full_name=f"Многоводителев {n}")
    assert len(found(api(), "Многоводителев")["driver"]) == search.HEADER_LIMIT


def test_a_role_that_may_not_view_a_kind_does_not_see_it(api, world, monkeypatch):
    monkeypatch.setitem(roles.MATRIX["invoice"], Role.MANAGER, roles.NONE)
    monkeypatch.setitem(roles.MATRIX["driver"], Role.MANAGER, roles.NONE)
    manager = api(Role.MANAGER)
    number = f"№ {world['invoices'][0].number}"
    assert "invoice" not in found(manager, number)
    assert "act" not in found(manager, "4815")
    assert "driver" not in found(manager, "Шофёров")
    assert world["customer"].pk in ids(found(manager, "КровляДевелопмент"), "counterparty")
    accountant = api(Role.ACCOUNTANT)
    assert world["invoices"][0].pk in ids(found(accountant, number), "invoice")
    assert world["driver"].pk in ids(found(accountant, "Шофёров"), "driver")


def test_a_user_without_a_role_gets_nothing(api, world):
    inactive = f.UserFactory(role=Role.ADMIN, is_active=False)  # core.roles.role_of: no role
    assert api(user=inactive).get(API, {"q": "КровляДевелопмент"}).status_code in (401, 403)


def test_anonymous_is_sent_to_sign_in(client):
    assert client.get(reverse("search"), {"q": "кран"}).status_code == 302
    assert client.get(API, {"q": "кран"}).status_code in (401, 403)


def test_the_page_works_without_javascript(client, world):
    client.force_login(f.UserFactory(role=Role.MANAGER))
    html = client.get(reverse("search"), {"q": "а123вс77"}).content.decode()
    assert reverse("directory:unit_detail", args=[world["unit"].pk]) in html
    assert 'action="/search/"' in html and 'method="get"' in html  # the header's plain form
    assert "<html" in html


def test_the_page_says_when_the_text_is_too_short_or_finds_nothing(client, world):
    client.force_login(f.UserFactory(role=Role.MANAGER))
    en = {"Accept-Language": "en"}
    short = client.get(reverse("search"), {"q": "к"}, headers=en)
    assert short.status_code == 200 and "Type at least 2 characters." in short.content.decode()
    none = client.get(reverse("search"), {"q": "ничего такого"}, headers=en).content.decode()
    assert "Nothing found for «ничего такого»." in none


def test_the_header_panel_to_htmx(client, world):
    client.force_login(f.UserFactory(role=Role.MANAGER))
    response = client.get(
        reverse("search"), {"q": "КровляДевелопмент", "panel": "1"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html and 'class="search-panel"' in html
    assert reverse("directory:counterparty_detail", args=[world["customer"].pk]) in html
    assert 'href="/search/?q=' in html  # all results


def test_every_staff_page_has_the_search_box(client):
    client.force_login(f.UserFactory(role=Role.ACCOUNTANT))
    html = client.get(reverse("dashboard")).content.decode()
    assert "data-search-box" in html and 'name="q"' in html


def _queries(callable_) -> int:
    with CaptureQueriesContext(connection) as ctx:
        callable_()
    return len(ctx.captured_queries)


def test_one_query_per_kind_however_many_rows(api, client, world):
    """Every kind found by «кров» (names, titles) and invoices by «№ 1» (the first number of
    each legal entity's year): the count is the same with one row of each kind as with many."""
    client.force_login(f.UserFactory(role=Role.ADMIN))
    admin_api = api(Role.ADMIN)

    def run():
        for q in ("кров", "№ 1"):
            assert admin_api.get(API, {"q": q}).status_code == 200
            assert client.get(reverse("search"), {"q": q}).status_code == 200

    first = _queries(run)
    for _ in range(6):
        customer = f.CounterpartyFactory(name="ООО «Кровля-Плюс»")
        f.ContactFactory(counterparty=customer, full_name="Кровельщиков Иван")
        deal = f.DealFactory(
            title="Кровля склада", counterparty=customer, organization=f.OrganizationFactory()
        )
        f.BookingFactory(deal=deal, unit=f.UnitFactory(name="Кровельный подъёмник"))
        f.DriverFactory(full_name="Кровлин Пётр")
        f.InvoiceFactory(counterparty=customer, organization=f.OrganizationFactory(), issued=True)
    assert _queries(run) == first
    api_queries = _queries(lambda: admin_api.get(API, {"q": "кров"}))
    assert api_queries <= len(search.KINDS)
