"""A fake 1C:Бухгалтерия 3.0 standard OData interface for the tests and the demo
(``manage.py fake_1c``).

Several infobases live in memory, one per URL prefix ``/<base>/odata/standard.odata/``
(made on first use). Implemented, as the real interface behaves:

- the entity sets the invoice and act pushes and the payment pull use (``ENTITY_SETS``), with
  ``$format=json`` (a list is ``{"odata.metadata": …, "value": [...]}``, one object
  ``{"odata.metadata": …/@Element, …}``); the tabular parts as their own read-only sets
  ``Document_X_Part`` whose rows carry the document's ``Ref_Key`` and ``LineNumber``;
- ``$filter`` with ``eq`` joined by ``and``: strings ``'…'`` (``''`` is a quote),
  ``guid'…'``, ``datetime'…'``, ``true``/``false``, numbers;
- ``(guid'…')`` keys; ``POST`` creates (``Ref_Key``, ``DataVersion``, ``DeletionMark``;
  documents get ``Number`` ``0000-000123`` and ``Posted=false``, catalogs a ``Code``);
  ``PATCH`` (a tabular part sent replaces the whole part); ``…/Post`` and ``…/Unpost``;
- unknown properties, bad enum values, references to missing objects and rows created
  alone are refused (400) so that a client mistake shows here and not in a real base;
- HTTP Basic auth (401 otherwise), 404 with ``odata.error`` for an unknown or
  unpublished entity set or object.

Control (no auth):

- ``POST /_control {"base", "fail": "500"|"timeout"|"drop_after_write"|"401"|"down"|"redirect"|"none",
  "times": N, "delay": s, "location": url, "unpublish": [sets]}`` — the next N requests to that base fail
  that way: "timeout" answers only after ``delay`` seconds (the request is carried out),
  "down" drops the connection at once, "drop_after_write" carries out the next N creates
  and drops the connection without answering, "redirect" answers ``302`` to ``location``;
- every request's ``Authorization`` header is kept in ``base(name).authorizations`` (what a
  base was sent, for the tests of docs/security.md, «Outbound calls and 1C credentials»);
- ``POST /_control/payment {"base", "invoice": Ref_Key, "amount", "date"?, "posted"?,
  "deleted"?}`` — an incoming bank payment for that invoice, as an accountant enters it;
- ``GET /_dump[?base=…]`` — every object (a document's ``Posted`` shows whether it is
  posted); ``GET /_sales?base=…`` — what the base counts as sold per counterparty: posted
  sales and corrections not marked for deletion (``unposted``: those that count nothing);
  ``POST /_reset``.

Closing documents (docs/onec-documents.md): ``Document_РеализацияТоваровУслуг`` (rows in
``Услуги``/``Товары``, a link ``СчетНаОплатуПокупателю_Key``), ``Document_КорректировкаРеализации``
(``ДокументРеализации_Key``, rows with the figures before), ``Document_СчетФактураВыданный``
(``ДокументОснование`` of several types, sent with ``ДокументОснование_Type`` =
``StandardODATA.<set>``). ``Post`` is refused for such a document without rows, and for a
correction or an invoice-facture whose base document is not posted; a document marked for
deletion (``PATCH {"DeletionMark": true}``) is unposted, as 1C does.
"""

import base64
import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

EMPTY_REF = "00000000-0000-0000-0000-000000000000"
VAT_RATES = {"НДС22", "НДС20", "НДС10", "НДС7", "НДС5", "НДС0", "БезНДС"}
ROOT = "/odata/standard.odata/"

# The rows of goods and services on an invoice or a sale.
SALE_ROWS = {
    "fields": {"Содержание", "Количество", "Цена", "Сумма", "СтавкаНДС", "СуммаНДС"},
    "refs": {"Номенклатура_Key": "Catalog_Номенклатура"},
    "enums": {"СтавкаНДС": VAT_RATES},
}
TYPE_PREFIX = "StandardODATA."
# Whom a sale document is between: our organization, the customer, the contract.
SALE_PARTIES = {
    "Организация_Key": "Catalog_Организации",
    "Контрагент_Key": "Catalog_Контрагенты",
    "ДоговорКонтрагента_Key": "Catalog_ДоговорыКонтрагентов",
}

# Entity set → its properties (besides the common ones), references (property → set),
# enums, and tabular parts (part → the same for its rows).
ENTITY_SETS = {
    "Catalog_Организации": {
        "fields": {"НаименованиеПолное", "НаименованиеСокращенное", "ИНН", "КПП", "ОГРН"},
    },
    "Catalog_Контрагенты": {
        "fields": {"НаименованиеПолное", "ИНН", "КПП", "ЮридическоеФизическоеЛицо", "Комментарий"},
        "refs": {"Parent_Key": "Catalog_Контрагенты"},
        "enums": {"ЮридическоеФизическоеЛицо": {"ЮридическоеЛицо", "ФизическоеЛицо"}},
    },
    "Catalog_ДоговорыКонтрагентов": {
        "fields": {"Организация_Key", "ВидДоговора", "Номер", "Дата", "Комментарий"},
        "refs": {"Owner_Key": "Catalog_Контрагенты", "Организация_Key": "Catalog_Организации"},
        "enums": {"ВидДоговора": {"СПокупателем", "СПоставщиком", "Прочее"}},
    },
    "Catalog_Номенклатура": {"fields": {"НаименованиеПолное", "Услуга", "Артикул"}},
    "Document_СчетНаОплатуПокупателю": {
        "fields": {"СуммаВключаетНДС", "СуммаДокумента", "Комментарий"},
        "refs": SALE_PARTIES,
        "parts": {"Товары": SALE_ROWS},
    },
    "Document_РеализацияТоваровУслуг": {
        "fields": {"ВидОперации", "СуммаВключаетНДС", "СуммаДокумента", "Комментарий"},
        "refs": {
            **SALE_PARTIES,
            "СчетНаОплатуПокупателю_Key": "Document_СчетНаОплатуПокупателю",
        },
        "enums": {"ВидОперации": {"Товары", "Услуги", "ТоварыУслуги", "ПродажаКомиссия"}},
        "parts": {"Товары": SALE_ROWS, "Услуги": SALE_ROWS},
        "rows_required": ("Товары", "Услуги"),
    },
    "Document_КорректировкаРеализации": {
        "fields": {"ВидОперации", "СуммаВключаетНДС", "СуммаДокумента", "Комментарий"},
        "refs": {
            **SALE_PARTIES,
            "ДокументРеализации_Key": "Document_РеализацияТоваровУслуг",
        },
        "enums": {"ВидОперации": {"КорректировкаПоСогласованиюСторон", "ИсправлениеВПервичныхДокументах"}},
        "parts": {
            "Услуги": {
                **SALE_ROWS,
                "fields": SALE_ROWS["fields"]
                | {
                    "КоличествоДоКорректировки",
                    "ЦенаДоКорректировки",
                    "СуммаДоКорректировки",
                    "СуммаНДСДоКорректировки",
                },
            }
        },
        "rows_required": ("Услуги",),
        # posted only over a posted sale
        "posted_over": ("ДокументРеализации_Key", "Document_РеализацияТоваровУслуг"),
    },
    "Document_СчетФактураВыданный": {
        "fields": {"ВидСчетаФактуры", "СуммаДокумента", "Комментарий"},
        "refs": {"Организация_Key": "Catalog_Организации", "Контрагент_Key": "Catalog_Контрагенты"},
        "enums": {"ВидСчетаФактуры": {"НаРеализацию", "Корректировочный", "НаАванс"}},
        # a reference of several types: the value and ``…_Type`` = "StandardODATA.<set>"
        "composites": {
            "ДокументОснование": {"Document_РеализацияТоваровУслуг", "Document_КорректировкаРеализации"}
        },
        "posted_over": ("ДокументОснование", None),
    },
    "Document_ПоступлениеНаРасчетныйСчет": {
        "fields": {"ВидОперации", "СуммаДокумента", "НазначениеПлатежа", "Комментарий"},
        "refs": {"Организация_Key": "Catalog_Организации", "Контрагент_Key": "Catalog_Контрагенты"},
        "enums": {"ВидОперации": {"ОплатаПокупателя", "ПрочееПоступление"}},
        "parts": {
            "РасшифровкаПлатежа": {
                "fields": {"СуммаПлатежа", "СтавкаНДС", "СуммаНДС"},
                "refs": {
                    "СчетНаОплату_Key": "Document_СчетНаОплатуПокупателю",
                    "ДоговорКонтрагента_Key": "Catalog_ДоговорыКонтрагентов",
                },
                "enums": {"СтавкаНДС": VAT_RATES},
            }
        },
    },
}
TABULAR = {
    f"{name}_{part}": (name, part) for name, spec in ENTITY_SETS.items() for part in spec.get("parts", {})
}
COMMON = {
    "Ref_Key",
    "DataVersion",
    "DeletionMark",
    "Description",
    "Code",
    "Parent_Key",
    "IsFolder",
    "Owner_Key",
}
DOCUMENT_COMMON = {"Ref_Key", "DataVersion", "DeletionMark", "Number", "Date", "Posted"}

_TOKEN = re.compile(
    r"\s*(?:(?P<typed>guid|datetime)?'(?P<text>(?:[^']|'')*)'|(?P<bool>true|false)\b"
    r"|(?P<number>-?\d+(?:\.\d+)?)\b|(?P<word>[^\s']+))"
)


class ODataError(Exception):
    def __init__(self, status: int, message: str, code: str = "-1"):
        self.status, self.message, self.code = status, message, code


class Infobase:
    def __init__(self, name: str):
        self.name = name
        self.objects: dict[str, dict[str, dict]] = {entity: {} for entity in ENTITY_SETS}
        self.counters: dict[str, int] = {}
        self.unpublished: set[str] = set()
        self.fail, self.fail_times, self.delay = "none", 0, 3.0
        self.location = "/"
        self.requests = 0  # OData requests that reached this base, failed or not
        self.authorizations: list[str] = []  # the Authorization header of each of them

    def next_number(self, entity_set: str) -> int:
        self.counters[entity_set] = self.counters.get(entity_set, 0) + 1
        return self.counters[entity_set]


class FakeOneC(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, host: str = "127.0.0.1", port: int = 0, username="odata", password="demo-odata-1c"):
        super().__init__((host, port), _Handler)
        self.username, self.password = username, password
        self.lock = threading.Lock()
        self.bases: dict[str, Infobase] = {}

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def base_url(self, base: str) -> str:
        return f"{self.url}/{base}{ROOT}"

    def base(self, name: str) -> Infobase:
        with self.lock:
            return self.bases.setdefault(name, Infobase(name))

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    # --- control -------------------------------------------------------------------------------
    def control(self, params: dict) -> dict:
        base = self.base(str(params["base"]))
        with self.lock:
            if "fail" in params:
                base.fail, base.fail_times = str(params["fail"]), int(params.get("times", 1))
            base.delay = float(params.get("delay", base.delay))
            base.location = str(params.get("location", base.location))
            base.unpublished = set(params.get("unpublish", base.unpublished))
        return {"base": base.name, "fail": base.fail, "times": base.fail_times}

    def add_payment(self, params: dict) -> dict:
        base = self.base(str(params["base"]))
        with self.lock:
            invoice = base.objects["Document_СчетНаОплатуПокупателю"].get(str(params["invoice"]).lower())
            if invoice is None:
                raise ODataError(404, "no such invoice in the base")
            amount = Decimal(str(params["amount"]))
            return _create(
                base,
                "Document_ПоступлениеНаРасчетныйСчет",
                {
                    "Date": params.get("date") or _now(),
                    "ВидОперации": "ОплатаПокупателя",
                    "Организация_Key": invoice["Организация_Key"],
                    "Контрагент_Key": invoice["Контрагент_Key"],
                    "СуммаДокумента": amount,
                    "НазначениеПлатежа": params.get("purpose", f"Оплата по счету № {invoice['Number']}"),
                    "DeletionMark": bool(params.get("deleted", False)),
                    "РасшифровкаПлатежа": [
                        {
                            "LineNumber": "1",
                            "СчетНаОплату_Key": invoice["Ref_Key"],
                            "ДоговорКонтрагента_Key": invoice["ДоговорКонтрагента_Key"],
                            "СуммаПлатежа": amount,
                        }
                    ],
                },
                posted=bool(params.get("posted", True)),
            )

    def dump(self, name: str | None = None) -> dict:
        with self.lock:
            bases = [self.bases[name]] if name in self.bases else [] if name else list(self.bases.values())
            return {base.name: {k: list(v.values()) for k, v in base.objects.items()} for base in bases}

    def sales(self, name: str) -> dict:
        """What the base counts as sold, per counterparty ``Ref_Key``: posted sales (and their
        posted corrections' differences) not marked for deletion; an unposted one counts
        nothing and is listed under ``unposted``."""
        counted: dict[str, Decimal] = {}
        unposted = []
        with self.lock:
            base = self.bases.get(name)
            for entity_set in ("Document_РеализацияТоваровУслуг", "Document_КорректировкаРеализации"):
                for item in base.objects[entity_set].values() if base else []:
                    if item["DeletionMark"]:
                        continue
                    if not item["Posted"]:
                        unposted.append(item["Ref_Key"])
                        continue
                    key = item["Контрагент_Key"]
                    counted[key] = counted.get(key, Decimal(0)) + Decimal(str(item.get("СуммаДокумента", 0)))
        return {"counted": counted, "unposted": unposted}

    def reset(self) -> None:
        with self.lock:
            self.bases.clear()

    def take_failure(self, base: Infobase, creating: bool) -> str:
        with self.lock:
            if base.fail_times <= 0 or base.fail == "none":
                return "none"
            if base.fail == "drop_after_write" and not creating:
                return "none"
            base.fail_times -= 1
            return base.fail

    # --- OData ---------------------------------------------------------------------------------
    def odata(self, base: Infobase, method: str, resource: str, query: dict, body) -> tuple[int, dict | None]:
        match = re.fullmatch(
            r"(?P<set>[^(/]+)(?:\(guid'(?P<ref>[0-9a-fA-F-]{36})'\))?(?:/(?P<action>\w+))?", resource
        )
        if match is None:
            raise ODataError(400, f"Неверный адрес ресурса: {resource}")
        entity_set, ref, action = match["set"], (match["ref"] or "").lower(), match["action"]
        if entity_set not in ENTITY_SETS and entity_set not in TABULAR or entity_set in base.unpublished:
            raise ODataError(404, f"Не найден ресурс '{entity_set}'", "9")
        if query.get("$format", "json") != "json":
            raise ODataError(406, "the fake answers $format=json only")
        with self.lock:
            if entity_set in TABULAR:
                if method != "GET" or ref:
                    raise ODataError(400, "Cоздание строк табличной части напрямую не поддерживается", "13")
                return 200, _listing(self, base, entity_set, _rows(base, entity_set), query)
            objects = base.objects[entity_set]
            if method == "GET" and not ref:
                return 200, _listing(self, base, entity_set, list(objects.values()), query)
            if method == "POST" and not ref:
                return 201, self._element(base, entity_set, _create(base, entity_set, body))
            if not ref or ref not in objects:
                raise ODataError(404, f"Объект не найден: {entity_set}{'(' + ref + ')' if ref else ''}", "10")
            item = objects[ref]
            if method == "GET" and not action:
                return 200, self._element(base, entity_set, item)
            if method == "PATCH" and not action:
                _check(base, entity_set, body, patch=True)
                item.update(_clean(entity_set, body))
                if item.get("DeletionMark") and entity_set.startswith("Document_"):
                    item["Posted"] = False  # as 1C does: marked for deletion, the postings go
                _touch(item)
                return 200, self._element(base, entity_set, item)
            if method == "POST" and action in ("Post", "Unpost") and entity_set.startswith("Document_"):
                if item["DeletionMark"] and action == "Post":
                    raise ODataError(400, "Помеченный на удаление документ не может быть проведен")
                if action == "Post":
                    _check_posting(base, entity_set, item)
                item["Posted"] = action == "Post"
                _touch(item)
                return 200, None
        raise ODataError(405, f"{method} is not supported here")

    def _element(self, base: Infobase, entity_set: str, item: dict) -> dict:
        return {"odata.metadata": f"{self.base_url(base.name)}$metadata#{entity_set}/@Element", **item}


def _listing(fake: FakeOneC, base: Infobase, entity_set: str, items: list[dict], query: dict) -> dict:
    conditions = _parse_filter(query.get("$filter", ""))
    found = [item for item in items if all(_equal(item.get(f, _MISSING), v) for f, v in conditions)]
    return {"odata.metadata": f"{fake.base_url(base.name)}$metadata#{entity_set}", "value": found}


def _rows(base: Infobase, tabular: str) -> list[dict]:
    entity_set, part = TABULAR[tabular]
    return [
        {"Ref_Key": item["Ref_Key"], **row}
        for item in base.objects[entity_set].values()
        for row in item[part]
    ]


_MISSING = object()


def _parse_filter(text: str) -> list[tuple[str, object]]:
    """``A eq 'x' and B eq guid'…'`` → [("A", "x"), ("B", Guid)]. Only what the fake needs."""
    if not text.strip():
        return []
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            if text[pos:].strip():
                raise ODataError(400, f"Ошибка разбора $filter в позиции {pos}")
            break
        pos = match.end()
        if match["text"] is not None:
            value = match["text"].replace("''", "'")
            typed = match["typed"]
            tokens.append(("guid", value.lower()) if typed == "guid" else (typed or "string", value))
        elif match["bool"]:
            tokens.append(("bool", match["bool"] == "true"))
        elif match["number"]:
            tokens.append(("number", Decimal(match["number"])))
        else:
            tokens.append(("word", match["word"]))
    conditions = []
    for index in range(0, len(tokens), 4):
        chunk = tokens[index : index + 4]
        joiner = chunk[3] if len(chunk) == 4 else ("word", "and")
        if len(chunk) < 3 or chunk[0][0] != "word" or chunk[1] != ("word", "eq") or joiner != ("word", "and"):
            raise ODataError(400, "the fake understands only «field eq literal» joined by «and»")
        if chunk[2][0] == "word":
            raise ODataError(400, f"Неверный литерал: {chunk[2][1]}")
        conditions.append((chunk[0][1], chunk[2]))
    if tokens[-1] == ("word", "and"):
        raise ODataError(400, "$filter ends with «and»")
    return conditions


def _equal(actual, literal: tuple[str, object]) -> bool:
    kind, value = literal
    if actual is _MISSING:
        raise ODataError(400, "Неизвестное свойство в $filter")
    if kind == "guid":
        return str(actual).lower() == value
    if kind == "datetime":
        return str(actual)[:19] == datetime.fromisoformat(str(value)).isoformat(timespec="seconds")
    if kind == "number":
        return isinstance(actual, int | Decimal) and Decimal(actual) == value
    if kind == "bool":
        return actual is value
    return actual == value


def _now() -> str:
    """1C keeps the server's local time, without a zone."""
    return datetime.now(UTC).astimezone().replace(tzinfo=None).isoformat(timespec="seconds")


def _version(n: int) -> str:
    return base64.b64encode(n.to_bytes(4, "big") + bytes(4)).decode()


def _touch(item: dict) -> None:
    number = int.from_bytes(base64.b64decode(item["DataVersion"])[:4], "big") + 1
    item["DataVersion"] = _version(number)


def _check(base: Infobase, entity_set: str, body, patch: bool = False, row_spec: dict | None = None) -> None:
    if not isinstance(body, dict):
        raise ODataError(400, "Тело запроса должно быть объектом JSON")
    spec = row_spec or ENTITY_SETS[entity_set]
    allowed = set(spec.get("fields", ())) | set(spec.get("refs", ())) | set(spec.get("parts", ()))
    for name in spec.get("composites", {}):
        allowed |= {name, f"{name}_Type"}
    if row_spec:
        allowed.add("LineNumber")
    else:
        allowed |= DOCUMENT_COMMON if entity_set.startswith("Document_") else COMMON
    for name, value in body.items():
        if name.endswith("@odata.type") or name == "odata.metadata":
            continue
        if name not in allowed:
            raise ODataError(400, f"Неизвестное или недоступное свойство '{name}'")
        if name in spec.get("enums", {}) and value not in spec["enums"][name] and value != "":
            raise ODataError(400, f"Недопустимое значение перечисления {name}: '{value}'")
        reference = str(value).lower()
        if (
            name in spec.get("refs", {})
            and reference != EMPTY_REF
            and reference not in base.objects[spec["refs"][name]]
        ):
            raise ODataError(400, f"Ссылка {name} = '{value}' не найдена")
        if name in spec.get("composites", {}):
            _check_composite(base, spec["composites"][name], name, value, body.get(f"{name}_Type"))
        if name in spec.get("parts", {}):
            if not isinstance(value, list):
                raise ODataError(400, f"Табличная часть {name} должна быть массивом")
            for number, row in enumerate(value, start=1):
                if not isinstance(row, dict) or str(row.get("LineNumber", "")) != str(number):
                    raise ODataError(
                        400, f"Строка {number} табличной части {name}: нужен LineNumber = {number}"
                    )
                _check(base, entity_set, row, row_spec=spec["parts"][name])
    if patch and "Posted" in body:
        raise ODataError(400, "Posted меняется только действиями Post и Unpost")


def _check_composite(base: Infobase, types: set, name: str, value, type_name) -> None:
    """A reference of several types goes with its type: ``"StandardODATA.Document_X"``."""
    entity_set = str(type_name or "").removeprefix(TYPE_PREFIX)
    if entity_set not in types or not str(type_name).startswith(TYPE_PREFIX):
        raise ODataError(400, f"Недопустимый тип {name}_Type: '{type_name}'")
    if str(value).lower() != EMPTY_REF and str(value).lower() not in base.objects[entity_set]:
        raise ODataError(400, f"Ссылка {name} = '{value}' не найдена")


def _composite_target(base: Infobase, item: dict, name: str, entity_set: str | None) -> dict | None:
    """The object a reference of the document names (for a composite, by its ``…_Type``)."""
    if entity_set is None:
        entity_set = str(item.get(f"{name}_Type", "")).removeprefix(TYPE_PREFIX)
    return base.objects.get(entity_set, {}).get(str(item.get(name, "")).lower())


def _check_posting(base: Infobase, entity_set: str, item: dict) -> None:
    """What 1C's filling check refuses when a sale, its correction or an invoice-facture is
    posted: no rows; a document over one that is not posted."""
    spec = ENTITY_SETS[entity_set]
    required = spec.get("rows_required")
    if required and not any(item.get(part) for part in required):
        raise ODataError(400, f"Не заполнена табличная часть «{' / '.join(required)}»")
    if "posted_over" in spec:
        name, target_set = spec["posted_over"]
        target = _composite_target(base, item, name, target_set)
        if target is None or not target.get("Posted") or target.get("DeletionMark"):
            raise ODataError(400, f"Документ-основание ({name}) не проведен")


def _clean(entity_set: str, body: dict) -> dict:
    """The stored form: references lower-case, rows with string LineNumber (Edm.Int64)."""
    out = {}
    for name, value in body.items():
        if name.endswith("@odata.type") or name == "odata.metadata":
            continue
        composite = name in ENTITY_SETS.get(entity_set, {}).get("composites", {})
        if (name.endswith("_Key") or composite) and isinstance(value, str):
            value = value.lower()
        if isinstance(value, list):
            value = [{**_clean(entity_set, row), "LineNumber": str(row["LineNumber"])} for row in value]
        if isinstance(value, float):
            value = Decimal(str(value))
        out[name] = value
    return out


def _create(base: Infobase, entity_set: str, body, posted: bool = False) -> dict:
    _check(base, entity_set, body)
    spec = ENTITY_SETS[entity_set]
    ref = str(body.get("Ref_Key") or uuid.uuid4()).lower()
    if ref in base.objects[entity_set]:
        raise ODataError(400, f"Объект с Ref_Key '{ref}' уже существует")
    number = base.next_number(entity_set)
    item = {"Ref_Key": ref, "DataVersion": _version(1), "DeletionMark": False}
    if entity_set.startswith("Document_"):
        item |= {"Number": f"0000-{number:06d}", "Date": _now()}
        item |= {"Posted": posted}
    else:
        item |= {"Code": f"00-{number:06d}", "Description": "", "IsFolder": False, "Parent_Key": EMPTY_REF}
    for name in spec.get("refs", {}):
        item[name] = EMPTY_REF
    for part in spec.get("parts", {}):
        item[part] = []
    item |= _clean(entity_set, {k: v for k, v in body.items() if k != "Posted"})
    if "Date" in item:
        item["Date"] = datetime.fromisoformat(str(item["Date"])).isoformat(timespec="seconds")
    base.objects[entity_set][ref] = item
    return item


class _Handler(BaseHTTPRequestHandler):
    server: FakeOneC
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_PATCH(self):
        self._route("PATCH")

    def do_DELETE(self):
        self._route("DELETE")

    def _route(self, method: str):
        parts = urlsplit(self.path)
        path, query = unquote(parts.path), dict(parse_qsl(parts.query))
        fake = self.server
        try:
            body = self._body()
            if path == "/_control" and method == "POST":
                return self._answer(200, fake.control(body))
            if path == "/_control/payment" and method == "POST":
                return self._answer(201, fake.add_payment(body))
            if path == "/_sales":
                return self._answer(200, fake.sales(query.get("base", "")))
            if path == "/_dump":
                return self._answer(200, fake.dump(query.get("base")))
            if path == "/_reset" and method == "POST":
                fake.reset()
                return self._answer(200, {"ok": True})
            name, root, resource = path.lstrip("/").partition(ROOT.strip("/") + "/")
            name = name.strip("/")
            if not root or not name or "/" in name:
                raise ODataError(404, "Not Found")
            base = fake.base(name)
            with fake.lock:
                base.requests += 1
                base.authorizations.append(self.headers.get("Authorization") or "")
            failure = fake.take_failure(base, creating=method == "POST" and "(" not in resource)
            if failure == "down":
                self.close_connection = True
                return None
            if failure == "500":
                raise ODataError(500, "Произошла внутренняя ошибка OData сервиса.")
            if failure == "redirect":
                return self._redirect(base.location)
            if failure == "401" or not self._authorized():
                return self._unauthorized()
            if failure == "timeout":
                time.sleep(base.delay)
            status, answer = fake.odata(base, method, resource, query, body)
            if failure == "drop_after_write":
                self.close_connection = True
                return None
            return self._answer(status, answer)
        except ODataError as error:
            return self._answer(
                error.status,
                {"odata.error": {"code": error.code, "message": {"lang": "ru", "value": error.message}}},
            )
        except (ValueError, KeyError) as error:
            return self._answer(
                400, {"odata.error": {"code": "-1", "message": {"lang": "ru", "value": str(error)}}}
            )

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization") or ""
        if not header.startswith("Basic "):
            return False
        try:
            user, _colon, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (user, password) == (self.server.username, self.server.password)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _unauthorized(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="1C:Enterprise"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _body(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        return json.loads(raw, parse_float=Decimal) if raw else {}

    def _answer(self, status: int, body) -> None:
        data = b"" if body is None else json.dumps(body, ensure_ascii=False, default=_number).encode()
        try:
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting ("timeout" mode)


def _number(value):
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(repr(value))
