"""Test files: from a model's answer, and the module the tests import (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from codeagent.nodes.parsing import code_blocks, files_from_blocks
from codeagent.nodes.stated import stated_names
from codeagent.tools.contracts.plan import planned_files
from codeagent.tools.languages import LanguageAdapter, import_linking, source_analysis
from codeagent.tools.workspace import safe_relpath

if TYPE_CHECKING:
    from codeagent.tools.contracts.state import AgentState

__all__ = [
    "Screened",
    "complete_prefix",
    "module_name",
    "screen_tests",
    "solution_files",
    "solution_module",
    "solution_modules",
    "source_path",
    "tests_from_answer",
]


def tests_from_answer(text: str, language: LanguageAdapter) -> dict[str, str]:
    """The test files in a model's answer; a block not named as a test gets the default name."""
    files = files_from_blocks(
        code_blocks(text), language.default_test_path(), language.source_suffix
    )
    tests = {}
    for path, body in files.items():
        name = PurePosixPath(path).name
        rel = name if language.is_test_file(name) else language.default_test_path()
        tests[safe_relpath(rel)] = complete_prefix(body, language, rel)
    return tests


def complete_prefix(source: str, language: LanguageAdapter, path: str | None = None) -> str:
    """A test file cut off mid-statement (the model ran out of tokens), cut back to parse.

    Drops trailing lines (at most 50) until the rest parses and still holds a test,
    so the complete tests before the cut run instead of the whole file failing to
    import. A syntax error further up than that, or a file with no test before it,
    leaves the file unchanged (the test run then reports the error). Whether a text
    parses and holds a test is the language's
    (:meth:`~codeagent.tools.languages.LanguageAdapter.syntax_error`,
    :meth:`~codeagent.tools.languages.LanguageAdapter.has_tests`); a language
    without a syntax check keeps its files as they are.
    """
    path = path or language.default_test_path()

    def parses(text: str) -> bool:
        return language.syntax_error(path, text) is None

    if parses(source):
        return source
    lines = source.splitlines()
    for end in range(len(lines) - 1, max(0, len(lines) - 50), -1):
        prefix = "\n".join(lines[:end]).rstrip() + "\n"
        if language.has_tests(prefix) and parses(prefix):
            return prefix
    return source


def solution_files(state: AgentState, language: LanguageAdapter) -> list[str]:
    """The solution files: the plan's, else the task's stated one, else the default.

    Without a plan (workflows with no planner) the file the task names (``pal.py`` in
    "... in pal.py") wins over the language's default name (``solution.py``).
    """
    stated = stated_names(state.get("task") or "", language).files
    return planned_files(state.get("plan"), language, default=stated[0] if stated else None)


def source_path(state: AgentState, language: LanguageAdapter) -> str:
    """The main source file (the first of :func:`solution_files`)."""
    return solution_files(state, language)[0]


def module_name(path: str) -> str:
    """The import name of a source file (``pkg.mod`` for ``pkg/mod.py``)."""
    return PurePosixPath(path).with_suffix("").as_posix().replace("/", ".")


def solution_module(state: AgentState, language: LanguageAdapter) -> str:
    """The import name of the main source file (``solution`` for ``solution.py``)."""
    return module_name(source_path(state, language))


def solution_modules(state: AgentState, language: LanguageAdapter) -> list[str]:
    """The import names of the job's solution files; the plan's module when there are none."""
    modules = [
        module_name(path)
        for path in state.get("files") or {}
        if path.endswith(language.source_suffix) and not language.is_test_file(path)
    ]
    return modules or [solution_module(state, language)]


@dataclass(frozen=True)
class Screened:
    """Model-written test files after :func:`screen_tests`.

    Attributes:
        tests: The files, without their own copies of the solution's definitions.
        unlinked: Files holding tests that import none of the solution's modules.
        notes: What was changed, one line per file (for the test report).
    """

    tests: dict[str, str]
    unlinked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def screen_tests(
    tests: Mapping[str, str],
    language: LanguageAdapter,
    solution: Mapping[str, str],
    modules: Sequence[str],
    stated: Sequence[str] = (),
) -> Screened:
    """Make model-written tests test the code, not a copy of it (pure).

    A test file defining a name the ``solution`` files define (its own copy of the
    function under test) has that definition removed, so the test uses the
    solution's; so is one defining a function the task names (``stated``), which
    matters when the tests are written before any code (the tdd workflow). A file
    with tests that imports none of ``modules`` but uses those names gets the import
    (``from solution import f``) where the language can add it
    (:class:`~codeagent.tools.languages.ImportLinking`); one that still imports none of
    them is listed in ``unlinked``. A language without
    :class:`~codeagent.tools.languages.SourceAnalysis` keeps its files as they are.
    """
    analysis = source_analysis(language)
    if analysis is None:
        return Screened(dict(tests))
    owners: dict[str, str] = {}  # a name the tests may call -> the module defining it
    for path, text in solution.items():
        if path.endswith(language.source_suffix) and not language.is_test_file(path):
            defined = analysis.defined_names(text) - set(owners)
            owners.update(dict.fromkeys(defined, module_name(path)))
    if modules:
        owners.update({name: modules[0] for name in stated if name not in owners})
    names = set(owners) | set(stated)
    kept: dict[str, str] = {}
    unlinked: list[str] = []
    notes: list[str] = []
    for path, text in tests.items():
        text, removed = analysis.remove_definitions(text, names) if names else (text, [])
        if removed:
            notes.append(
                f"{path}: removed its own copy of {', '.join(removed)} "
                "(the tests now use the solution's)"
            )
        if language.has_tests(text) and not any(analysis.imports_module(text, m) for m in modules):
            text, imported = _link(text, language, owners)
            if imported:
                notes.append(
                    f"{path}: added {'; '.join(imported)} (its tests used the solution's "
                    "names without importing them)"
                )
            else:
                unlinked.append(path)
        kept[path] = text
    return Screened(kept, unlinked, notes)


def _link(text: str, language: LanguageAdapter, owners: Mapping[str, str]) -> tuple[str, list[str]]:
    """``text`` importing the ``owners`` names it uses from their modules; what was added."""
    linker = import_linking(language)
    if linker is None:
        return text, []
    added: list[str] = []
    for module in reversed(dict.fromkeys(owners.values())):  # each goes above the last
        wanted = [name for name, owner in owners.items() if owner == module]
        text, imported = linker.import_used(text, module, wanted)
        if imported:
            added.insert(0, f"from {module} import {', '.join(imported)}")
    return text, added
