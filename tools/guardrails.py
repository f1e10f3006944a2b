"""Guardrails: a workflow's policy, checked on plans and generated code before anything runs.

These are static checks that catch a model going somewhere the task forbids
(network or subprocess use, too many or too large files). They are not a
security boundary: the sandbox is. Python code is checked on its syntax tree;
JavaScript's imports (``require``, ``import``) by their module names; other
languages, and JavaScript's calls, on their file list and sizes only.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from codeagent.tools.errors import SandboxError
from codeagent.tools.workspace import safe_relpath

__all__ = ["Policy", "check_code", "check_plan"]


@dataclass(frozen=True)
class Policy:
    """What generated work may contain.

    Attributes:
        forbidden_imports: Top-level modules that must not be imported (e.g. ``socket``).
        forbidden_calls: Functions that must not be called, by name or dotted name
            (``eval``, ``os.system``, ``subprocess.run``).
        max_files: Most source files a plan or an answer may have.
        max_file_bytes: Largest source file, in bytes.
    """

    forbidden_imports: tuple[str, ...] = ()
    forbidden_calls: tuple[str, ...] = ()
    max_files: int | None = None
    max_file_bytes: int | None = None


def check_plan(files: Iterable[str], policy: Policy) -> list[str]:
    """Violations in a plan's file list (pure)."""
    names = list(files)
    problems = _paths(names)
    if policy.max_files is not None and len(names) > policy.max_files:
        problems.append(f"the plan has {len(names)} files; the policy allows {policy.max_files}")
    return problems


def check_code(files: Mapping[str, str], policy: Policy) -> list[str]:
    """Violations in generated source files (pure)."""
    problems = check_plan(files, policy)
    for path, text in files.items():
        size = len(text.encode("utf-8"))
        if policy.max_file_bytes is not None and size > policy.max_file_bytes:
            problems.append(f"{path} is {size} bytes; the policy allows {policy.max_file_bytes}")
        if path.endswith(".py"):
            problems += [f"{path}: {p}" for p in _python(text, policy)]
        elif path.endswith(_JS_SUFFIXES):
            problems += [f"{path}: {p}" for p in _javascript(text, policy)]
    return problems


def _paths(names: list[str]) -> list[str]:
    problems = []
    for name in names:
        try:
            safe_relpath(name)
        except SandboxError:
            problems.append(f"{name!r} is outside the workspace")
    return problems


@lru_cache(maxsize=256)  # the same files are checked before every test run of a job
def _python(text: str, policy: Policy) -> tuple[str, ...]:
    if not (policy.forbidden_imports or policy.forbidden_calls):
        return ()
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return ()  # the test run reports it, with the line
    banned_modules = set(policy.forbidden_imports)
    banned_calls = set(policy.forbidden_calls)
    problems = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        for module in modules:
            if module.split(".")[0] in banned_modules:
                problems.append(f"line {line}: imports {module}, which the policy forbids")
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name and (name in banned_calls or name.split(".")[-1] in banned_calls):
                problems.append(f"line {line}: calls {name}, which the policy forbids")
    return tuple(problems)


_JS_SUFFIXES = (".js", ".mjs", ".cjs")
_JS_IMPORT = re.compile(
    r"""(?:\brequire\s*\(\s*|\bimport\s*\(\s*|\bfrom\s*|^\s*import\s*)(['"`])([^'"`\n]+)\1""",
    re.MULTILINE,
)


def _javascript(text: str, policy: Policy) -> list[str]:
    """Forbidden modules in ``require(...)``, ``import ... from ...`` and ``import(...)``."""
    if not policy.forbidden_imports:
        return []
    banned = set(policy.forbidden_imports)
    problems = []
    for match in _JS_IMPORT.finditer(text):
        module = match.group(2).removeprefix("node:")
        parts = module.split("/")
        top = "/".join(parts[:2]) if module.startswith("@") else parts[0]
        if top in banned:
            line = text.count("\n", 0, match.start()) + 1
            problems.append(f"line {line}: imports {module}, which the policy forbids")
    return problems


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return None
