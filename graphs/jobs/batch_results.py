"""What a batch writes: one :class:`BatchResult` per task, in a resumable results file.

Both engines of :func:`~codeagent.graphs.jobs.batch.run_batch` (``local`` threads and
``celery`` workers) turn a job's :class:`RunResult` into the same line with
:func:`batch_summary`, so a results file reads the same whichever ran it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from codeagent.graphs.jobs.result_log import ResultLog
from codeagent.graphs.jobs.results import RunResult

__all__ = ["FINAL_STATUSES", "BatchResult", "batch_result_log", "batch_summary"]

FINAL_STATUSES = frozenset({"success", "failed", "budget_exceeded"})


@dataclass(frozen=True)
class BatchResult:
    """One line of the results file."""

    id: str
    status: str
    task: str
    workflow: str
    thread_id: str | None = None
    attempts: int = 0
    passed: int = 0
    total: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    out_dir: str | None = None
    error: str | None = None
    seconds: float = 0.0
    skipped: bool = False  # True when an earlier run of the batch had finished it

    @property
    def ok(self) -> bool:
        """True when the task succeeded."""
        return self.status == "success"

    def to_json(self) -> dict[str, Any]:
        """The JSON form written to the results file."""
        data = asdict(self)
        data.pop("skipped")
        return data


def batch_result_log(path: Path) -> ResultLog[BatchResult]:
    """A batch's results file; loading it gives the tasks that finished (not ``error``)."""
    return ResultLog(path, key=lambda r: r.id, decode=_finished, encode=_line)


def _finished(data: dict[str, Any]) -> BatchResult | None:
    result = BatchResult(**data, skipped=True)
    return result if result.status in FINAL_STATUSES else None


def _line(result: BatchResult) -> str:
    return json.dumps(result.to_json(), ensure_ascii=False)


def batch_summary(
    task_id: str, task: str, workflow: str, result: RunResult, seconds: float
) -> BatchResult:
    """The results-file line of a task whose job ran (pure)."""
    report = result.test_report or {}
    return BatchResult(
        id=task_id,
        status=result.status,
        task=task,
        workflow=workflow,
        thread_id=result.thread_id,
        attempts=result.attempts,
        passed=int(report.get("passed", 0)),
        total=int(report.get("total", 0)),
        usage=dict(result.usage),
        out_dir=result.out_dir,
        error=result.error,
        seconds=round(seconds, 3),
    )
