"""A history entry: one test run of an attempt, appended to the job's ``history``.

The history is what best-so-far (``best_attempt``) and the rollback gate read: which
files, at which attempt and plan version, got which test results.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

__all__ = ["HistoryEntry", "history_entry"]


class HistoryEntry(TypedDict):
    """One test run of the job's files.

    Keys:
        attempt: The coder's attempt the files came from.
        plan_version: The plan they followed.
        files: The solution files that were tested.
        tests: The test files that ran.
        report: The test report (``TestReport.to_state()``) without its ``output``.
        seconds: How long the run took.
    """

    attempt: int
    plan_version: int
    files: dict[str, str]
    tests: dict[str, str]
    report: dict[str, Any]
    seconds: float


def history_entry(
    state: Mapping[str, Any],
    tests: dict[str, str],
    report: Mapping[str, Any],
    seconds: float = 0.0,
) -> HistoryEntry:
    """The entry for a test run of ``state``'s files against ``tests``.

    Args:
        state: The job state before the run (its attempt, plan version and files).
        tests: The tests that ran.
        report: The run's report as kept in state; its ``output`` is left out, as the
            history keeps every run and only the last output is shown to a model.
        seconds: How long the run took.
    """
    return HistoryEntry(
        attempt=int(state.get("attempt", 0)),
        plan_version=int(state.get("plan_version", 0)),
        files=dict(state.get("files") or {}),
        tests=dict(tests),
        report={k: v for k, v in report.items() if k != "output"},
        seconds=round(seconds, 3),
    )
