"""The file and function names a task states, read from its text (pure).

Asked for "``is_palindrome(s: str) -> bool`` in pal.py", a small model follows the
prompt's example name (``solution.py``) over the task. The names the task states
are read here, deterministically, and bind the plan (:func:`bind_plan`) and the
coder's default file (:func:`codeagent.nodes.testfiles.source_path`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from codeagent.tools.errors import SandboxError
from codeagent.tools.languages import LanguageAdapter
from codeagent.tools.workspace import safe_relpath

__all__ = ["StatedNames", "bind_plan", "function_step", "stated_names"]

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
# name(params) with a type annotation or a return arrow: is_palindrome(s: str) -> bool
_SIGNATURE = re.compile(rf"(?<![\w.])({_IDENT})\s*\(([^()\n]*)\)\s*(->)?")
# def name( / function name( / `name(...)`
_DEFINED = re.compile(rf"(?:\bdef|\bfunction|`)\s*({_IDENT})\s*\(")
# write slugify(title) / implement add(a, b)
_WRITE = re.compile(rf"\b(?:[Ww]rite|[Ii]mplement|[Cc]reate|[Dd]efine)\s+`?({_IDENT})\s*\(")
# "a function `slugify`", "function called slugify", "the function named slugify"
_NAMED = re.compile(rf"\bfunction\s+(?:called\s+|named\s+)?`?({_IDENT})`?")
_NOT_NAMES = frozenset(
    {
        "that",
        "which",
        "to",
        "in",
        "and",
        "or",
        "the",
        "a",
        "an",
        "with",
        "for",
        "of",
        "is",
        "should",
        "must",
        "will",
        "returns",
        "return",
        "takes",
        "def",
        "function",
        "print",
    }
)


@dataclass(frozen=True)
class StatedNames:
    """Names a task states.

    Attributes:
        files: Source files named in the task, in order of first mention.
        functions: Function names from signatures or "a function ``name``", in order.
    """

    files: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()


def stated_names(task: str, language: LanguageAdapter) -> StatedNames:
    """The source files (by the language's suffix) and functions the task names."""
    return StatedNames(_files(task, language), _functions(task))


def _files(task: str, language: LanguageAdapter) -> tuple[str, ...]:
    suffix = re.escape(language.source_suffix)
    pattern = re.compile(rf"(?<![\w./:@-])((?:[\w-]+/)*[\w-]+{suffix})(?![\w])")
    found: list[str] = []
    for match in pattern.finditer(task):
        path = match.group(1)
        try:
            path = safe_relpath(path)
        except SandboxError:  # an unsafe path is just not a stated name
            continue
        if not language.is_test_file(path) and path not in found:
            found.append(path)
    return tuple(found)


def _functions(task: str) -> tuple[str, ...]:
    hits: list[tuple[int, str]] = []
    for match in _SIGNATURE.finditer(task):
        params, arrow = match.group(2), match.group(3)
        if arrow or ":" in params:
            hits.append((match.start(), match.group(1)))
    for pattern in (_DEFINED, _WRITE, _NAMED):
        hits.extend((m.start(1), m.group(1)) for m in pattern.finditer(task))
    names: list[str] = []
    for _, name in sorted(hits):
        if name.lower() not in _NOT_NAMES and name not in names:
            names.append(name)
    return tuple(names)


def bind_plan(files: list[str], stated: StatedNames, default: str) -> list[str]:
    """A plan's files with the task's stated files first.

    The language's default name (``solution.py``), which only the prompt suggested,
    is dropped when the task states its own files; other files the plan adds stay.
    """
    if not stated.files:
        return files
    rest = [f for f in files if f not in stated.files and f != default]
    return [*stated.files, *rest]


def function_step(plan: dict[str, Any], stated: StatedNames) -> list[str]:
    """The plan's steps, with one naming the task's functions when no step or summary does."""
    steps = list(plan.get("steps") or [])
    text = " ".join([str(plan.get("summary", "")), *steps])
    missing = [name for name in stated.functions if name not in text]
    if missing:
        names = ", ".join(missing)
        steps.insert(0, f"define {names} with exactly the name and parameters the task gives")
    return steps
