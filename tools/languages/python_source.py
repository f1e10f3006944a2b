"""What a Python source defines and imports, and the rewrites that keep tests honest (pure).

Used through :class:`~codeagent.tools.languages.python.PythonAdapter`: a test file
that defines its own copy of the solution's functions has those copies removed, one
that never imports the solution is found, and a stub of the solution (every function
body ``raise NotImplementedError``) finds tests that pass without running any code.
"""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from collections.abc import Collection

__all__ = [
    "EXAMPLE_MODULES",
    "defined_names",
    "import_used",
    "imports_module",
    "junit_passing",
    "module_names_used",
    "remove_definitions",
    "remove_self_checks",
    "stub_source",
]

EXAMPLE_MODULES = frozenset(
    {
        "math",
        "cmath",
        "re",
        "collections",
        "itertools",
        "functools",
        "operator",
        "string",
        "statistics",
        "fractions",
        "decimal",
        "heapq",
        "bisect",
    }
)
"""Standard modules a task's example may use (``math.isclose(f(1), 0.5)``); the test
made from the example imports them."""

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_THROW = "(_ for _ in ()).throw(NotImplementedError)"


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def defined_names(source: str) -> set[str]:
    """The top-level names ``source`` defines: functions, classes and assigned names."""
    tree = _parse(source)
    names: set[str] = set()
    for node in tree.body if tree else []:
        if isinstance(node, _DEFS):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def imports_module(source: str, module: str) -> bool:
    """True when ``source`` imports ``module`` (``import m``, ``from m import x``, anywhere)."""
    tree = _parse(source)
    for node in ast.walk(tree) if tree else []:
        if isinstance(node, ast.Import):
            if any(_is(alias.name, module) for alias in node.names):
                return True
        elif isinstance(node, ast.ImportFrom) and node.module:
            if _is(node.module, module):
                return True
            if any(f"{node.module}.{alias.name}" == module for alias in node.names):
                return True  # from pkg import solution
    return False


def _is(imported: str, module: str) -> bool:
    return imported == module or imported.startswith(module + ".")


def import_used(source: str, module: str, names: Collection[str]) -> tuple[str, list[str]]:
    """``source`` importing from ``module`` the ``names`` it uses but never defines.

    A model often writes tests that call the function under test without importing it
    (or with its own copy, since removed): ``from module import a, b`` goes after the
    file's docstring and ``__future__`` imports, so the tests run the solution's code.
    A name the file defines, imports or binds anywhere (a parameter, a loop variable)
    is left alone.

    Returns:
        The new text and the names imported (sorted); the text unchanged and ``[]``
        when it uses none of ``names`` freely or does not parse.
    """
    tree = _parse(source)
    if tree is None:
        return source, []
    loaded: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (*_DEFS, ast.arg)):
            bound.add(node.name if isinstance(node, _DEFS) else node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    used = sorted((loaded & set(names)) - bound)
    if not used or not all(part.isidentifier() for part in module.split(".")):
        return source, []
    after = 0  # the line after the docstring and the __future__ imports
    for index, stmt in enumerate(tree.body):
        docstring = (
            index == 0
            and isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
        )
        future = isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"
        if not (docstring or future):
            break
        after = stmt.end_lineno or stmt.lineno
    lines = source.splitlines(keepends=True)
    if after and lines[after - 1] and not lines[after - 1].endswith("\n"):
        lines[after - 1] += "\n"
    line = f"from {module} import {', '.join(used)}\n"
    return "".join([*lines[:after], line, *lines[after:]]), used


def remove_definitions(source: str, names: Collection[str]) -> tuple[str, list[str]]:
    """``source`` without its top-level functions and classes named in ``names``.

    Returns:
        The new text and the names removed (in order); the text unchanged and ``[]``
        when nothing is removed or it does not parse.
    """
    tree = _parse(source)
    if tree is None:
        return source, []
    drop: set[int] = set()
    removed: list[str] = []
    for node in tree.body:
        if isinstance(node, _DEFS) and node.name in names:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            drop.update(range(first, (node.end_lineno or node.lineno) + 1))
            removed.append(node.name)
    if not removed:
        return source, []
    lines = source.splitlines(keepends=True)
    kept = [line for number, line in enumerate(lines, start=1) if number not in drop]
    return "".join(kept), removed


def remove_self_checks(source: str) -> tuple[str, int]:
    """``source`` without its top-level checks; and how many were removed.

    Small models often end a solution with their own checks (``assert f(1) == 2``,
    or a ``test_f()`` they defined, called at top level): run on import, one wrong
    check stops every test at collection and the repair prompt shows an import
    error instead of the failed calls. Asserts inside functions, and the ``test_``
    functions themselves, are kept. The text is unchanged when it does not parse.
    """
    tree = _parse(source)
    if tree is None:
        return source, 0
    checks = [node for node in tree.body if isinstance(node, ast.Assert) or _calls_a_test(node)]
    if not checks:
        return source, 0
    drop = {n for node in checks for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)}
    lines = source.splitlines(keepends=True)
    kept = [line for number, line in enumerate(lines, start=1) if number not in drop]
    return "".join(kept).rstrip() + "\n", len(checks)


def _calls_a_test(node: ast.stmt) -> bool:
    """True for a top-level ``test_x()`` / ``check_x()`` call statement."""
    if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Call):
        return False
    func = node.value.func
    return isinstance(func, ast.Name) and func.id.startswith(("test", "check"))


class _Stubber(ast.NodeTransformer):
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.body = [*_docstring(node), _raise()]
        return node

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AsyncFunctionDef:
        node.body = [*_docstring(node), _raise()]
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.Lambda:
        # An expression that raises: a generator's throw().
        node.body = ast.parse(_THROW, mode="eval").body
        return node


def _docstring(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
    """The docstring kept (a policy may ask for one), not the code."""
    return node.body[:1] if ast.get_docstring(node, clean=False) is not None else []


def _raise() -> ast.stmt:
    return ast.Raise(exc=ast.Name("NotImplementedError", ast.Load()), cause=None)


def stub_source(source: str) -> str | None:
    """``source`` with every function's body (methods and lambdas too) raising.

    ``None`` when it does not parse or defines no function (a stub would be the code).
    """
    tree = _parse(source)
    if tree is None:
        return None
    if not any(isinstance(node, _FUNCS) for node in ast.walk(tree)):
        return None
    stubbed = ast.fix_missing_locations(_Stubber().visit(tree))
    return ast.unparse(stubbed) + "\n"


def junit_passing(text: str) -> set[str] | None:
    """The ids (``class::name``) of the tests a JUnit XML report shows passing.

    ``None`` when the report names no test case (nothing to compare per test).
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    cases = list(root.iter("testcase"))
    if not cases:
        return None
    bad = {"failure", "error", "skipped"}
    return {
        f"{case.get('classname', '')}::{case.get('name', '')}"
        for case in cases
        if not any(child.tag in bad for child in case)
    }


def called_names(expression: str | ast.AST) -> set[str]:
    """Plain names ``expression`` (text or a parsed tree) calls: ``f`` and ``g`` in
    ``f(g(x)) == len(x)`` (builtins too)."""
    if isinstance(expression, str):
        try:
            expression = ast.parse(expression, mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return set()
    return {
        n.func.id
        for n in ast.walk(expression)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }


def module_names_used(expressions: Collection[str]) -> set[str]:
    """The :data:`EXAMPLE_MODULES` the expressions use as ``module.attribute``."""
    used: set[str] = set()
    for text in expressions:
        try:
            tree = ast.parse(text, mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        used.update(
            n.value.id
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name)
            and n.value.id in EXAMPLE_MODULES
        )
    return used
