"""The import's cost does not grow per row: its queries are a constant plus a few per
batch of rows, none per row; and a bad cell deep in a big file still blocks everything
(arenda/directory/importing.py, docs/import.md). The time of 5 000 rows is measured by
``python -m bench --only imports`` (bench/imports.py), not here."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from arenda.directory import importing
from arenda.directory.models import Contact, Counterparty, Driver, DriverDocument, Unit
from tests.factories import EquipmentTypeFactory, SupplierFactory, make_inn10

pytestmark = pytest.mark.django_db

CP_HEADERS = ["Наименование", "ИНН", "КПП", "Телефон", "Контакт", "Телефон контакта", "Должность контакта"]


def xlsx(headers, rows) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def cp_rows(count, position="Прораб"):
    return [
        [
            f"ООО «Клиент {n}»",
            make_inn10(n),
            "770101001",
            f"8 912 {n % 1000:03d}-00-00",
            f"Иванов {n}",
            f"+7 913 {n % 1000:03d}-11-11",
            position,
        ]
        for n in range(count)
    ]


BATCH = 25  # rows per bulk statement in these tests (the import's own: importing.BATCH)


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    """Batches of BATCH rows, so that a few hundred rows make several of them (and fit in
    one statement on SQLite too, whose bound on the parameters splits larger ones)."""
    for resource in importing.RESOURCES.values():
        monkeypatch.setattr(resource._meta, "batch_size", BATCH)


def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def assert_grows_only_per_batch(cost):
    """``cost(rows)`` → (the preview's queries, the import's queries) for a file of that
    many rows. Neither grows with the rows within a batch; each batch adds a few (the
    library's savepoint around it; the import's INSERT or UPDATE of the records, of
    their contacts or documents, and of both's history; an update's ``updated_at``)."""
    assert cost(51) == cost(74)  # three batches each (25 + 25 + 1, 25 + 25 + 24)
    two, three, eight = cost(50), cost(75), cost(200)
    preview_per_batch, import_per_batch = three[0] - two[0], three[1] - two[1]
    assert preview_per_batch <= 2
    assert import_per_batch <= 8
    assert (eight[0] - three[0], eight[1] - three[1]) == (5 * preview_per_batch, 5 * import_per_batch)


def counterparty_cost(user, position="Прораб", *, fresh=True):
    def cost(count):
        if fresh:
            Counterparty.objects.all().delete()
        content = xlsx(CP_HEADERS, cp_rows(count, position))
        return (
            queries(lambda: importing.preview("counterparty", content, "c.xlsx", user=user)),
            queries(lambda: importing.run_import("counterparty", content, "c.xlsx", user=user)),
        )

    return cost


def test_counterparty_queries_grow_per_batch_not_per_row(make_user):
    user = make_user()
    assert_grows_only_per_batch(counterparty_cost(user))
    assert Contact.objects.count() == 200
    counterparty = Counterparty.objects.get(inn=make_inn10(150))
    assert counterparty.history.get().history_user == user
    assert counterparty.contacts.get().history.get().history_user == user


def test_a_reimport_updating_every_row_grows_per_batch_not_per_row(make_user):
    user = make_user()
    counterparty_cost(user)(200)
    positions = iter(["Директор", "Инженер", "Механик", "Снабженец", "Бухгалтер"])  # each changes every row
    assert_grows_only_per_batch(lambda count: counterparty_cost(user, next(positions), fresh=False)(count))
    assert set(Contact.objects.values_list("position", flat=True)) == {"Бухгалтер"}
    assert Counterparty.objects.count() == Contact.objects.count() == 200
    contact = Contact.objects.get(counterparty__inn=make_inn10(10))
    history = contact.history.order_by("history_date", "history_id")
    assert [h.position for h in history] == [
        "Прораб",
        "Директор",
        "Инженер",
        "Механик",
        "Снабженец",
        "Бухгалтер",
    ]
    assert history.last().history_user == user


UNIT_HEADERS = ["Госномер", "Тип техники", "Модель", "Грузоподъёмность, т", "Поставщик"]
LETTERS = "АВЕКМНОРСТУХ"


def unit_rows(count):
    return [
        [
            f"{LETTERS[n % 12]}{n:03d}{LETTERS[n // 12 % 12]}{LETTERS[n // 144 % 12]}77",
            "Автокран",
            "КС-45717",
            25,
            "Подрядчик" if n % 2 else "",
        ]
        for n in range(count)
    ]


def test_unit_queries_grow_per_batch_not_per_row(make_user):
    EquipmentTypeFactory(name="Автокран")
    SupplierFactory(name="Подрядчик")
    user = make_user()

    def cost(count):
        Unit.objects.all().delete()
        content = xlsx(UNIT_HEADERS, unit_rows(count))
        return (
            queries(lambda: importing.preview("unit", content, "u.xlsx", user=user)),
            queries(lambda: importing.run_import("unit", content, "u.xlsx", user=user)),
        )

    assert_grows_only_per_batch(cost)
    assert Unit.objects.filter(owner="supplier", supplier__name="Подрядчик").count() == 100


DRIVER_HEADERS = ["ФИО", "Телефон", "Документ", "Категории", "Номер документа", "Документ действует до"]


def test_driver_queries_grow_per_batch_not_per_row(make_user):
    user = make_user()

    def cost(count):
        Driver.objects.all().delete()
        rows = [
            [f"Петров {n}", f"8 912 {n:03d}-22-33", "ВУ", "в, с", f"77 12 {n:06d}", "31.05.2030"]
            for n in range(count)
        ]
        content = xlsx(DRIVER_HEADERS, rows)
        return (
            queries(lambda: importing.preview("driver", content, "d.xlsx", user=user)),
            queries(lambda: importing.run_import("driver", content, "d.xlsx", user=user)),
        )

    assert_grows_only_per_batch(cost)
    assert DriverDocument.objects.count() == 200
    assert set(DriverDocument.objects.values_list("categories", flat=True)) == {"B, C"}


BIG = 4400
BAD_ROW = 4321  # as Excel numbers it: the header is row 1


def test_one_bad_inn_at_row_4321_of_a_big_file_blocks_everything_and_names_it(make_user):
    rows = [[f"ООО «Клиент {n}»", make_inn10(n), "770101001"] for n in range(BIG)]
    good = rows[BAD_ROW - 2][1]
    rows[BAD_ROW - 2][1] = good[:-1] + str((int(good[-1]) + 1) % 10)
    content = xlsx(["Наименование", "ИНН", "КПП"], rows)
    user = make_user()
    preview = importing.preview("counterparty", content, "big.xlsx", user=user)
    assert [(e.row, e.column) for e in preview.errors] == [(BAD_ROW, "ИНН")]
    assert preview.counts["new"] == BIG - 1
    assert not preview.ok
    with pytest.raises(importing.ImportRefused) as refused:
        importing.run_import("counterparty", content, "big.xlsx", user=user)
    assert [(e.row, e.column) for e in refused.value.preview.errors] == [(BAD_ROW, "ИНН")]
    assert Counterparty.objects.count() == 0
