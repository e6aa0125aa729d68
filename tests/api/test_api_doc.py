"""docs/api.md against the code: the endpoints its tables name against the OpenAPI schema
drf-spectacular generates (both ways), and the error codes it lists against the codes the
source can answer with (both ways). A new endpoint or code without its line there fails."""

import ast
import functools
import re
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework import exceptions as drf_exceptions

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "api.md"
SOURCE = ROOT / "arenda"
BASE = "/api/v1/"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# The letters of the resources table (its legend): method and whether the path is the item's.
OPS = {
    "L": [("GET", False)],
    "C": [("POST", False)],
    "R": [("GET", True)],
    "U": [("PUT", True), ("PATCH", True)],
    "P": [("PATCH", True)],
    "D": [("DELETE", True)],
}
# Documented endpoints that are plain Django views, outside the schema: each must resolve.
OUTSIDE_SCHEMA = {("GET", "/api/v1/calendar/{}.ics")}

# Exceptions whose first argument is the code of a 409 answer (arenda/api/errors.py).
CONFLICTS = {"BookingConflict", "FunnelRefused", "BillingRefused"}
# DRF's own codes and statuses, and the error handler's fallback for a detail without a code.
DRF_CODES = {
    cls.default_code: cls.status_code
    for cls in vars(drf_exceptions).values()
    if isinstance(cls, type)
    and issubclass(cls, drf_exceptions.APIException)
    and cls is not drf_exceptions.APIException
}
FALLBACK = "error"


def normalise(path: str) -> str:
    """``units/{unit_id}/maintenance/{pk}/`` and ``units/{id}/maintenance/{id}/`` alike."""
    path = path.split("?", 1)[0]
    if not path.startswith("/"):
        path = BASE + path
    return re.sub(r"\{[^}]*\}", "{}", path)


def section(text: str, name: str) -> list[list[str]]:
    """The cells of the table rows between ``<!-- name:start -->`` and ``<!-- name:end -->``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    assert text.count(start) == 1 and text.count(end) == 1, f"docs/api.md needs one {start} … {end}"
    rows = []
    for line in text.split(start)[1].split(end)[0].splitlines():
        line = line.strip()
        if not line.startswith("|") or re.fullmatch(r"[|\s:-]+", line):
            continue
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    assert len(rows) > 1, f"the {name} table of docs/api.md is empty"
    return rows[1:]  # without the header


def first_code(cell: str) -> str:
    found = re.match(r"`([^`]+)`", cell)
    assert found, f"docs/api.md: a row without a `name` in its first cell: {cell!r}"
    return found.group(1)


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def documented(doc) -> set[tuple[str, str]]:
    """(method, normalised path) of every call the resources and actions tables name."""
    calls = set()
    for cells in section(doc, "resources"):
        path, ops = first_code(cells[0]), cells[1].strip("` ")
        assert path.endswith("/"), f"docs/api.md: resource {path} should end with /"
        assert ops and set(ops) <= set(OPS), f"docs/api.md: {path} has unknown operations {ops!r}"
        for letter in ops:
            for method, item in OPS[letter]:
                calls.add((method, normalise(path + ("{id}/" if item else ""))))
    for cells in section(doc, "actions"):
        named = re.findall(rf"`({'|'.join(METHODS)}) ([^`\s]+)`", cells[0])
        assert named, f"docs/api.md: an action row names no `METHOD path`: {cells[0]!r}"
        calls |= {(method, normalise(path)) for method, path in named}
    return calls


@pytest.fixture(scope="module")
def schema_calls() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), normalise(path))
        for path, operations in schema["paths"].items()
        for method in operations
        if method.upper() in METHODS
    }


@pytest.fixture(scope="module")
def doc_codes(doc) -> dict[str, str]:
    """code → the status cell, from the error codes table."""
    codes = {}
    for cells in section(doc, "codes"):
        code = first_code(cells[0])
        assert code not in codes, f"docs/api.md lists `{code}` twice"
        codes[code] = cells[1]
    return codes


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _constant(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _code_argument(call: ast.Call, position: int) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == "code":
            return _constant(keyword.value)
    return _constant(call.args[position]) if len(call.args) > position else None


@functools.cache
def source_codes() -> tuple[frozenset[str], frozenset[str]]:
    """(codes of 409 conflicts, other codes the API answers with), read from arenda/:

    - ``BookingConflict("code", …)``, ``FunnelRefused(…)``, ``BillingRefused(…)`` anywhere,
      and subclasses' ``super().__init__("code", …)`` (``DriverNotLinked``);
    - ``_conflict(detail, "code")`` in the error handler (``in_use``, ``conflict``);
    - ``{"code": "…"}`` answers written by the API's views.
    """
    trees = {
        path: ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for path in sorted(SOURCE.rglob("*.py"))
        if "migrations" not in path.parts
    }
    family = set(CONFLICTS)
    grew = True
    while grew:  # subclasses, at any depth
        grew = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.ClassDef)
                    and node.name not in family
                    and any(_name(base) in family for base in node.bases)
                ):
                    family.add(node.name)
                    grew = True

    conflicts, others = set(), set()
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in family - CONFLICTS:
                for call in ast.walk(node):
                    if (
                        isinstance(call, ast.Call)
                        and _name(call.func) == "__init__"
                        and isinstance(call.func, ast.Attribute)
                        and isinstance(call.func.value, ast.Call)
                        and _name(call.func.value.func) == "super"
                    ):
                        conflicts.add(_code_argument(call, 0))
            elif isinstance(node, ast.Call) and _name(node.func) in family:
                conflicts.add(_code_argument(node, 0))
            elif isinstance(node, ast.Call) and _name(node.func) == "_conflict":
                conflicts.add(_code_argument(node, 1))
            elif isinstance(node, ast.Dict) and path.parent.name == "api":
                for key, value in zip(node.keys, node.values, strict=True):
                    if _constant(key) == "code" and _constant(value):
                        others.add(_constant(value))
    conflicts.discard(None)  # a code passed on from a variable (``exc.code``)
    return frozenset(conflicts), frozenset(others - conflicts)


def test_the_scan_finds_the_codes_it_should():
    """A guard on the scanner itself: an empty scan would pass everything below."""
    conflicts, others = source_codes()
    assert {"unit_busy", "driver_not_linked", "stage_move_refused", "not_draft", "in_use"} <= conflicts
    assert {"invalid_credentials", "locked_out", "throttled"} <= others


def test_every_documented_call_exists(documented, schema_calls):
    missing = documented - schema_calls - OUTSIDE_SCHEMA
    assert not missing, f"docs/api.md names calls the API does not have: {sorted(missing)}"


def test_the_calls_outside_the_schema_are_served(documented, schema_calls):
    for method, path in sorted(OUTSIDE_SCHEMA):
        assert (method, path) in documented, f"{method} {path} is no longer documented"
        assert (method, path) not in schema_calls, f"{method} {path} is in the schema now"
        try:
            resolve(path.replace("{}", "x1"))
        except Resolver404:
            pytest.fail(f"{method} {path} is documented but not served")


def test_every_call_of_the_api_is_documented(documented, schema_calls):
    missing = schema_calls - documented
    assert not missing, f"add these calls to docs/api.md (resources or actions): {sorted(missing)}"


def test_every_documented_code_can_be_answered(doc_codes):
    conflicts, others = source_codes()
    known = conflicts | others | set(DRF_CODES) | {FALLBACK}
    unknown = set(doc_codes) - known
    assert not unknown, f"docs/api.md lists codes nothing raises: {sorted(unknown)}"


def test_every_code_in_the_source_is_documented(doc_codes):
    conflicts, others = source_codes()
    missing = (conflicts | others) - set(doc_codes)
    assert not missing, f"add these error codes to docs/api.md: {sorted(missing)}"


def test_the_documented_statuses_match(doc_codes):
    conflicts, _others = source_codes()
    for code, status in doc_codes.items():
        if code in conflicts:
            assert status == "409", f"docs/api.md: `{code}` is a 409 conflict, not {status}"
        elif code in DRF_CODES:
            assert status == str(DRF_CODES[code]), f"docs/api.md: `{code}` is a {DRF_CODES[code]}"
