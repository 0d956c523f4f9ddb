"""The package's import graph, read from the source with `ast`: no module imports itself
through others (every import counts, also those under TYPE_CHECKING or inside a function),
and live code reaches storage only through services."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "imagechat"
# A module of live/ past this many lines does more than one job (docs: "small modules").
MAX_LIVE_MODULE_LINES = 300


def module_files() -> dict[str, Path]:
    files = {}
    for path in (SRC / PACKAGE).rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    return files


def imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """The package's modules that `name` imports, anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                # `from imagechat.live import replay` imports the module `replay`.
                target = f"{base}.{alias.name}"
                if target in modules:
                    found.add(target)
                elif base in modules:
                    found.add(base)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    return {name: imports_of(name, path, set(files)) for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read_from_the_source() -> None:
    graph = import_graph()
    assert "imagechat.live.replay" in graph["imagechat.live.delivery"]  # `from ... import`
    assert "imagechat.rate_limit.redis" in graph["imagechat.rate_limit.factory"]  # lazy


def test_cycles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_module_imports_itself_through_others() -> None:
    assert cycles(import_graph()) == []


@pytest.mark.parametrize("layer", ["live", "http"])
def test_live_and_http_code_reach_storage_only_through_services(layer: str) -> None:
    reaching = {f"{name} -> {target}" for name, targets in import_graph().items()
                if name.startswith(f"{PACKAGE}.{layer}") for target in targets
                if target.startswith(f"{PACKAGE}.store")}
    assert reaching == set()


@pytest.mark.parametrize("path", sorted((SRC / PACKAGE / "live").glob("*.py")),
                         ids=lambda path: path.name)
def test_live_modules_stay_small(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= MAX_LIVE_MODULE_LINES
