"""The layers hold (docs/architecture.md): every module of arenda has its place in the
import-linter contract (pyproject.toml, checked by ``lint-imports`` in CI), no module
imports an arenda module inside a function, no import cycle, and the entry points reach
a cross-app lifecycle only through ``arenda.flows``."""

import ast
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "arenda"

# Domain writes that a flow wraps with what they set off in other apps: an entry point
# calling one of these directly would skip that (a payment that closes no booking, a
# waybill that bills no overtime). Module → names; entry points call ``arenda.flows``.
WRAPPED_BY_FLOWS = {
    "arenda.billing.services": {"payment_record"},
    "arenda.billing.statements": {"statement_import", "statement_payment_assign"},
    "arenda.billing.onec": {"read_payments", "push_base"},
    "arenda.bookings.services": {"booking_confirm", "booking_complete", "booking_cancel", "booking_close"},
    "arenda.bookings.waybills": {"waybill_create", "waybill_correct"},
    "arenda.bookings.driver_reports": {"report_waybill", "report_mark_confirmed"},
    "arenda.crm.services": {"deal_move", "deal_update", "deal_mark_agreed", "deal_follow", "agreeable_lines"},
}


def _layers() -> list[list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return [[name.strip() for name in layer.replace("|", ":").split(":")] for layer in contract["layers"]]


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _layer_of(module: str, layers: list[list[str]]) -> int | None:
    for index, layer in enumerate(layers):
        if any(module == name or module.startswith(name + ".") for name in layer):
            return index
    return None


def _imports_nothing(path: Path) -> bool:
    """A package whose ``__init__`` only holds its children (they have their layers)."""
    return not any(isinstance(n, ast.Import | ast.ImportFrom) for n in ast.walk(ast.parse(path.read_text())))


def test_every_module_has_a_layer():
    layers = _layers()
    modules = _modules()
    unplaced = sorted(
        module
        for module, path in modules.items()
        if _layer_of(module, layers) is None and not (path.name == "__init__.py" and _imports_nothing(path))
    )
    assert not unplaced, f"place these in the layers of pyproject.toml: {unplaced}"
    named = {name for layer in layers for name in layer}
    assert not named - set(modules), f"the layers name modules that do not exist: {named - set(modules)}"


def _function_level_imports(path: Path) -> list[str]:
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if in_function and isinstance(child, ast.Import | ast.ImportFrom):
                names = (
                    [child.module or ""]
                    if isinstance(child, ast.ImportFrom)
                    else [a.name for a in child.names]
                )
                if child.__class__ is ast.ImportFrom and child.level:
                    names = ["arenda (relative)"]
                found.extend(
                    f"{path.relative_to(ROOT)}:{child.lineno} {n}" for n in names if n.startswith("arenda")
                )
            visit(child, inside)

    visit(ast.parse(path.read_text()), False)
    return found


def test_no_arenda_module_is_imported_inside_a_function():
    """An import inside a function hides an arrow (often an upward one, dodging a cycle)."""
    found = [hit for path in _modules().values() for hit in _function_level_imports(path)]
    assert not found, "import these at the top of the module (docs/architecture.md):\n" + "\n".join(found)


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("arenda")


def test_no_import_cycles(graph):
    cycles = []
    for importer in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(importer):
            if importer < imported and graph.chain_exists(importer=imported, imported=importer):
                cycles.append(f"{importer} <-> {imported}")
    assert not cycles, "\n".join(cycles)


def _wrapped_uses(path: Path) -> list[str]:
    """``from <module> import <name>`` or ``<alias>.<name>`` of a wrapped domain write."""
    tree = ast.parse(path.read_text())
    aliases, uses = {}, []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if alias.name in WRAPPED_BY_FLOWS.get(node.module, ()):
                    uses.append(f"{path.relative_to(ROOT)}:{node.lineno} {full}")
                if full in WRAPPED_BY_FLOWS:
                    aliases[alias.asname or alias.name] = full
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in WRAPPED_BY_FLOWS and alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = aliases.get(node.value.id)
            if module and node.attr in WRAPPED_BY_FLOWS[module]:
                uses.append(f"{path.relative_to(ROOT)}:{node.lineno} {module}.{node.attr}")
    return uses


def test_entry_points_reach_cross_app_writes_only_through_flows():
    layers = _layers()
    entry = {0, 1}  # the URLconf and settings, then the entry points
    found = [
        use
        for module, path in _modules().items()
        if _layer_of(module, layers) in entry
        for use in _wrapped_uses(path)
    ]
    assert not found, "call arenda.flows instead:\n" + "\n".join(found)
