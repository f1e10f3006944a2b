"""The test report: what one test run found, as language adapters parse it and state keeps it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["TestReport"]


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
