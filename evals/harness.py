"""Run a dataset through the agent (``run_job``) or a single-shot baseline, then score it.

Example::

    from codeagent.evals.harness import EvalOptions, run_eval

    run = run_eval(EvalOptions(dataset="humaneval", mode="single-shot", limit=5,
                               workflow="my-local.yaml", out=Path("eval-out")))
    print(run.summary["pass_at_1"])

The agent sees only the problem's prompt; the hidden tests run afterwards, in a
fresh sandbox, to score. Each finished problem is appended to
``OUT/results-MODE.jsonl``, so ``resume=True`` skips what is done.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field

from codeagent.evals.datasets import Problem, load_dataset, select
from codeagent.evals.metrics import summarize
from codeagent.evals.results import Mode, ProblemResult, result_store, results_path
from codeagent.evals.scoring import score_hidden
from codeagent.evals.tasks import extract_code, single_shot_prompt, task_text
from codeagent.graphs.builder import SandboxFactory, spec_sandbox
from codeagent.graphs.jobs.config import RunConfig, run_config
from codeagent.graphs.jobs.runner import preflight, run_job
from codeagent.graphs.workflow.loader import load_workflow
from codeagent.graphs.workflow.spec import WorkflowSpec
from codeagent.nodes.registry import describe_node
from codeagent.tools.errors import CodeAgentError, ConfigError
from codeagent.tools.models.llm import ask_text, build_chat_model
from codeagent.tools.workspace import write_tree

__all__ = ["EvalOptions", "EvalRun", "coder_model", "run_eval"]


class EvalOptions(BaseModel):
    """What to evaluate and how (the ``codeagent eval`` options)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str = "humaneval"
    mode: Mode = "agent"
    workflow: str = "default"
    limit: int | None = Field(default=None, gt=0)
    subset: Path | None = None
    workers: int = Field(default=1, ge=1, le=64)
    resume: bool = False
    out: Path = Path("eval-out")
    hidden_timeout_s: float = Field(default=20.0, gt=0)


@dataclass(frozen=True)
class EvalRun:
    """A finished eval: every problem's result (resumed ones included) and the aggregate."""

    options: EvalOptions
    results: list[ProblemResult]
    summary: dict[str, Any]
    results_file: Path


@dataclass(frozen=True)
class _Env:
    options: EvalOptions
    workflow: Path
    spec: WorkflowSpec
    chat_model: BaseChatModel | None
    sandbox: SandboxFactory
    override_sandbox: SandboxFactory | None
    config: RunConfig  # each problem's jobs get a state dir of their own under OUT/state


def run_eval(
    options: EvalOptions,
    *,
    chat_model: BaseChatModel | None = None,
    sandbox_factory: SandboxFactory | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_result: Callable[[ProblemResult], None] | None = None,
    config: RunConfig | None = None,
) -> EvalRun:
    """Evaluate the chosen problems; results stream to ``OUT/results-MODE.jsonl``.

    Args:
        options: Dataset, mode, workflow, workers, resume, output folder.
        chat_model: Use this model instead of the workflow's (e.g. a scripted one).
        sandbox_factory: Use this sandbox for the agent and for scoring.
        on_start: Called once with (problems to run now, problems already done).
        on_result: Called with each problem's result as it finishes.
        config: The checkpoint store of the agent's jobs (default: from the environment;
            their state dirs are always under ``OUT/state``).

    Raises:
        ConfigError: For a bad dataset, subset or workflow (nothing is run).
    """
    problems = select(load_dataset(options.dataset), limit=options.limit, subset=options.subset)
    spec, wf_path = load_workflow(options.workflow)
    if chat_model is None:
        preflight(spec, wf_path.parent)
    env = _Env(
        options,
        wf_path,
        spec,
        chat_model,
        sandbox_factory or spec_sandbox(spec),
        sandbox_factory,
        run_config(config),
    )
    store = result_store(results_path(options.out, options.mode), resume=options.resume)
    done = store.load() if options.resume else {}
    todo = [p for p in problems if p.task_id not in done]
    if on_start is not None:
        on_start(len(todo), len(problems) - len(todo))
    solve = _single_shot_solver(env) if options.mode == "single-shot" else _agent_solver(env)
    pool = ThreadPoolExecutor(max_workers=options.workers)
    try:
        futures = [pool.submit(_evaluate, env, p, solve) for p in todo]
        for future in as_completed(futures):
            result = future.result()
            store.append(result)
            done[result.task_id] = result
            if on_result is not None:
                on_result(result)
    finally:  # on an interrupt, drop the queued problems: --resume runs them later
        pool.shutdown(wait=False, cancel_futures=True)
    ordered = [done[p.task_id] for p in problems if p.task_id in done]
    return EvalRun(options, ordered, summarize(ordered), store.path)


Solver = Callable[[Problem], tuple[dict[str, str], dict[str, Any]]]


def _evaluate(env: _Env, problem: Problem, solve: Solver) -> ProblemResult:
    """Solve one problem, then score its files on the hidden tests."""
    started = time.monotonic()
    try:
        files, fields = solve(problem)
    except ConfigError:
        raise
    except CodeAgentError as exc:
        files, fields = {}, {"status": "error", "detail": str(exc)[:300]}
    wall = round(time.monotonic() - started, 2)
    try:
        score = score_hidden(problem, files, env.sandbox, env.options.hidden_timeout_s)
        passed, detail = score.passed, score.detail
    except CodeAgentError as exc:
        passed, detail = False, f"scoring failed: {exc}"[:300]
    fields.setdefault("detail", detail)
    return ProblemResult(
        task_id=problem.task_id, mode=env.options.mode, passed=passed, wall_s=wall, **fields
    )


def _agent_solver(env: _Env) -> Solver:
    def solve(problem: Problem) -> tuple[dict[str, str], dict[str, Any]]:
        key = _key(problem)
        result = run_job(
            task_text(problem),
            workflow=env.workflow,
            out=env.options.out / "work" / "agent" / key,
            chat_model=env.chat_model,
            sandbox_factory=env.override_sandbox,
            home=env.options.out / "state" / key,
            config=env.config,
        )
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
        return result.files, fields

    return solve


def _single_shot_solver(env: _Env) -> Solver:
    model = env.chat_model or coder_model(env.spec, env.workflow.parent)

    def solve(problem: Problem) -> tuple[dict[str, str], dict[str, Any]]:
        reply = ask_text(model, single_shot_prompt(problem))
        fields = {"status": "answered", "attempts": 1, **reply.usage()}
        files = {"solution.py": extract_code(reply.text)}
        write_tree(env.options.out / "work" / "single-shot" / _key(problem), files)
        return files, fields

    return solve


def _key(problem: Problem) -> str:
    """A folder name for a problem (``HumanEval/3`` -> ``HumanEval_3``)."""
    return re.sub(r"[^\w.-]+", "_", problem.task_id)


def coder_model(spec: WorkflowSpec, base_dir: Path) -> BaseChatModel:
    """The chat model (and temperature) of the workflow's first node of role ``coder``."""
    node = next((n for n in spec.nodes.values() if describe_node(n.kind).role == "coder"), None)
    name = node.model if node else "default"
    return build_chat_model(spec.models[name], base_dir, node.temperature if node else None)
