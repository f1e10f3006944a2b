"""Per-problem results and their JSONL store (one line per finished problem, so runs resume)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = ["Mode", "ProblemResult", "ResultStore", "read_results", "results_path"]

Mode = Literal["agent", "single-shot"]


class ProblemResult(BaseModel):
    """What one problem gave in one mode.

    Attributes:
        task_id: The problem.
        mode: ``agent`` or ``single-shot``.
        passed: The hidden tests passed (pass@1).
        status: The job's final status (``success``, ``failed``, ...; ``answered`` for
            single-shot, ``error`` when the run crashed).
        own_passed: Tests of the agent's own that passed on its final files.
        own_total: Tests of the agent's own that ran.
        own_ok: The agent's own tests were all green (None: it had none).
        own_coverage: Line coverage of its own tests, percent (None: unknown).
        wall_s: Seconds the problem took, hidden scoring excluded.
        calls: Model calls.
        input_tokens: Prompt tokens.
        output_tokens: Completion tokens.
        attempts: Coder runs.
        detail: Why the hidden tests failed, or the run's error.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    task_id: str
    mode: Mode
    passed: bool
    status: str
    own_passed: int = 0
    own_total: int = 0
    own_ok: bool | None = None
    own_coverage: float | None = None
    wall_s: float = 0.0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    attempts: int = 0
    detail: str = ""


def results_path(out: Path, mode: str) -> Path:
    """The JSONL file of ``mode``'s results in the eval folder ``out``."""
    return out / f"results-{mode}.jsonl"


class ResultStore:
    """Append-only JSONL of :class:`ProblemResult` (thread-safe; flushed per line).

    Args:
        path: The JSONL file.
        resume: Keep the results already there (else the file is started afresh).
    """

    def __init__(self, path: Path, *, resume: bool) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        if not resume:
            path.write_text("", encoding="utf-8")

    def load(self) -> dict[str, ProblemResult]:
        """Results already stored, by task id (a torn last line is skipped)."""
        return {r.task_id: r for r in read_results(self.path)}

    def append(self, result: ProblemResult) -> None:
        """Store one result."""
        line = result.model_dump_json() + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()


def read_results(path: Path) -> list[ProblemResult]:
    """Every valid result line in ``path`` (later lines win for a repeated task id)."""
    if not path.exists():
        return []
    found: dict[str, ProblemResult] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            result = ProblemResult.model_validate(json.loads(line))
        except (ValueError, ValidationError):
            continue  # a line torn by an interrupt
        found[result.task_id] = result
    return list(found.values())
