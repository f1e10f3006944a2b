"""Per-problem results and their JSONL store (one line per finished problem, so runs resume)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from codeagent.graphs.jobs.result_log import ResultLog
from codeagent.graphs.jobs.results import RunResult

__all__ = [
    "Mode",
    "ProblemResult",
    "agent_fields",
    "read_results",
    "result_store",
    "results_path",
]

Mode = Literal["agent", "single-shot", "samples"]


class ProblemResult(BaseModel):
    """What one problem gave in one mode.

    Attributes:
        task_id: The problem.
        mode: ``agent``, ``single-shot`` or ``samples``.
        passed: The hidden tests passed (pass@1).
        status: The job's final status (``success``, ``failed``, ...; ``answered`` for
            single-shot, ``error`` when the run crashed).
        own_passed: Tests of the agent's own that passed on its final files (effective:
            vacuous tests, which pass against a stub of the code too, not counted).
        own_vacuous: Tests of the agent's own that passed against a stub of the code.
        own_total: Tests of the agent's own that ran.
        own_ok: The agent's own tests were all green (None: it had none).
        own_coverage: Line coverage of its own tests, percent (None: unknown).
        wall_s: Seconds the problem took, hidden scoring excluded.
        calls: Model calls.
        input_tokens: Prompt tokens.
        output_tokens: Completion tokens.
        attempts: Coder runs.
        detail: Why the hidden tests failed, or the run's error.
        draws_hidden: ``samples`` mode: whether each draw passed the hidden tests
            (:mod:`codeagent.evals.samples`).
        draws_examples: ``samples`` mode: whether each draw passed the task's examples
            (None: the task shows none).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    task_id: str
    mode: Mode
    passed: bool
    status: str
    own_passed: int = 0
    own_vacuous: int = 0
    own_total: int = 0
    own_ok: bool | None = None
    own_coverage: float | None = None
    wall_s: float = 0.0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    attempts: int = 0
    detail: str = ""
    draws_hidden: list[bool] = Field(default_factory=list)
    draws_examples: list[bool | None] = Field(default_factory=list)


def agent_fields(result: RunResult) -> dict[str, Any]:
    """The :class:`ProblemResult` fields an agent job's result gives (pure; ``passed``,
    ``wall_s`` and the hidden-test ``detail`` come from scoring)."""
    report = result.test_report or {}
    usage = result.usage
    fields: dict[str, Any] = {
        "status": result.status,
        "own_passed": int(report.get("passed", 0)),
        "own_vacuous": int(report.get("vacuous", 0)),
        "own_total": int(report.get("total", 0)),
        "own_ok": bool(report.get("ok")) if report else None,
        "own_coverage": report.get("coverage"),
        "calls": usage.get("calls", 0),
        "input_tokens": usage.get("input_tokens", 0),
        "output_tokens": usage.get("output_tokens", 0),
        "attempts": result.attempts,
    }
    if result.error:
        fields["detail"] = result.error[:300]
    return fields


def results_path(out: Path, mode: str) -> Path:
    """The JSONL file of ``mode``'s results in the eval folder ``out``."""
    return out / f"results-{mode}.jsonl"


def result_store(path: Path, *, resume: bool) -> ResultLog[ProblemResult]:
    """The JSONL store of :class:`ProblemResult` (thread-safe; flushed per line).

    Args:
        path: The JSONL file.
        resume: Keep the results already there (else the file is started afresh).
    """
    return ResultLog(
        path,
        key=lambda r: r.task_id,
        decode=ProblemResult.model_validate,
        encode=ProblemResult.model_dump_json,
        fresh=not resume,
    )


def read_results(path: Path) -> list[ProblemResult]:
    """Every valid result line in ``path`` (later lines win for a repeated task id)."""
    return list(result_store(path, resume=True).load().values())
