"""Autocomplete of record fields (arenda/front/lookup.py, docs/autocomplete.md): the
suggestions endpoint, the free text a form resolves without JavaScript, the primary key a
script posts, the queryset a field restricts, access, and bounded queries."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from arenda.billing.models import Invoice
from arenda.bookings.forms import SupplyOrderForm
from arenda.core import roles
from arenda.core.roles import Role
from arenda.front import lookup
from tests import factories as f

pytestmark = pytest.mark.django_db

TWIN = "ООО «КровляДевелопмент-М»"


@pytest.fixture
def ui(make_user):
    def client_for(role=Role.MANAGER):
        client = Client(headers={"Accept-Language": "en"})
        client.user = make_user(role)
        client.force_login(client.user)
        return client

    return client_for


@pytest.fixture
def twins():
    """Two counterparties of one name, told apart by ИНН and address."""
    north = f.CounterpartyFactory(name=TWIN, inn=f.make_inn10(101), address="г. Мурманск, ул. Полярная, 1")
    south = f.CounterpartyFactory(name=TWIN, inn=f.make_inn10(202), address="г. Сочи, ул. Морская, 2")
    return north, south


def _lookup(client, kind, q, **params):
    return client.get(reverse("lookup", args=[kind]), {"q": q, **params})


def _invoice_data(**fields):
    return {
        "organization": f.OrganizationFactory().pk,
        "kind": "postpayment",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-description": "Смена автокрана",
        "lines-0-quantity": "8",
        "lines-0-unit": "ч",
        "lines-0-price": "3500",
        **fields,
    }


# --- the endpoint ---------------------------------------------------------------------------
def test_lookalike_counterparties_come_with_their_inn_and_address(ui, twins):
    north, south = twins
    response = _lookup(ui(), "counterparty", "кровляДевелоп")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('role="option"') == 2
    for c in (north, south):
        assert f'data-value="{c.pk}"' in html and c.inn in html
    assert "Мурманск" in html and "Сочи" in html


def test_each_kind_shows_what_tells_lookalikes_apart(ui):
    customer = f.CounterpartyFactory(name="ООО «Грузстрой»")
    contact = f.ContactFactory(counterparty=customer, full_name="Сидоров Павел", phone="+79031112233")
    deal = f.DealFactory(title="Монтаж кровли", counterparty=customer)
    unit = f.UnitFactory(plate="А123ВС77", name="Liebherr LTM 1050", capacity_t="50")
    booking = f.BookingFactory(deal=deal, unit=unit)
    driver = f.DriverFactory(full_name="Шофёров Николай", phone="+79261234567")
    supplier = f.SupplierFactory(name="ИП Краны-Сервис", inn=f.make_inn12(7))
    client = ui()
    expected = {
        ("contact", "Сидоров"): [str(contact.pk), "Грузстрой", "903"],
        ("deal", f"#{deal.pk}"): [
            str(deal.pk),
            "Монтаж кровли",
            "Грузстрой",
            deal.created_at.strftime("%d.%m.%Y"),
        ],
        ("booking", f"#{booking.pk}"): [
            str(booking.pk),
            "Грузстрой",
            "А 123 ВС 77",
            booking.start.strftime("%d.%m.%Y"),
        ],
        ("unit", "a123bc"): [str(unit.pk), "А 123 ВС 77", "Liebherr LTM 1050", "50 t"],
        ("driver", "926 123"): [str(driver.pk), "Шофёров Николай", "926"],
        ("supplier", "краны"): [str(supplier.pk), supplier.inn],
    }
    for (kind, q), parts in expected.items():
        html = _lookup(client, kind, q).content.decode()
        assert html.count('role="option"') == 1, (kind, html)
        for part in parts:
            assert part in html, (kind, part, html)


def test_short_text_and_nothing_found_say_so(ui):
    client = ui()
    assert "Type at least 2 characters." in _lookup(client, "counterparty", "к").content.decode()
    assert "Nothing found." in _lookup(client, "counterparty", "нетакого").content.decode()


def test_the_endpoint_suggests_only_what_the_field_accepts(ui):
    active = f.SupplierFactory(name="Краны-Актив")
    retired = f.SupplierFactory(name="Краны-Архив", is_active=False)
    client = ui()
    html = _lookup(client, "supplier", "краны", scope="active").content.decode()
    assert f'data-value="{active.pk}"' in html and f'data-value="{retired.pk}"' not in html
    widget_url = SupplyOrderForm(user=client.user).fields["supplier"].widget.url()
    assert widget_url == reverse("lookup", args=["supplier"]) + "?scope=active"
    assert _lookup(client, "supplier", "краны", scope="everything").status_code == 404
    assert _lookup(client, "nothing", "краны").status_code == 404


def test_anonymous_is_sent_to_sign_in_and_a_role_that_may_not_view_is_refused(ui, monkeypatch):
    f.SupplierFactory(name="Краны-Актив")
    anonymous = _lookup(Client(), "supplier", "краны")
    assert anonymous.status_code == 302 and reverse("login") in anonymous.url
    monkeypatch.setitem(roles.MATRIX, "supplier", {Role.ACCOUNTANT: roles.READ})
    assert _lookup(ui(Role.MANAGER), "supplier", "краны").status_code == 403
    assert _lookup(ui(Role.ACCOUNTANT), "supplier", "краны").status_code == 200


def test_the_endpoints_queries_do_not_grow_with_the_matches(ui):
    client = ui()

    def count(kind, q):
        with CaptureQueriesContext(connection) as ctx:
            assert _lookup(client, kind, q).status_code == 200
        return len(ctx.captured_queries)

    customer = f.CounterpartyFactory(name="ООО «Кровля-1»")
    f.ContactFactory(counterparty=customer, full_name="Кровлин Иван")
    f.BookingFactory(deal=f.DealFactory(title="Кровля", counterparty=customer))
    kinds = {"counterparty": "кровл", "contact": "кровлин", "deal": "кровля", "booking": "05"}
    first = {kind: count(kind, q) for kind, q in kinds.items()}
    for n in range(14):
        customer = f.CounterpartyFactory(name=f"ООО «Кровля-{n + 2}»")
        f.ContactFactory(counterparty=customer, full_name=f"Кровлин Пётр {n}")
        f.BookingFactory(deal=f.DealFactory(title=f"Кровля {n}", counterparty=customer))
    assert {kind: count(kind, q) for kind, q in kinds.items()} == first
    many = _lookup(client, "counterparty", "кровл").content.decode()
    assert many.count('role="option"') == lookup.LIMIT and "type more" in many


# --- the form: a primary key, or the text typed ------------------------------------------------
def test_a_posted_primary_key_still_chooses(ui, twins):
    north, _ = twins
    response = ui().post(reverse("billing:invoice_create"), _invoice_data(counterparty=north.pk))
    assert response.status_code == 302 and Invoice.objects.get().counterparty == north


def test_text_that_finds_one_record_chooses_it(ui, twins):
    _, south = twins
    data = _invoice_data(counterparty="", counterparty__text=south.inn)
    response = ui().post(reverse("billing:invoice_create"), data)
    assert response.status_code == 302 and Invoice.objects.get().counterparty == south


def test_text_that_finds_nothing_is_an_error_naming_the_field(ui, twins):
    data = _invoice_data(counterparty="", counterparty__text="Рога и копыта")
    response = ui().post(reverse("billing:invoice_create"), data)
    assert response.status_code == 400 and not Invoice.objects.exists()
    errors = response.context["form"].errors["counterparty"]
    assert errors == ["Counterparty: nothing found for “Рога и копыта”."]
    # the form is shown again with what was typed
    assert 'value="Рога и копыта"' in response.content.decode()


def test_text_that_finds_several_lists_them_with_what_tells_them_apart(ui, twins):
    north, south = twins
    data = _invoice_data(counterparty="", counterparty__text="КровляДевелопмент")
    response = ui().post(reverse("billing:invoice_create"), data)
    assert response.status_code == 400 and not Invoice.objects.exists()
    [error] = response.context["form"].errors["counterparty"]
    assert error.startswith("Counterparty: several match “КровляДевелопмент”")
    for c in (north, south):
        assert c.inn in error
    assert "Мурманск" in error and "Сочи" in error and "Type more precisely" in error


def test_the_chosen_records_text_is_shown_not_its_key_and_is_kept_when_posted_again(ui, twins):
    north, _ = twins
    client = ui()
    deal = f.DealFactory(counterparty=north, title="Монтаж кровли")
    page = client.get(reverse("billing:invoice_create"), {"deal": deal.pk}).content.decode()
    shown = lookup.KINDS["counterparty"].text(north)
    assert f'value="{north.pk}"' in page and shown in page and north.inn in shown
    # re-posted untouched without JavaScript: the key and its text agree, the key wins
    data = _invoice_data(counterparty=north.pk, counterparty__text=shown)
    assert client.post(reverse("billing:invoice_create"), data).status_code == 302
    assert Invoice.objects.get().counterparty == north


def test_text_changed_after_a_choice_is_resolved_again(ui, twins):
    north, south = twins
    data = _invoice_data(counterparty=north.pk, counterparty__text=south.inn)
    assert ui().post(reverse("billing:invoice_create"), data).status_code == 302
    assert Invoice.objects.get().counterparty == south


def test_an_emptied_optional_field_chooses_nothing(ui, twins):
    north, _ = twins
    deal = f.DealFactory(counterparty=north)
    data = _invoice_data(counterparty=north.pk, deal=deal.pk, deal__text="")
    assert ui().post(reverse("billing:invoice_create"), data).status_code == 302
    assert Invoice.objects.get().deal is None


def test_free_text_is_resolved_only_within_the_fields_queryset(ui):
    retired = f.SupplierFactory(name="Краны-Архив", is_active=False)
    form = SupplyOrderForm(
        data={"supplier": "", "supplier__text": "Краны-Архив", "cost_per_hour": "1000"}, user=ui().user
    )
    assert not form.is_valid()
    assert form.errors["supplier"] == ["Supplier: nothing found for “Краны-Архив”."]
    by_key = SupplyOrderForm(data={"supplier": retired.pk, "cost_per_hour": "1000"}, user=ui().user)
    assert not by_key.is_valid() and "supplier" in by_key.errors


def test_the_widget_is_a_text_input_without_a_list_of_every_record(ui):
    for n in range(5):
        f.CounterpartyFactory(name=f"Контрагент {n}")
    page = ui().get(reverse("billing:invoice_create")).content.decode()
    assert "<option" not in page.split('name="organization"')[0]
    assert 'name="counterparty__text"' in page and 'data-lookup="/lookup/counterparty/"' in page


def test_a_deals_contact_suggestions_narrow_to_the_chosen_counterparty(ui, twins):
    north, south = twins
    ours = f.ContactFactory(counterparty=north, full_name="Петров Иван")
    theirs = f.ContactFactory(counterparty=south, full_name="Петров Пётр")
    client = ui()
    both = _lookup(client, "contact", "петров").content.decode()
    assert f'data-value="{ours.pk}"' in both and f'data-value="{theirs.pk}"' in both
    narrowed = _lookup(client, "contact", "петров", counterparty=north.pk).content.decode()
    assert f'data-value="{ours.pk}"' in narrowed and f'data-value="{theirs.pk}"' not in narrowed
    page = client.get(reverse("crm:deal_create")).content.decode()
    assert 'data-lookup-with="counterparty"' in page and 'name="contact__text"' in page


# --- list pages' filters ----------------------------------------------------------------------
def _booking_ids(client, **params):
    response = client.get(reverse("bookings:booking_list"), params)
    assert response.status_code == 200
    return {b.pk for b in response.context["page_obj"].object_list}, response


def test_a_lists_filter_takes_a_typed_plate_a_key_or_says_what_it_could_not_choose(ui, twins):
    north, south = twins
    crane = f.UnitFactory(plate="А123ВС77", name="Liebherr LTM 1050")
    other = f.UnitFactory(plate="Е456КХ77", name="Галичанин")
    ours = f.BookingFactory(deal=f.DealFactory(counterparty=north), unit=crane)
    theirs = f.BookingFactory(deal=f.DealFactory(counterparty=south), unit=other)
    client = ui()
    # without JavaScript: the text alone, Latin look-alikes and all
    ids, page = _booking_ids(client, unit="", unit__text="a123bc")
    assert ids == {ours.pk}
    assert f'name="unit" value="{crane.pk}"' in page.content.decode()
    assert lookup.KINDS["unit"].text(crane) in page.content.decode()
    # the key alone, as the script (and every old link) sends it
    assert _booking_ids(client, unit=other.pk)[0] == {theirs.pk}
    # several: no filter, and the toolbar lists them with their ИНН
    ids, page = _booking_ids(client, counterparty="", counterparty__text="КровляДевелопмент")
    assert ids == {ours.pk, theirs.pk}
    html = page.content.decode()
    assert "Customer: several match" in html and north.inn in html and south.inn in html
    assert _booking_ids(client, counterparty="", counterparty__text=south.inn)[0] == {theirs.pk}
    # none
    ids, page = _booking_ids(client, driver="", driver__text="Никтоев")
    assert ids == {ours.pk, theirs.pk} and "Driver: nothing found for “Никтоев”." in page.content.decode()


def test_list_pages_no_longer_list_every_record_in_their_filters(ui, twins):
    client = ui(Role.ACCOUNTANT)
    supplier = f.SupplierFactory(name="ИП Краны-Сервис")
    f.UnitFactory(supplier=supplier, owner="supplier")
    f.InvoiceFactory(counterparty=twins[0], issued=True)
    pages = {
        reverse("billing:invoice_list"): "counterparty",
        reverse("billing:act_list"): "counterparty",
        reverse("bookings:booking_list"): "counterparty",
        reverse("bookings:supply_order_list"): "supplier",
        reverse("crm:deal_list"): "counterparty",
        reverse("directory:unit_list"): "supplier",
        reverse("bookings:calendar_feeds"): "driver",
    }
    for url, param in pages.items():
        html = client.get(url).content.decode()
        assert f'name="{param}__text"' in html and f'<select name="{param}"' not in html, url
    units = client.get(reverse("directory:unit_list"), {"supplier__text": "краны"})
    assert units.status_code == 200 and "ИП Краны-Сервис" in units.content.decode()
    feeds = client.get(reverse("bookings:calendar_feeds"), {"driver__text": "нет такого"}).content.decode()
    assert "Driver: nothing found" in feeds


def test_an_invoices_deal_and_booking_suggestions_narrow_to_the_choices_beside_them(ui, twins):
    north, south = twins
    ours = f.DealFactory(counterparty=north, title="Кровля склада")
    theirs = f.DealFactory(counterparty=south, title="Кровля цеха")
    booking = f.BookingFactory(deal=ours)
    other_booking = f.BookingFactory(deal=theirs)
    client = ui()
    deals = _lookup(client, "deal", "кровля", counterparty=north.pk).content.decode()
    assert f'data-value="{ours.pk}"' in deals and f'data-value="{theirs.pk}"' not in deals
    assert 'data-value="' in _lookup(client, "booking", f"#{booking.pk}", deal=ours.pk).content.decode()
    assert (
        "Nothing found." in _lookup(client, "booking", f"#{other_booking.pk}", deal=ours.pk).content.decode()
    )
    page = client.get(reverse("billing:invoice_create")).content.decode()
    assert 'data-lookup-with="counterparty"' in page and 'data-lookup-with="deal"' in page
