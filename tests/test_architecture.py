"""The import graph between our modules (DESIGN.md's layout): no cycles, and each layer imports
only the ones below it. Imports inside functions count as well: they hide a cycle, not break it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "ingest", "retrieval", "answer", "verify", "prompts", "app", "eval", "data")
# package -> packages it must never import
FORBIDDEN = {
    "verify": {"answer", "app", "eval"},
    "eval": {"app"},
    "retrieval": {"answer", "verify", "eval", "app"},
    "ingest": {"answer", "verify", "eval", "app", "retrieval"},
    "core": {"ingest", "retrieval", "answer", "verify", "eval", "app"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Our modules that `name` imports anywhere in its file ("from a import b" counts a.b when
    b is a module, else a)."""
    found: set[str] = set()
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package[: len(package) - node.level + 1]
                base = ".".join([*up, *([node.module] if node.module else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                       for a in node.names]  # fmt: skip
        else:
            continue
        for t in targets:
            while t and t not in modules:  # "a.b.c" of a module a.b: the module
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


MODULES = _modules()
GRAPH = {name: _imports(name, path, MODULES) for name, path in MODULES.items()}


def _cycle() -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(GRAPH[n]):
            if state.get(m) == 1:
                return [*stack[stack.index(m) :], m]
            if m not in state and (c := visit(m)):
                return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(GRAPH):
        if n not in state and (c := visit(n)):
            return c
    return None


def test_the_graph_is_read() -> None:
    assert "verify.checker" in GRAPH["answer.pipeline"]
    assert "answer.pipeline" in GRAPH["app.engine"]


def test_no_import_cycle_between_our_modules() -> None:
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_import_only_downwards(package: str) -> None:
    bad = sorted(
        f"{a} imports {b}"
        for a, deps in GRAPH.items()
        if a.split(".")[0] == package
        for b in deps
        if b.split(".")[0] in FORBIDDEN[package]
    )
    assert not bad, "; ".join(bad)


def test_package_graph_has_no_cycle() -> None:
    """Between packages too: app -> eval, never eval -> app; answer -> verify, never back."""
    edges = {(a.split(".")[0], b.split(".")[0]) for a, deps in GRAPH.items() for b in deps}
    both = sorted(f"{a} <-> {b}" for a, b in edges if a < b and (b, a) in edges)
    assert not both, ", ".join(both)
