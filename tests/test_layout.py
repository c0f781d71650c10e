"""The package's layout (issue 18): a checked layering, no import circles, no module a newcomer must fear."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "crawler"
# Modules allowed past MAX_LINES: page templates and generated tables (none yet).
LONG_ALLOWED: frozenset[str] = frozenset()
MAX_LINES = 450


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(module: str) -> None:
        nonlocal counter
        index[module] = low[module] = counter
        counter += 1
        stack.append(module)
        on_stack.add(module)
        for other in graph.find_modules_directly_imported_by(module):
            if not other.startswith("crawler"):
                continue
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module.startswith("crawler") and module not in index:
            visit(module)
    return found


def test_no_module_imports_another_that_imports_it_back() -> None:
    graph = grimp.build_graph("crawler")
    # A package's __init__ that re-exports its children is not a circle of the flow: leave them out.
    for package in [m for m in graph.modules if (PACKAGE / m.removeprefix("crawler").strip(".").replace(".", "/")
                                                  / "__init__.py").is_file()]:
        for child in graph.find_children(package):
            if graph.direct_import_exists(importer=child, imported=package):
                graph.remove_import(importer=child, imported=package)
    assert _cycles(graph) == []


def test_the_layering_contract_holds() -> None:
    """pyproject.toml's [tool.importlinter]: each stage imports only the stages below it."""
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


def test_a_cycle_is_found_when_there_is_one() -> None:
    graph = grimp.ImportGraph()
    for module in ("crawler.a", "crawler.b", "crawler.c"):
        graph.add_module(module)
    graph.add_import(importer="crawler.a", imported="crawler.b")
    graph.add_import(importer="crawler.b", imported="crawler.c")
    assert _cycles(graph) == []
    graph.add_import(importer="crawler.c", imported="crawler.a")
    assert _cycles(graph) == [["crawler.a", "crawler.b", "crawler.c"]]


def test_no_module_is_longer_than_a_newcomer_can_read() -> None:
    long = {str(path.relative_to(ROOT)): n for path in sorted(PACKAGE.rglob("*.py"))
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert {k: v for k, v in long.items() if k not in LONG_ALLOWED} == {}
