"""Create, edit and delete through the pages: the services write, errors land on the field
they concern, secrets never reach the HTML."""

import pytest
from django.urls import reverse

from arenda.core.roles import Role
from arenda.directory.models import AccountingBase, Counterparty, MaintenanceWindow, Unit
from tests.factories import (
    AccountingBaseFactory,
    ContactFactory,
    CounterpartyFactory,
    EquipmentTypeFactory,
    OrganizationFactory,
    SupplierFactory,
    make_inn10,
)


def counterparty_data(**overrides):
    data = {
        "kind": "legal",
        "name": "ООО «Кран-Сервис»",
        "inn": make_inn10(4242),
        "kpp": "770101001",
        "phone": "8 (916) 123-45-67",
        "payment_terms_days": "5",
        "prepayment_required": "on",
    }
    return {**data, **overrides}


def test_counterparty_create_edit_delete(ui):
    client = ui(Role.ACCOUNTANT)
    base = AccountingBaseFactory()
    response = client.post(
        reverse("directory:counterparty_create"), counterparty_data(accounting_base=base.pk)
    )
    counterparty = Counterparty.objects.get()
    assert response.status_code == 302 and response.url == counterparty.get_absolute_url()
    assert counterparty.phone == "+79161234567"
    assert counterparty.accounting_base == base
    assert counterparty.history.get().history_user == client.user

    page = client.get(counterparty.get_absolute_url()).content.decode()
    assert "+7\u00a0916\u00a0123\u201145\u201167" in page  # never broken across lines

    url = reverse("directory:counterparty_update", args=[counterparty.pk])
    response = client.post(url, counterparty_data(name="ООО «Кран-Сервис Плюс»", accounting_base=base.pk))
    assert response.status_code == 302
    counterparty.refresh_from_db()
    assert counterparty.name == "ООО «Кран-Сервис Плюс»"

    response = client.post(reverse("directory:counterparty_delete", args=[counterparty.pk]))
    assert response.status_code == 302
    assert not Counterparty.objects.exists()


def test_wrong_inn_checksum_is_shown_next_to_inn(ui):
    inn = make_inn10(4242)
    wrong = inn[:-1] + str((int(inn[-1]) + 1) % 10)
    response = ui(Role.MANAGER).post(reverse("directory:counterparty_create"), counterparty_data(inn=wrong))
    assert response.status_code == 200
    form = response.context["form"]
    assert "checksum" in [e.code for e in form.errors.as_data()["inn"]]
    html = response.content.decode()
    errors_block = html.split('id="id_inn-errors"', 1)[1].split("</div>", 1)[0]
    assert errors_block.count("INN check digit is wrong") == 1
    assert not Counterparty.objects.exists()


def test_duplicate_inn_names_the_existing_counterparty(ui):
    existing = CounterpartyFactory()
    response = ui(Role.MANAGER).post(
        reverse("directory:counterparty_create"), counterparty_data(inn=existing.inn, kpp=existing.kpp)
    )
    assert existing.name in " ".join(response.context["form"].errors["inn"])


def test_inline_validation_returns_only_that_fields_errors(ui):
    client = ui(Role.MANAGER)
    response = client.post(
        reverse("directory:counterparty_create"),
        {**counterparty_data(inn="123"), "_validate": "inn"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<div class="field-errors" id="id_inn-errors"')
    assert "INN must be 10 digits" in html
    assert "<form" not in html
    assert not Counterparty.objects.exists()
    ok = client.post(
        reverse("directory:counterparty_create"),
        {**counterparty_data(), "_validate": "name"},
        headers={"HX-Request": "true"},
    )
    assert "<p>" not in ok.content.decode()


def test_manager_cannot_see_or_set_the_1c_base(ui):
    client = ui(Role.MANAGER)
    base = AccountingBaseFactory()
    form_html = client.get(reverse("directory:counterparty_create")).content.decode()
    assert 'name="accounting_base"' not in form_html
    response = client.post(
        reverse("directory:counterparty_create"), counterparty_data(accounting_base=base.pk)
    )
    assert response.status_code == 302
    assert Counterparty.objects.get().accounting_base is None


def test_contact_added_from_the_counterparty_page(ui):
    client = ui(Role.MANAGER)
    counterparty = CounterpartyFactory()
    page = client.get(counterparty.get_absolute_url()).content.decode()
    add_url = f"{reverse('directory:contact_create')}?counterparty={counterparty.pk}"
    assert add_url.replace("&", "&amp;") in page
    form = client.get(add_url)
    assert form.context["form"].initial["counterparty"] == str(counterparty.pk)
    client.post(
        add_url, {"counterparty": counterparty.pk, "full_name": "Прорабов Илья", "phone": "9161112233"}
    )
    assert "Прорабов Илья" in client.get(counterparty.get_absolute_url()).content.decode()


def test_unit_with_maintenance_window(ui, settings):
    client = ui(Role.MANAGER)
    kind = EquipmentTypeFactory(name="Автокран")
    supplier = SupplierFactory()
    data = {
        "equipment_type": kind.pk,
        "name": "Liebherr LTM 1060",
        "capacity_t": "60",
        "plate": "a 123 bc 77",
        "owner": "supplier",
        "supplier": supplier.pk,
        "rate_per_hour": "5500.00",
        "rate_per_km": "150",
        "min_hours": "4",
        "is_active": "on",
    }
    response = client.post(reverse("directory:unit_create"), data)
    unit = Unit.objects.get()
    assert response.status_code == 302
    assert unit.plate == "А123ВС77"
    html = client.get(unit.get_absolute_url()).content.decode()
    assert "А 123 ВС 77" in html
    assert "5\u202f500,00\u00a0₽" in html

    no_supplier = client.post(reverse("directory:unit_update", args=[unit.pk]), {**data, "supplier": ""})
    assert "supplier" in no_supplier.context["form"].errors

    window_url = reverse("directory:maintenance_create", args=[unit.pk])
    bad = client.post(window_url, {"start": "2030-01-10T18:00", "end": "2030-01-10T08:00", "reason": "ТО-2"})
    assert bad.status_code == 200
    assert "end" in bad.context["maintenance_form"].errors
    good = client.post(window_url, {"start": "2030-01-10T08:00", "end": "2030-01-10T18:00", "reason": "ТО-2"})
    assert good.status_code == 302
    window = MaintenanceWindow.objects.get()
    # typed in the company's zone (Moscow, UTC+3), stored in UTC
    assert window.start.isoformat() == "2030-01-10T05:00:00+00:00"
    assert (
        "10.01.2030 08:00"
        in client.get(unit.get_absolute_url(), headers={"Accept-Language": "ru"}).content.decode()
    )

    client.post(reverse("directory:maintenance_delete", args=[window.pk]))
    assert not MaintenanceWindow.objects.exists()
    client.post(reverse("directory:unit_delete", args=[unit.pk]))
    assert Unit.objects.exists(), "a manager may not delete units"


def test_accounting_base_password_is_write_only(ui):
    client = ui(Role.ACCOUNTANT)
    organization = OrganizationFactory()
    data = {
        "name": "БП 3.0 — основная",
        "organization": organization.pk,
        "kind": "odata",
        "odata_url": "http://1c.local/bp/odata/standard.odata/",
        "username": "odata",
        "password": "s3cret-pass",
        "is_active": "on",
    }
    client.post(reverse("directory:accounting_base_create"), data)
    base = AccountingBase.objects.get()
    assert base.password == "s3cret-pass"
    edit_url = reverse("directory:accounting_base_update", args=[base.pk])
    for url in (base.get_absolute_url(), edit_url):
        assert "s3cret-pass" not in client.get(url).content.decode()

    client.post(edit_url, {**data, "name": "БП 3.0 — главная", "password": ""})
    base.refresh_from_db()
    assert (base.name, base.password) == ("БП 3.0 — главная", "s3cret-pass")
    client.post(edit_url, {**data, "password": "new-pass"})
    base.refresh_from_db()
    assert base.password == "new-pass"


def test_deleting_a_record_in_use_lists_what_uses_it(ui):
    client = ui(Role.ACCOUNTANT)
    base = AccountingBaseFactory()
    user = CounterpartyFactory(accounting_base=base)
    response = client.post(reverse("directory:accounting_base_delete", args=[base.pk]))
    assert response.status_code == 409
    assert user.name in response.content.decode()
    assert AccountingBase.objects.filter(pk=base.pk).exists()


def test_history_shows_author_and_changed_field(ui):
    client = ui(Role.MANAGER, full_name="Смирнова Ольга")
    counterparty = CounterpartyFactory(name="ООО «Старое имя»")
    client.post(
        reverse("directory:counterparty_update", args=[counterparty.pk]),
        counterparty_data(
            name="ООО «Новое имя»", inn=counterparty.inn, kpp=counterparty.kpp, payment_terms_days="10"
        ),
    )
    history = client.get(counterparty.get_absolute_url()).context["history"]
    latest = history[0]
    assert latest["who"] == client.user
    changes = {c["field"]: (c["old"], c["new"]) for c in latest["changes"]}
    assert changes["name"] == ("ООО «Старое имя»", "ООО «Новое имя»")
    assert changes["payment_terms_days"] == ("5", "10")
    html = client.get(counterparty.get_absolute_url(), headers={"Accept-Language": "en"}).content.decode()
    assert "Смирнова Ольга" in html and "Payment terms, days" in html


def test_history_names_related_records(ui):
    client = ui(Role.ACCOUNTANT)
    old, new = AccountingBaseFactory(name="База А"), AccountingBaseFactory(name="База Б")
    counterparty = CounterpartyFactory(accounting_base=old)
    client.post(
        reverse("directory:counterparty_update", args=[counterparty.pk]),
        counterparty_data(
            inn=counterparty.inn, kpp=counterparty.kpp, name=counterparty.name, accounting_base=new.pk
        ),
    )
    changes = client.get(counterparty.get_absolute_url()).context["history"][0]["changes"]
    assert ("База А", "База Б") in [(c["old"], c["new"]) for c in changes]


def test_a_record_without_history_shows_its_page(ui):
    """Rows written before the history was kept (or in bulk without it) have no history
    records: the page shows none instead of failing."""
    client = ui(Role.MANAGER)
    counterparty = CounterpartyFactory()
    counterparty.history.all().delete()
    response = client.get(counterparty.get_absolute_url())
    assert response.status_code == 200 and response.context["history"] == []


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/"])
def test_next_parameter_stays_on_site(ui, next_url):
    client = ui(Role.MANAGER)
    counterparty = ContactFactory().counterparty
    response = client.post(
        f"{reverse('directory:contact_create')}?next={next_url}",
        {"counterparty": counterparty.pk, "full_name": "Иванов Иван"},
    )
    assert response.status_code == 302 and not response.url.startswith(("http", "//"))
