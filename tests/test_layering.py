"""The packages import downwards only: tools <- nodes <- graphs <- evals (configs on top).

Read from the source with ``ast`` (imports inside functions and under TYPE_CHECKING
count too): a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("tools", "nodes", "graphs", "evals", "configs")
# what each package may import from codeagent, besides itself
ALLOWED = {
    "tools": set(),
    "nodes": {"tools"},
    "graphs": {"tools", "nodes"},
    "evals": {"tools", "nodes", "graphs"},
    "configs": {"tools", "nodes", "graphs"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found["codeagent." + ".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(module: str, path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level:
            pytest.fail(f"{path}: relative import; write codeagent.... in full")
    return {n for n in names if n.startswith("codeagent.")}


def _targets(module: str) -> set[str]:
    """The codeagent modules ``module`` imports (a name from a module counts as the module)."""
    out = set()
    for name in _imports(module, MODULES[module]):
        while name not in MODULES and "." in name:
            name = name.rsplit(".", 1)[0]
        if name in MODULES and name != module:
            out.add(name)
    return out


GRAPH = {module: _targets(module) for module in MODULES}


def _package(module: str) -> str:
    return module.split(".")[1]


def test_the_namespace_is_complete() -> None:
    assert "codeagent.graphs" in MODULES and "codeagent.tools.contracts.state" in MODULES


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_what_lies_below_it(package: str) -> None:
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _package(module) == package
        for target in targets
        if _package(target) != package and _package(target) not in ALLOWED[package]
    )
    assert upward == []


def test_nodes_see_tools_only_through_contracts_and_services() -> None:
    """Nodes never import the graph layer's modules, even lazily (state is a contract)."""
    assert not any(
        _package(t) == "graphs" for m, ts in GRAPH.items() if _package(m) == "nodes" for t in ts
    )


def _cycle(nodes: set[str]) -> list[str] | None:
    """One import cycle among ``nodes`` (package __init__ re-exports left out), or None."""
    edges = {n: {t for t in GRAPH[n] if t in nodes} for n in nodes}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(nodes):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles_between_modules(package: str) -> None:
    """Modules of one package form no import cycle (an ``__init__`` that re-exports is
    a facade and is left out; its package's modules must not import it back)."""
    modules = {
        m for m, path in MODULES.items() if _package(m) == package and path.name != "__init__.py"
    }
    assert _cycle(modules) is None
