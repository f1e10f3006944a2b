"""The test report: what one test run found, as language adapters parse it and state keeps it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["TestReport", "discount_vacuous", "dispute_failures"]


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


def discount_vacuous(report: Mapping[str, Any], vacuous: Sequence[str]) -> dict[str, Any]:
    """``report`` (state form) with the ``vacuous`` tests no longer counted as passed.

    A vacuous test is one that still passes when every function of the solution is
    replaced by a stub that raises: it exercises nothing. The result keeps the raw
    count (``raw_passed``), the number and names of the vacuous tests, makes ``passed``
    the effective passes, and is not ``ok`` when no test passes for real.
    """
    raw = int(report.get("passed", 0))
    passed = max(0, raw - len(vacuous))
    return {
        **report,
        "raw_passed": raw,
        "passed": passed,
        "vacuous": len(vacuous),
        "vacuous_tests": list(vacuous)[:20],
        "ok": bool(report.get("ok")) and passed > 0,
    }


def dispute_failures(report: Mapping[str, Any], agreeing: int) -> dict[str, Any]:
    """``report`` (state form) with its failed tests set aside as disputed.

    For model-written tests that the kept code and ``agreeing`` other candidates
    (which behave as it does on the probes) all fail, the same tests each: the
    candidates' agreement outweighs the model's expected values. The failed tests
    no longer count (``total`` drops by as many; ``disputed`` says how many, and
    ``disputed_failures`` keeps their summaries); the run is ``ok`` only when a test
    still passes and nothing crashed.
    """
    failed = int(report.get("failed", 0))
    passed = int(report.get("passed", 0))
    crashed = bool(report.get("errors")) or bool(report.get("timed_out"))
    return {
        **report,
        "failed": 0,
        "total": int(report.get("total", 0)) - failed,
        "disputed": failed,
        "disputed_by": agreeing,
        "disputed_failures": list(report.get("failures") or []),
        "failures": [],
        "ok": passed > 0 and not crashed,
    }
