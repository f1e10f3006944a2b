"""The language-adapter seam: naming, test command and report parsing per language."""

from __future__ import annotations

from typing import Protocol

from codeagent.tools.contracts.report import TestReport
from codeagent.tools.sandbox.protocol import ExecResult

__all__ = ["LanguageAdapter", "TestReport"]


class LanguageAdapter(Protocol):
    """What the graph needs to know about one language."""

    name: str
    source_suffix: str
    fence: str

    def default_source_path(self) -> str:
        """File name for a single-file solution."""
        ...

    def default_test_path(self) -> str:
        """File name for the generated tests."""
        ...

    def examples_test_path(self) -> str:
        """File name for the tests made from the task's own examples."""
        ...

    def is_test_file(self, path: str) -> bool:
        """True when ``path`` is a test file by this language's convention."""
        ...

    def test_command(self) -> list[str]:
        """argv that runs all tests with coverage and leaves the report files."""
        ...

    def report_paths(self) -> list[str]:
        """Workspace files the test command leaves for :meth:`parse_report`."""
        ...

    def parse_report(self, result: ExecResult, reports: dict[str, str]) -> TestReport:
        """Turn the command result and report files into a :class:`TestReport`."""
        ...

    def examples_to_tests(self, examples: list[tuple[str, str]], module: str) -> str:
        """Test-file text asserting each ``(expression, expected)`` example."""
        ...

    def syntax_error(self, path: str, source: str) -> str | None:
        """Why ``source`` cannot even be parsed (an answer cut off mid-code), else ``None``.

        Only a check that needs no tool run; ``None`` when the language has none.
        """
        ...
