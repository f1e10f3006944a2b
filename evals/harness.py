"""Run a dataset through the agent (``run_job``) or a single-shot baseline, then score it.

A third mode, ``samples``, draws several single-shot answers per problem and scores
each: the ceiling a choice among candidates can reach (:mod:`codeagent.evals.samples`).

Example::

    from codeagent.evals.harness import EvalOptions, run_eval

    run = run_eval(EvalOptions(dataset="humaneval", mode="single-shot", limit=5,
                               workflow="my-local.yaml", out=Path("eval-out")))
    print(run.summary["pass_at_1"])

The agent sees only the problem's prompt; the hidden tests run afterwards, in a
fresh sandbox, to score. Each finished problem is appended to
``OUT/results-MODE.jsonl``, so ``resume=True`` skips what is done.

With ``engine="celery"`` the agent's jobs run on ``codeagent worker`` processes
(:mod:`codeagent.evals.remote`); their files come back here and are scored here, as
for a local run. Single-shot mode always runs here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field

from codeagent.evals.datasets import Problem, load_dataset, select
from codeagent.evals.metrics import summarize
from codeagent.evals.remote import QueuedJobs
from codeagent.evals.results import Mode, ProblemResult, agent_fields, result_store, results_path
from codeagent.evals.samples import samples_solver
from codeagent.evals.scoring import score_hidden
from codeagent.evals.tasks import extract_code, single_shot_prompt, task_text
from codeagent.graphs.builder import SandboxFactory, spec_sandbox
from codeagent.graphs.jobs.config import RunConfig, run_config
from codeagent.graphs.jobs.execution import tracing_config
from codeagent.graphs.jobs.runner import preflight, run_job
from codeagent.graphs.workers.app import Engine, EngineSettings, check_broker
from codeagent.graphs.workflow.loader import load_workflow
from codeagent.graphs.workflow.spec import NodeSpec, WorkflowSpec
from codeagent.nodes.registry import describe_node
from codeagent.nodes.sampling import RETRY_TEMPERATURE
from codeagent.tools.errors import CodeAgentError, ConfigError
from codeagent.tools.models.llm import ask_text, build_chat_model
from codeagent.tools.observability.tracing import TracingConfig
from codeagent.tools.workspace import write_tree

__all__ = [
    "EvalOptions",
    "EvalRun",
    "coder_model",
    "content_tracing",
    "retry_temperature",
    "run_eval",
]


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
    engine: Engine = "local"
    samples: int = Field(default=5, ge=1, le=50)
    capture_content: bool = False  # agent mode: prompts and answers in each job's trace


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
    settings: EngineSettings | None = None,
) -> EvalRun:
    """Evaluate the chosen problems; results stream to ``OUT/results-MODE.jsonl``.

    Args:
        options: Dataset, mode, workflow, workers, resume, output folder, engine.
        chat_model: Use this model instead of the workflow's (e.g. a scripted one; not
            with the celery engine in agent mode: the workers bring their own).
        sandbox_factory: Use this sandbox for the agent and for scoring (with the celery
            engine, for scoring only: the workers bring their own).
        on_start: Called once with (problems to run now, problems already done).
        on_result: Called with each problem's result as it finishes.
        config: The checkpoint store of the agent's jobs (default: from the environment;
            locally their state dirs are under ``OUT/state``; the celery engine needs a
            store its workers share, a checkpoint URL).
        settings: The celery engine's broker (default ``$CODEAGENT_BROKER_URL``).

    Raises:
        ConfigError: For a bad dataset, subset, workflow or broker (nothing is run).
    """
    problems = select(load_dataset(options.dataset), limit=options.limit, subset=options.subset)
    spec, wf_path = load_workflow(options.workflow)
    engine = _check_engine(options, spec, wf_path, chat_model, settings)
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
    with _solver(env, todo, engine) as solve:
        for result in _results(env, todo, solve):
            store.append(result)
            done[result.task_id] = result
            if on_result is not None:
                on_result(result)
    ordered = [done[p.task_id] for p in problems if p.task_id in done]
    return EvalRun(options, ordered, summarize(ordered), store.path)


Solver = Callable[[Problem], tuple[dict[str, str], dict[str, Any]]]


def _check_engine(
    options: EvalOptions,
    spec: WorkflowSpec,
    wf_path: Path,
    chat_model: BaseChatModel | None,
    settings: EngineSettings | None,
) -> EngineSettings | None:
    """Check what runs the agent before anything runs; the broker when the agent's jobs
    run on celery workers (single-shot always runs here), else None.

    Raises:
        ConfigError: When a model is not configured, or the broker does not answer.
    """
    if options.engine != "celery" or options.mode != "agent":
        if chat_model is None:
            preflight(spec, wf_path.parent)
        return None
    if chat_model is not None:
        raise ConfigError(
            "a chat model cannot travel to celery workers",
            hint="start the workers with --chat-model MODULE:FACTORY instead",
        )
    if options.capture_content:
        raise ConfigError(
            "--capture-content is for jobs run here (--engine local)",
            hint="or give the workflow `tracing: {capture_content: true}`",
        )
    engine = settings or EngineSettings.from_env()
    check_broker(engine)  # before the results file is started afresh
    return engine


@contextmanager
def _solver(env: _Env, todo: Sequence[Problem], engine: EngineSettings | None) -> Iterator[Solver]:
    """How each problem is solved; on celery workers, every job is queued first."""
    if env.options.mode == "single-shot":
        yield _single_shot_solver(env)
    elif env.options.mode == "samples":
        options = env.options
        yield samples_solver(
            env.chat_model or coder_model(env.spec, env.workflow.parent),
            options.samples,
            retry_temperature(env.spec),
            env.sandbox,
            options.hidden_timeout_s,
            options.out / "work" / "samples",
        )
    elif engine is not None:
        with QueuedJobs(
            todo, workflow=env.workflow, out=env.options.out, config=env.config, settings=engine
        ) as jobs:
            yield jobs.solve
    else:
        yield _agent_solver(env)


def _results(env: _Env, todo: Sequence[Problem], solve: Solver) -> Iterator[ProblemResult]:
    """Each problem's result as it is scored, ``options.workers`` problems at a time."""
    pool = ThreadPoolExecutor(max_workers=env.options.workers)
    try:
        futures = [pool.submit(_evaluate, env, p, solve) for p in todo]
        for future in as_completed(futures):
            yield future.result()
    finally:  # on an interrupt, drop the queued problems: --resume runs them later
        pool.shutdown(wait=False, cancel_futures=True)


def _evaluate(env: _Env, problem: Problem, solve: Solver) -> ProblemResult:
    """Solve one problem, then score its files on the hidden tests."""
    started = time.monotonic()
    try:
        files, fields = solve(problem)
    except ConfigError:
        raise
    except CodeAgentError as exc:
        files, fields = {}, {"status": "error", "detail": str(exc)[:300]}
    wall = fields.pop("wall_s", None)  # a worker's run time (queue time left out)
    wall = round(time.monotonic() - started if wall is None else wall, 2)
    if "passed" in fields:  # scored by the solver itself (samples mode)
        passed, detail = bool(fields.pop("passed")), ""
    else:
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
        result = run_job(
            task_text(problem),
            workflow=env.workflow,
            out=env.options.out / "work" / "agent" / problem.key,
            chat_model=env.chat_model,
            sandbox_factory=env.override_sandbox,
            home=env.options.out / "state" / problem.key,
            config=env.config,
            tracing=content_tracing(env.spec) if env.options.capture_content else None,
        )
        return result.files, agent_fields(result)

    return solve


def content_tracing(spec: WorkflowSpec) -> TracingConfig:
    """The workflow's tracing settings with prompts and answers recorded on model spans."""
    return replace(tracing_config(spec, None), capture_content=True)


def _single_shot_solver(env: _Env) -> Solver:
    model = env.chat_model or coder_model(env.spec, env.workflow.parent)

    def solve(problem: Problem) -> tuple[dict[str, str], dict[str, Any]]:
        reply = ask_text(model, single_shot_prompt(problem))
        fields = {"status": "answered", "attempts": 1, **reply.usage()}
        files = {"solution.py": extract_code(reply.text)}
        folder = env.options.out / "work" / "single-shot" / problem.key
        write_tree(folder, files)
        (folder / "reply.md").write_text(reply.text, encoding="utf-8")  # the whole answer
        return files, fields

    return solve


def coder_model(spec: WorkflowSpec, base_dir: Path) -> BaseChatModel:
    """The chat model (and temperature) of the workflow's first node of role ``coder``."""
    node = _coder_node(spec)
    name = node.model if node else "default"
    return build_chat_model(spec.models[name], base_dir, node.temperature if node else None)


def retry_temperature(spec: WorkflowSpec) -> float:
    """The temperature of the workflow's later draws: its coder's ``retry_temperature``
    option (a ``sampling_coder``'s), else the sampling coder's default."""
    node = _coder_node(spec)
    value = dict(node.options).get("retry_temperature") if node else None
    return float(value) if isinstance(value, int | float) else RETRY_TEMPERATURE


def _coder_node(spec: WorkflowSpec) -> NodeSpec | None:
    return next((n for n in spec.nodes.values() if describe_node(n.kind).role == "coder"), None)
