"""The code's layers, read from its imports: pages -> ui -> services/queries -> domain -> db, no circles.

Every import is counted, the ones inside functions too. A module may import its own layer and the
layers below it, never one above; ``db`` imports nothing of the app; the demo and the benchmarks are
tools beside the app, which never imports them; and no modules import each other in a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Lowest first. The first matching prefix names a module's layer.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("db", ("db",)),
    ("domain", ("care.domain", "care.i18n", "care.scope")),
    ("core", ("care.audit", "care.audit_anchor", "care.auth", "care.logs", "care.permissions")),
    ("queries", ("care.queries",)),
    ("files", ("care.files",)),
    ("services", ("care.services", "care.imports", "care.web")),
    # with the python -m names the README documents (care.admin, care.areas, care.maps, care.report)
    (
        "tools",
        ("care.cli", "care.imports.__main__", "care.bench", "care.demo", "care.admin", "care.areas", "care.maps"),
    ),
    ("tools", ("care.report",)),
    ("ui", ("ui",)),
    ("pages", ("pages", "app")),
]
TOOLS = ("care.demo", "care.bench")
# The first-run page offers to build the demo county into an empty database: the demo's one door in the app.
BUILDS_THE_DEMO = {("pages.setup", "care.demo.build"), ("pages.setup", "care.demo.common")}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    paths = [ROOT / "app.py"]
    for folder in ("care", "db", "ui", "pages"):
        paths += [p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts]
    return {_module_name(p): p for p in paths}


SOURCES = _sources()


def _layer(module: str) -> int:
    if module == "care":  # the package's empty __init__
        return 1
    matches = [
        (len(prefix), rank)
        for rank, (_name, prefixes) in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    if not matches:
        raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")
    return max(matches)[1]  # the longest prefix: care.imports.__main__ is a command line


def _target(module: str, name: str | None = None) -> str | None:
    """The app module an import names (``from care.domain import ids`` names care.domain.ids)."""
    if name and f"{module}.{name}" in SOURCES:
        return f"{module}.{name}"
    while module and module not in SOURCES:
        module = module.rpartition(".")[0]
    return module or None


def _imports(module: str) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for each import of an app module."""
    tree = ast.parse(SOURCES[module].read_text(encoding="utf-8"))
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                targets = [_target(alias.name) for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                targets = [_target(child.module, alias.name) for alias in child.names]
            else:
                visit(child, inside)
                continue
            found.extend((t, child.lineno, in_function) for t in targets if t and t != module)

    visit(tree, False)
    return found


GRAPH = {module: _imports(module) for module in SOURCES}


def test_every_module_has_a_layer() -> None:
    for module in SOURCES:
        _layer(module)


def test_no_module_imports_a_layer_above_its_own() -> None:
    wrong = [
        f"{module}:{line} imports {target} ({LAYERS[_layer(target)][0]} is above {LAYERS[_layer(module)][0]})"
        for module, imports in GRAPH.items()
        for target, line, _inside in imports
        if _layer(target) > _layer(module) and (module, target) not in BUILDS_THE_DEMO
    ]
    assert wrong == []


def test_queries_never_import_services() -> None:
    wrong = [
        f"{module}:{line} imports {target}"
        for module, imports in GRAPH.items()
        if module.startswith("care.queries")
        for target, line, _inside in imports
        if target.startswith(("care.services", "care.imports"))
    ]
    assert wrong == []


def test_the_app_never_imports_the_demo_or_the_benchmarks() -> None:
    wrong = [
        f"{module}:{line} imports {target}"
        for module, imports in GRAPH.items()
        if not module.startswith(TOOLS) and not module.startswith("care.cli")
        for target, line, _inside in imports
        if target.startswith(TOOLS) and (module, target) not in BUILDS_THE_DEMO
    ]
    assert wrong == []


def test_db_imports_nothing_of_the_app() -> None:
    wrong = [
        f"{module}:{line} imports {target}"
        for module, imports in GRAPH.items()
        if module.split(".")[0] == "db"
        for target, line, _inside in imports
        if target.split(".")[0] != "db"
    ]
    assert wrong == []


def _circles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def connect(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target, _line, _inside in GRAPH[module]:
            if target not in index:
                connect(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            connect(module)
    return circles


def test_no_import_circles() -> None:
    assert _circles() == []


@pytest.mark.parametrize("folder", ["care", "db", "ui", "pages", "app"])
def test_imports_inside_functions_say_why(folder: str) -> None:
    """An import inside a function carries its reason in a comment on its line or the line above."""
    unexplained = []
    for module, imports in GRAPH.items():
        if module.split(".")[0] != folder:
            continue
        lines = SOURCES[module].read_text(encoding="utf-8").splitlines()
        for _target_module, line, inside in imports:
            if not inside:
                continue
            here, above = lines[line - 1], lines[line - 2] if line > 1 else ""
            if "#" not in here and not above.strip().startswith("#"):
                unexplained.append(f"{module}:{line}")
    assert sorted(set(unexplained)) == []
