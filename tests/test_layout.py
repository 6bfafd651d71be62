"""The tree's promises: imports run one way, no cycle, small modules, every package says what it owns."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Layers, lowest first: a module may import its own layer's packages and the ones before it.
LAYERS = (
    ("strategies",),
    ("backend.errors", "backend.defaults", "backend.settings", "backend.logs", "backend"),
    ("backend.labelstudio", "backend.tasks"),
    ("backend.loop", "backend.reports"),
    ("backend.service", "backend.ops", "backend.simulate", "backend.jobs"),
    ("backend.cli",),
)
#: No module is longer than this (the style asks for about 300 lines).
MAX_LINES = 300


def modules() -> dict[str, Path]:
    found = {}
    for package in ("backend", "strategies"):
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(name: str, path: Path) -> set[str]:
    """Project modules ``name`` imports (at any depth of the file, lazy imports included)."""
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    known = modules()
    return {m for m in out if m in known and m != name}


def layer(name: str) -> int:
    best = (-1, -1)
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if name == prefix or name.startswith(prefix + "."):
                best = max(best, (len(prefix), index))
    return best[1]


def test_imports_run_one_way() -> None:
    wrong = []
    for name, path in modules().items():
        for target in imports(name, path):
            if layer(target) > layer(name):
                wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_strategies_know_nothing_of_the_service() -> None:
    for name, path in modules().items():
        if name.startswith("strategies"):
            assert not [t for t in imports(name, path) if t.startswith("backend")], name


def test_no_import_cycle() -> None:
    graph = {name: imports(name, path) for name, path in modules().items()}
    # a package imports its own submodules through __init__; that edge is not a cycle
    graph = {n: {t for t in ts if not t.startswith(n + ".")} for n, ts in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target):], target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_modules_are_small() -> None:
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, long


def test_every_package_says_what_it_owns() -> None:
    for path in [*(ROOT / "backend").rglob("__init__.py"), ROOT / "strategies" / "__init__.py"]:
        tree = ast.parse(path.read_text())
        assert ast.get_docstring(tree), f"{path.relative_to(ROOT)} has no docstring"
