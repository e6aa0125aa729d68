"""``arenda.core`` is the foundation: it imports nothing of Arenda outside itself (and the
environment reader ``arenda.env``) — not at the top of a module, not inside a function."""

import ast
from pathlib import Path

import arenda.core

CORE = Path(arenda.core.__file__).resolve().parent
ALLOWED = ("arenda.core", "arenda.env")


def imported_modules(source: str, package: list[str]) -> list[tuple[int, str]]:
    """Every module an import statement anywhere in ``source`` names, relative ones resolved
    against ``package`` (``["arenda", "core"]`` for a module of arenda/core/)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            # ``from arenda import x`` may name the module ``arenda.x``: judge each name
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def outside_core(module: str) -> bool:
    if module != "arenda" and not module.startswith("arenda."):
        return False  # the standard library and third-party packages
    return not any(module == allowed or module.startswith(allowed + ".") for allowed in ALLOWED)


def test_core_imports_nothing_outside_it():
    files = [p for p in CORE.rglob("*.py") if "migrations" not in p.relative_to(CORE).parts]
    assert len(files) > 10
    offending = [
        f"{path.relative_to(CORE.parent.parent)}:{line}: {module}"
        for path in files
        for line, module in imported_modules(
            path.read_text(), ["arenda", "core", *path.relative_to(CORE).parent.parts]
        )
        if outside_core(module)
    ]
    assert offending == []


def test_the_scan_sees_every_kind_of_import():
    source = (
        "import arenda.env\n"
        "from arenda.core import money\n"
        "from . import roles\n"
        "def f():\n"
        "    from arenda.demo.seed import seed_demo\n"
        "    from ...crm import models\n"
        "    import arenda.front.crud\n"
        "    from arenda import billing\n"
    )
    modules = imported_modules(source, ["arenda", "core", "management"])
    assert [m for _line, m in modules if outside_core(m)] == [
        "arenda.demo.seed.seed_demo",
        "arenda.crm.models",
        "arenda.front.crud",
        "arenda.billing",
    ]
