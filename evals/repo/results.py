"""Per-task results of a repository eval and their JSONL store (one line per finished task)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from codeagent.graphs.jobs.result_log import ResultLog

__all__ = [
    "MODES",
    "RepoMode",
    "RepoResult",
    "read_repo_results",
    "repo_results_path",
    "repo_store",
]

RepoMode = Literal["agent", "single-shot", "gold", "empty"]
MODES: tuple[RepoMode, ...] = ("empty", "gold", "single-shot", "agent")


class RepoResult(BaseModel):
    """What one task gave in one mode.

    Attributes:
        instance_id: The task.
        mode: ``agent``, ``single-shot``, ``gold`` or ``empty``.
        kind: The task's kind (bugfix_test, bugfix_report, feature, tests).
        split: ``pilot`` or ``heldout``.
        repo: The task's ``repo`` as written.
        resolved: The task is solved (see :mod:`codeagent.evals.repo.scoring`).
        applied: The patch applied.
        status: The solver's status (``success``, ``failed``, ... for the agent;
            ``answered``, ``gold``, ``empty``; ``error`` when solving or scoring broke).
        failed: FAIL_TO_PASS ids that did not pass (tests tasks: new tests failing).
        regressions: PASS_TO_PASS ids that did not pass.
        discarded: Paths of the patch dropped before scoring.
        patch_files: Files the patch touches.
        patch_added: Lines it adds.
        patch_removed: Lines it removes.
        patch_bytes: Its size in bytes.
        wall_s: Seconds the solver took (scoring excluded).
        score_s: Seconds the scoring took.
        calls: Model calls.
        input_tokens: Prompt tokens.
        output_tokens: Completion tokens.
        attempts: Coder runs.
        detail: Why it is not resolved, or what went wrong.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    instance_id: str
    mode: RepoMode
    kind: str
    split: str
    repo: str
    resolved: bool
    applied: bool = True
    status: str = ""
    failed: list[str] = Field(default_factory=list)
    regressions: list[str] = Field(default_factory=list)
    discarded: list[str] = Field(default_factory=list)
    patch_files: int = 0
    patch_added: int = 0
    patch_removed: int = 0
    patch_bytes: int = 0
    wall_s: float = 0.0
    score_s: float = 0.0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    attempts: int = 0
    detail: str = ""

    @property
    def passed(self) -> bool:
        """Same as ``resolved`` (what a progress bar counts)."""
        return self.resolved


def repo_results_path(out: Path, mode: str) -> Path:
    """The JSONL file of ``mode``'s repository results in the eval folder ``out``."""
    return out / f"repo-results-{mode}.jsonl"


def repo_store(path: Path, *, resume: bool) -> ResultLog[RepoResult]:
    """The JSONL store of :class:`RepoResult` (thread-safe; flushed per line)."""
    return ResultLog(
        path,
        key=lambda r: r.instance_id,
        decode=RepoResult.model_validate,
        encode=RepoResult.model_dump_json,
        fresh=not resume,
    )


def read_repo_results(path: Path) -> list[RepoResult]:
    """Every valid result line in ``path`` (later lines win for a repeated id)."""
    return list(repo_store(path, resume=True).load().values())
