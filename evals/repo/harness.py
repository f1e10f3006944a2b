"""Run repository tasks through a solver, score each patch, and keep the results.

Example::

    from codeagent.evals.repo.harness import RepoEvalOptions, run_repo_eval

    run = run_repo_eval(RepoEvalOptions(dataset=Path("evals/pilot/tasks.jsonl"),
                                        mode="gold", split="all", out=Path("eval-out")))
    print(run.summary["resolved_pct"])

Each task's base is materialised afresh under ``OUT/work/MODE/ID/base`` for the
solver, and its patch saved next to it (``patch.diff``); the score comes from
another fresh copy and a fresh sandbox. Finished tasks are appended to
``OUT/repo-results-MODE.jsonl``, so ``resume=True`` skips what is done.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field

from codeagent.evals.harness import coder_model, content_tracing
from codeagent.evals.repo.materialize import materialize, verify_bases
from codeagent.evals.repo.metrics import summarize_repo
from codeagent.evals.repo.results import RepoMode, RepoResult, repo_results_path, repo_store
from codeagent.evals.repo.scoring import RepoScore, score_patch
from codeagent.evals.repo.solvers import (
    Solution,
    Solver,
    agent_solver,
    empty_solver,
    gold_solver,
    single_shot_solver,
)
from codeagent.evals.repo.task import RepoTask, load_tasks, select_tasks
from codeagent.graphs.builder import SandboxFactory, spec_sandbox
from codeagent.graphs.jobs.config import RunConfig, run_config
from codeagent.graphs.jobs.runner import preflight
from codeagent.graphs.workflow.loader import load_workflow
from codeagent.graphs.workflow.spec import WorkflowSpec
from codeagent.tools.errors import CodeAgentError, ConfigError
from codeagent.tools.sandbox.preflight import check_sandbox

__all__ = ["RepoEvalOptions", "RepoEvalRun", "run_repo_eval"]


class RepoEvalOptions(BaseModel):
    """What to evaluate and how (the ``codeagent eval`` options for a repository dataset)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: Path
    mode: RepoMode = "agent"
    split: Literal["pilot", "heldout", "all"] = "pilot"
    workflow: str = "repo-fix"
    limit: int | None = Field(default=None, gt=0)
    subset: Path | None = None
    workers: int = Field(default=1, ge=1, le=64)
    resume: bool = False
    out: Path = Path("eval-out")
    timeout_s: float = Field(default=300.0, gt=0)
    capture_content: bool = False  # agent mode: prompts and answers in each job's trace


@dataclass(frozen=True)
class RepoEvalRun:
    """A finished eval: every task's result (resumed ones included) and the aggregate."""

    options: RepoEvalOptions
    results: list[RepoResult]
    summary: dict[str, Any]
    results_file: Path


def run_repo_eval(
    options: RepoEvalOptions,
    *,
    chat_model: BaseChatModel | None = None,
    sandbox_factory: SandboxFactory | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_result: Callable[[RepoResult], None] | None = None,
    config: RunConfig | None = None,
) -> RepoEvalRun:
    """Evaluate the chosen tasks; results stream to ``OUT/repo-results-MODE.jsonl``.

    Args:
        options: Dataset, split, mode, workflow, workers, resume, output folder.
        chat_model: Use this model instead of the workflow's (e.g. a scripted one).
        sandbox_factory: Use this sandbox for the agent and for scoring (skips the
            sandbox check).
        on_start: Called once with (tasks to run now, tasks already done).
        on_result: Called with each task's result as it finishes.
        config: The checkpoint store of the agent's jobs.

    Raises:
        ConfigError: For a bad task file, split, subset or workflow, or a repository
            whose base no longer matches its ``base_commit`` (nothing is run).
        SandboxMissing: When the workflow's sandbox cannot run here.
    """
    tasks = select_tasks(
        load_tasks(options.dataset),
        split=options.split,
        limit=options.limit,
        subset=options.subset,
    )
    spec, wf_path = load_workflow(options.workflow)
    if sandbox_factory is None:
        check_sandbox(spec.sandbox.backend, spec.sandbox.image)
    if chat_model is None and options.mode in ("agent", "single-shot"):
        preflight(spec, wf_path.parent)
    verify_bases(tasks)
    solve = _solver(options, spec, wf_path, chat_model, sandbox_factory, config)
    scorer = sandbox_factory or spec_sandbox(spec)
    store = repo_store(repo_results_path(options.out, options.mode), resume=options.resume)
    done = store.load() if options.resume else {}
    todo = [t for t in tasks if t.instance_id not in done]
    if on_start is not None:
        on_start(len(todo), len(tasks) - len(todo))
    pool = ThreadPoolExecutor(max_workers=options.workers)
    try:
        futures = [pool.submit(_evaluate, options, task, solve, scorer) for task in todo]
        for future in as_completed(futures):
            result = future.result()
            store.append(result)
            done[result.instance_id] = result
            if on_result is not None:
                on_result(result)
    finally:  # on an interrupt, drop the queued tasks: --resume runs them later
        pool.shutdown(wait=False, cancel_futures=True)
    ordered = [done[t.instance_id] for t in tasks if t.instance_id in done]
    return RepoEvalRun(options, ordered, summarize_repo(ordered), store.path)


def _solver(
    options: RepoEvalOptions,
    spec: WorkflowSpec,
    wf_path: Path,
    chat_model: BaseChatModel | None,
    sandbox_factory: SandboxFactory | None,
    config: RunConfig | None,
) -> Solver:
    if options.mode == "gold":
        return gold_solver
    if options.mode == "empty":
        return empty_solver
    if options.mode == "single-shot":
        return single_shot_solver(chat_model or coder_model(spec, wf_path.parent))
    return agent_solver(
        wf_path,
        out=options.out,
        chat_model=chat_model,
        sandbox_factory=sandbox_factory,
        config=run_config(config),
        tracing=content_tracing(spec) if options.capture_content else None,
    )


def _evaluate(
    options: RepoEvalOptions, task: RepoTask, solve: Solver, scorer: SandboxFactory
) -> RepoResult:
    """Solve one task on a fresh base, then score its patch on another."""
    folder = options.out / "work" / options.mode / task.key
    shutil.rmtree(folder, ignore_errors=True)
    started = time.monotonic()
    try:
        solution = solve(task, materialize(task, folder / "base"))
    except ConfigError:
        raise
    except CodeAgentError as exc:
        solution = Solution("", "error", detail=str(exc)[:300])
    wall = round(time.monotonic() - started, 2)
    (folder / "patch.diff").write_text(solution.patch, encoding="utf-8")
    if solution.reply:  # what the single call answered, to see why its patch is what it is
        (folder / "reply.md").write_text(solution.reply, encoding="utf-8")
    try:
        score = score_patch(task, solution.patch, scorer, timeout_s=options.timeout_s)
    except ConfigError:
        raise
    except CodeAgentError as exc:
        score = RepoScore(False, False, f"scoring failed: {exc}"[:300])
    return _result(options, task, solution, score, wall)


def _result(
    options: RepoEvalOptions, task: RepoTask, solution: Solution, score: RepoScore, wall: float
) -> RepoResult:
    usage = solution.usage
    return RepoResult(
        instance_id=task.instance_id,
        mode=options.mode,
        kind=task.kind,
        split=task.split,
        repo=task.repo,
        resolved=score.resolved,
        applied=score.applied,
        status=solution.status,
        failed=list(score.failed),
        regressions=list(score.regressions),
        discarded=list(score.discarded),
        patch_files=len(score.stats.files),
        patch_added=score.stats.added,
        patch_removed=score.stats.removed,
        patch_bytes=score.stats.bytes,
        wall_s=wall,
        score_s=score.duration_s,
        calls=int(usage.get("calls", 0)),
        input_tokens=int(usage.get("input_tokens", 0)),
        output_tokens=int(usage.get("output_tokens", 0)),
        attempts=solution.attempts,
        detail="; ".join(d for d in (solution.detail, score.detail) if d)[:500],
    )
