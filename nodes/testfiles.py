"""Test files: from a model's answer, and the module the tests import (pure)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from nodes.parsing import code_blocks, files_from_blocks
from tools.languages import LanguageAdapter
from tools.workspace import safe_relpath

if TYPE_CHECKING:
    from graphs.state import AgentState

__all__ = ["solution_module", "tests_from_answer"]


def tests_from_answer(text: str, language: LanguageAdapter) -> dict[str, str]:
    """The test files in a model's answer; a block not named as a test gets the default name."""
    files = files_from_blocks(
        code_blocks(text), language.default_test_path(), language.source_suffix
    )
    tests = {}
    for path, body in files.items():
        name = PurePosixPath(path).name
        rel = name if language.is_test_file(name) else language.default_test_path()
        tests[safe_relpath(rel)] = body
    return tests


def solution_module(state: AgentState, language: LanguageAdapter) -> str:
    """The import name of the plan's first file (``solution`` for ``solution.py``)."""
    files = (state.get("plan") or {}).get("files") or [language.default_source_path()]
    return PurePosixPath(files[0]).with_suffix("").as_posix().replace("/", ".")
