"""Import from Excel/CSV and the XLSX exports of counterparties, units and drivers
(arenda/directory/importing.py, docs/import.md)."""

import io
import re
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from arenda.core.roles import Role
from arenda.directory import importing
from arenda.directory.models import Contact, Counterparty, DocumentKind, Driver, DriverDocument, Unit
from tests.factories import ContactFactory, CounterpartyFactory, EquipmentTypeFactory, UnitFactory, make_inn10

pytestmark = pytest.mark.django_db

CP_HEADERS = ["Наименование", "ИНН", "КПП", "Телефон", "Контакт", "Телефон контакта"]


def xlsx(headers, rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bad_inn(n: int) -> str:
    good = make_inn10(n)
    return good[:-1] + str((int(good[-1]) + 1) % 10)


def cp_rows(count, start=0):
    return [
        [f"ООО «Клиент {n}»", make_inn10(n), "770101001", "8 912 000-00-00", f"Иванов {n}", "+79120000001"]
        for n in range(start, start + count)
    ]


@pytest.fixture
def login(make_user):
    def client_for(role=Role.MANAGER):
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(make_user(role))
        return client

    return client_for


def upload(client, slug, content, name="file.xlsx"):
    return client.post(reverse("directory:import", args=[slug]), {"file": SimpleUploadedFile(name, content)})


def confirm(client, slug, response):
    token = re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)
    return client.post(reverse("directory:import_confirm", args=[slug]), {"token": token})


@pytest.mark.parametrize("slug", ["counterparties", "units", "drivers"])
def test_template_has_russian_headers_and_an_example_row(login, slug):
    response = login().get(reverse("directory:import_template", args=[slug]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    kind = {"counterparties": "counterparty", "units": "unit", "drivers": "driver"}[slug]
    assert list(rows[0]) == [c.ru for c in importing.COLUMNS[kind]]
    assert any(rows[1])


def test_the_counterparty_template_itself_imports(login):
    client = login()
    template = client.get(reverse("directory:import_template", args=["counterparties"])).content
    response = upload(client, "counterparties", template)
    assert response.status_code == 200, response.content.decode()[:2000]
    confirm(client, "counterparties", response)
    counterparty = Counterparty.objects.get(inn="7707083893")
    assert counterparty.contacts.get().phone == "+79123456789"


def test_a_good_file_imports_all_rows_with_their_contacts(login):
    client = login()
    response = upload(client, "counterparties", xlsx(CP_HEADERS, cp_rows(3)))
    assert response.status_code == 200
    assert "3 new, 0 to update, 0 unchanged, 0 with errors" in response.content.decode()
    assert Counterparty.objects.count() == 0  # the preview writes nothing
    done = confirm(client, "counterparties", response)
    assert done.status_code == 200
    assert Counterparty.objects.count() == 3
    assert Contact.objects.count() == 3
    counterparty = Counterparty.objects.get(inn=make_inn10(1))
    assert counterparty.phone == "+79120000000"
    assert counterparty.kind == Counterparty.Kind.LEGAL
    assert counterparty.history.get().history_user is not None


def test_one_bad_inn_blocks_everything_naming_its_row_and_column(login):
    client = login()
    rows = cp_rows(5)
    rows[3][1] = bad_inn(3)  # Excel row 5 (the header is row 1)
    response = upload(client, "counterparties", xlsx(CP_HEADERS, rows))
    assert response.status_code == 400
    text = response.content.decode()
    assert "Row 5, «ИНН»" in text
    assert 'name="token"' not in text
    assert Counterparty.objects.count() == 0


def test_a_confirm_with_a_forged_token_writes_nothing(login):
    client = login()
    response = client.post(reverse("directory:import_confirm", args=["counterparties"]), {"token": "x:y"})
    assert response.status_code == 400
    assert Counterparty.objects.count() == 0


def test_a_reimport_updates_instead_of_duplicating(login):
    client = login()
    confirm(client, "counterparties", upload(client, "counterparties", xlsx(CP_HEADERS, cp_rows(3))))
    rows = cp_rows(3)
    rows[0][0] = "ООО «Новое имя»"
    response = upload(client, "counterparties", xlsx(CP_HEADERS, rows))
    assert "0 new, 1 to update, 2 unchanged" in response.content.decode()
    confirm(client, "counterparties", response)
    assert Counterparty.objects.count() == 3
    assert Counterparty.objects.get(inn=make_inn10(0)).name == "ООО «Новое имя»"
    assert Contact.objects.count() == 3


def test_a_duplicate_within_the_file_is_an_error(login):
    rows = cp_rows(2) + cp_rows(1)
    response = upload(login(), "counterparties", xlsx(CP_HEADERS, rows))
    assert response.status_code == 400
    assert "Row 4, «ИНН»: The same record is already in row 2" in response.content.decode()


def test_a_missing_required_value_is_named(login):
    rows = cp_rows(2)
    rows[1][0] = ""
    response = upload(login(), "counterparties", xlsx(CP_HEADERS, rows))
    assert "Row 3, «Наименование»" in response.content.decode()


def test_cp1251_csv_with_semicolons(login):
    client = login()
    lines = ["Наименование;ИНН;КПП"] + [f"ООО «Ромашка {n}»;{make_inn10(n)};770101001" for n in range(2)]
    content = "\r\n".join(lines).encode("cp1251")
    response = upload(client, "counterparties", content, name="клиенты.csv")
    assert response.status_code == 200, response.content.decode()[:3000]
    confirm(client, "counterparties", response)
    assert set(Counterparty.objects.values_list("name", flat=True)) == {"ООО «Ромашка 0»", "ООО «Ромашка 1»"}


def test_utf8_csv_with_commas_and_english_headers(login):
    client = login()
    content = f'Name,INN,KPP\n"LLC Romashka",{make_inn10(7)},770101001\n'.encode()
    response = upload(client, "counterparties", content, name="c.csv")
    confirm(client, "counterparties", response)
    assert Counterparty.objects.get().name == "LLC Romashka"


UNIT_HEADERS = ["Госномер", "Тип техники", "Модель", "Грузоподъёмность, т", "Ставка в час"]


def test_units_plates_with_latin_look_alikes_are_normalised_and_updated(login):
    EquipmentTypeFactory(name="Автокран")
    client = login()
    rows = [["a 123 bc 77", "автокран", "КС-45717", 25, 3500]]
    confirm(client, "units", upload(client, "units", xlsx(UNIT_HEADERS, rows)))
    unit = Unit.objects.get()
    assert unit.plate == "А123ВС77"
    rows = [["А123ВС77", "Автокран", "КС-45717", 25, 4000]]
    response = upload(client, "units", xlsx(UNIT_HEADERS, rows))
    assert "0 new, 1 to update" in response.content.decode()
    confirm(client, "units", response)
    assert Unit.objects.get().rate_per_hour == 4000


def test_unknown_equipment_type_and_bad_plate_are_named(login):
    EquipmentTypeFactory(name="Автокран")
    rows = [["А123ВС77", "Вертолёт", "Ми-8", 3, 0], ["12345", "Автокран", "КС", 25, 0]]
    text = upload(login(), "units", xlsx(UNIT_HEADERS, rows)).content.decode()
    assert "Row 2, «Тип техники»: Unknown equipment type «Вертолёт»" in text
    assert "Row 3, «Госномер»: Not a Russian plate" in text
    assert Unit.objects.count() == 0


def test_drivers_with_a_licence(login):
    client = login()
    headers = ["ФИО", "Телефон", "Документ", "Категории", "Номер документа", "Документ действует до"]
    rows = [
        ["Петров Пётр", "8 912 000-11-22", "Водительское удостоверение", "в, с", "77 12 345678", "31.05.2030"]
    ]
    response = upload(client, "drivers", xlsx(headers, rows))
    assert response.status_code == 200, response.content.decode()[:3000]
    confirm(client, "drivers", response)
    driver = Driver.objects.get()
    assert driver.phone == "+79120001122"
    document = DriverDocument.objects.get(driver=driver)
    assert document.kind == DocumentKind.DRIVING_LICENCE
    assert document.categories == "B, C"
    assert document.valid_until == date(2030, 5, 31)
    again = upload(client, "drivers", xlsx(headers, rows))
    assert "0 new, 0 to update, 1 unchanged" in again.content.decode()


def test_a_driver_with_bad_categories_is_named(login):
    headers = ["ФИО", "Телефон", "Документ", "Категории"]
    rows = [["Петров Пётр", "+79120001122", "Водительское удостоверение", "Z"]]
    text = upload(login(), "drivers", xlsx(headers, rows)).content.decode()
    assert "Row 2, «Категории»" in text


@pytest.mark.parametrize(("role", "slug"), [(Role.DIRECTOR, "counterparties"), (Role.ACCOUNTANT, "drivers")])
def test_who_may_not_add_may_not_import(login, role, slug):
    client = login(role)
    assert client.get(reverse("directory:import", args=[slug])).status_code == 403
    assert upload(client, slug, xlsx(CP_HEADERS, cp_rows(1))).status_code == 403
    assert Counterparty.objects.count() == 0


def test_anonymous_is_sent_to_log_in():
    response = Client().get(reverse("directory:import", args=["units"]))
    assert response.status_code == 302


def test_the_list_links_to_import_and_export(login):
    text = login().get(reverse("directory:counterparty_list")).content.decode()
    assert reverse("directory:import", args=["counterparties"]) in text
    assert reverse("directory:export_xlsx", args=["counterparties"]) in text


def test_exports_read_back_and_respect_the_filter(login):
    client = login(Role.DIRECTOR)
    CounterpartyFactory(name="ООО «Альфа»")
    CounterpartyFactory(name="ООО «Бета»")
    response = client.get(reverse("directory:export_xlsx", args=["counterparties"]), {"q": "Альфа"})
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "Наименование"
    assert [r[0] for r in rows[1:]] == ["ООО «Альфа»"]
    UnitFactory(plate="А123ВС77")
    units = client.get(reverse("directory:export_xlsx", args=["units"]))
    rows = list(load_workbook(io.BytesIO(units.content)).active.iter_rows(values_only=True))
    assert rows[1][0] == "А123ВС77"
    drivers = client.get(reverse("directory:export_xlsx", args=["drivers"]))
    assert load_workbook(io.BytesIO(drivers.content)).active["A1"].value == "ФИО"


def test_an_unknown_file_type_is_a_form_error(login):
    response = upload(login(), "counterparties", b"hello", name="x.pdf")
    assert response.status_code == 400
    assert "Upload an .xlsx or .csv file." in response.content.decode()


def test_the_bad_cell_is_highlighted_in_the_preview_table(login):
    rows = cp_rows(2)
    rows[1][1] = bad_inn(1)
    text = upload(login(), "counterparties", xlsx(CP_HEADERS, rows)).content.decode()
    assert text.count('class="cell-error"') == 1
    assert 'class="import-error"' in text


def test_the_export_takes_a_fixed_number_of_queries(login, django_assert_max_num_queries):
    client = login()
    for n in range(6):
        ContactFactory(counterparty=CounterpartyFactory(name=f"ООО «{n}»"))
    url = reverse("directory:export_xlsx", args=["counterparties"])
    client.get(url)  # warm the session and the user
    with django_assert_max_num_queries(8):
        response = client.get(url)
    assert len(list(load_workbook(io.BytesIO(response.content)).active.iter_rows())) == 7


def test_a_bad_phone_and_a_bad_contact_phone_are_each_named_once(login):
    rows = cp_rows(2)
    rows[0][3] = "12345"
    rows[1][5] = "не звонить"
    response = upload(login(), "counterparties", xlsx(CP_HEADERS, rows))
    assert response.status_code == 400
    text = response.content.decode()
    assert text.count("Row 2, «Телефон»:") == 1
    assert text.count("Row 3, «Телефон контакта»:") == 1
    assert Counterparty.objects.count() == 0


def test_a_reimport_writes_each_rows_own_changes_and_leaves_unchanged_rows_alone(login):
    client = login()
    confirm(client, "counterparties", upload(client, "counterparties", xlsx(CP_HEADERS, cp_rows(3))))
    before = {c.inn: c for c in Counterparty.objects.all()}
    rows = cp_rows(3)
    rows[0][0] = "ООО «Новое имя»"
    rows[1][3] = "+7 912 111-22-33"
    response = upload(client, "counterparties", xlsx(CP_HEADERS, rows))
    assert "0 new, 2 to update, 1 unchanged" in response.content.decode()
    confirm(client, "counterparties", response)
    after = {c.inn: c for c in Counterparty.objects.all()}
    first, second, third = (after[make_inn10(n)] for n in range(3))
    assert (first.name, first.phone) == ("ООО «Новое имя»", "+79120000000")
    assert (second.name, second.phone) == ("ООО «Клиент 1»", "+79121112233")
    assert third.updated_at == before[third.inn].updated_at
    assert first.updated_at >= before[first.inn].updated_at
    assert first.history.count() == 2
    assert third.history.count() == 1
