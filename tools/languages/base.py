"""The language-adapter seam: naming, test command and report parsing per language."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from codeagent.tools.sandbox.protocol import ExecResult

__all__ = ["LanguageAdapter", "TestReport"]


@dataclass(frozen=True)
class TestReport:
    """Outcome of one test run, as stored in the job state.

    Attributes:
        passed: Tests that passed.
        failed: Tests that failed an assertion.
        errors: Tests (or collection) that crashed.
        total: All tests that ran.
        coverage: Line coverage of the non-test files in percent, when measured.
        output: Test runner output, trimmed to what a model can use.
        exit_code: Exit status of the test command.
        timed_out: True when the run was killed on time.
    """

    __test__ = False  # not a pytest class

    passed: int
    failed: int
    errors: int
    total: int
    coverage: float | None
    output: str
    exit_code: int
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """True when at least one test ran and none failed or crashed."""
        return self.total > 0 and self.failed == 0 and self.errors == 0 and not self.timed_out

    def to_state(self) -> dict[str, Any]:
        """The JSON-serialisable form kept in the job state."""
        data = asdict(self)
        data["ok"] = self.ok
        return data


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
