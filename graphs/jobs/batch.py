"""Batch jobs: run many tasks from a JSONL file, K at a time, resumable after an interruption.

Each line of the tasks file is a JSON object::

    {"id": "slugify", "task": "Write slugify(title) ...", "workflow": "quick"}

``task`` is required; ``id`` defaults to a hash of the task and workflow;
``workflow`` defaults to the batch's workflow (paths are relative to the tasks file).
Every finished task appends one JSON line to the results file. Running the same
batch again skips the tasks that already finished and resumes interrupted ones from
their last checkpoint.

Two engines run the jobs: ``local`` (threads of this process, the default) and
``celery`` (workers on many machines, :mod:`codeagent.graphs.workers.batch`); a task
keeps its job id, results line and output folder under either.

Example::

    from codeagent.graphs.jobs.batch import run_batch

    results = run_batch("tasks.jsonl", workers=4, out="out/batch")
    print(sum(r.ok for r in results), "of", len(results), "succeeded")

    # the same tasks on workers (codeagent worker) through $CODEAGENT_BROKER_URL
    results = run_batch("tasks.jsonl", engine="celery", out="out/batch")
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from codeagent.graphs.builder import SandboxFactory
from codeagent.graphs.jobs.batch_plan import BatchPlan, batch_folder
from codeagent.graphs.jobs.batch_results import (
    FINAL_STATUSES,
    BatchResult,
    batch_result_log,
    batch_summary,
)
from codeagent.graphs.jobs.batch_tasks import BatchTask, read_tasks
from codeagent.graphs.jobs.checkpoint import has_checkpoints
from codeagent.graphs.jobs.config import RunConfig, run_config
from codeagent.graphs.jobs.runner import RunResult, resume_job, run_job
from codeagent.graphs.workers.app import Engine, EngineSettings
from codeagent.tools.errors import CodeAgentError, ConfigError

__all__ = [
    "FINAL_STATUSES",
    "BatchResult",
    "BatchTask",
    "batch_folder",
    "read_tasks",
    "run_batch",
]


def run_batch(
    tasks: str | Path,
    *,
    workers: int = 1,
    workflow: str | Path = "default",
    out: str | Path | None = None,
    chat_model: BaseChatModel | None = None,
    sandbox_factory: SandboxFactory | None = None,
    home: str | Path | None = None,
    on_result: Callable[[BatchResult], None] | None = None,
    config: RunConfig | None = None,
    engine: Engine = "local",
    settings: EngineSettings | None = None,
) -> list[BatchResult]:
    """Run every task of a JSONL file through its workflow, ``workers`` jobs at a time.

    Results are appended to ``<out>/results.jsonl`` as each task finishes, and each
    task's files are written to ``<out>/<id>/``. Tasks that already finished in an
    earlier run (success, failed, budget_exceeded) are not re-run; tasks that were
    interrupted or ended in ``error`` are resumed from their last checkpoint.

    Args:
        tasks: The tasks file (JSONL).
        workers: How many jobs run at the same time (``local`` engine; the ``celery``
            engine runs as many as its workers take).
        workflow: The workflow of tasks that name none (file path or shipped name).
        out: The batch folder (default ``out/batch-<tasks file stem>``).
        chat_model: Use this chat model for every node of every job (tests, API;
            ``local`` engine only: workers bring their own, ``--chat-model``).
        sandbox_factory: Use this sandbox instead of the workflows' backends (``local``
            engine only: workers bring their own, ``--sandbox``).
        home: The state dir (default ``config.home``, else ``$CODEAGENT_HOME`` or
            ``./.codeagent``).
        on_result: Called once per task as it finishes (or is skipped), in any order.
        config: Where the jobs keep their state (default: from ``home`` and the
            environment, as for :func:`~codeagent.graphs.jobs.runner.run_job`); the
            ``celery`` engine needs one its workers share (a checkpoint URL).
        engine: ``local`` (threads of this process) or ``celery`` (queue every task for
            ``codeagent worker`` processes, then follow them through the job store).
        settings: The ``celery`` engine's broker (default ``$CODEAGENT_BROKER_URL``).

    Returns:
        One result per task, in the order of the tasks file.

    Raises:
        ConfigError: For a bad tasks file or option, or a broker that does not answer
            (nothing is run).
    """
    _check_options(workers, engine, chat_model, sandbox_factory)
    source = Path(tasks)
    items = read_tasks(source)
    folder = batch_folder(source, out)
    folder.mkdir(parents=True, exist_ok=True)
    log = batch_result_log(folder / "results.jsonl")
    done = log.load()
    plan = BatchPlan(source.parent, workflow, folder, run_config(config, home))
    results: dict[str, BatchResult] = {}

    def finish(result: BatchResult) -> None:
        if not result.skipped:
            log.append(result)
        results[result.id] = result
        if on_result is not None:
            on_result(result)

    for task_id, _item in items:
        if task_id in done:
            finish(done[task_id])
    pending = [(i, item) for i, item in items if i not in done]
    if engine == "celery":
        from codeagent.graphs.workers.batch import run_on_workers

        run_on_workers(pending, plan, settings or EngineSettings.from_env(), finish)
    else:
        _run_here(pending, _Job(plan, chat_model, sandbox_factory), workers, finish)
    return [results[task_id] for task_id, _ in items]


def _check_options(
    workers: int,
    engine: str,
    chat_model: BaseChatModel | None,
    sandbox_factory: SandboxFactory | None,
) -> None:
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, not {workers}", hint="e.g. --workers 4")
    if engine not in ("local", "celery"):
        raise ConfigError(f"unknown engine {engine!r}", hint="use local or celery")
    if engine == "celery" and (chat_model is not None or sandbox_factory is not None):
        raise ConfigError(
            "a chat model or sandbox cannot travel to celery workers",
            hint="start the workers with --chat-model / --sandbox MODULE:FACTORY instead",
        )


def _run_here(
    pending: Sequence[tuple[str, BatchTask]],
    job: _Job,
    workers: int,
    finish: Callable[[BatchResult], None],
) -> None:
    """The ``local`` engine: ``workers`` jobs at a time on threads of this process."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="codeagent-batch") as pool:
        futures = [pool.submit(job.run, task_id, item) for task_id, item in pending]
        try:
            for future in futures:
                finish(future.result())
        except BaseException:  # Ctrl-C: start nothing new; running jobs stay resumable
            pool.shutdown(wait=False, cancel_futures=True)
            raise


@dataclass(frozen=True)
class _Job:
    """How to run one task of a batch here."""

    plan: BatchPlan
    chat_model: BaseChatModel | None
    sandbox_factory: SandboxFactory | None

    def run(self, task_id: str, item: BatchTask) -> BatchResult:
        wf = self.plan.workflow_of(item)
        thread_id = self.plan.thread_id(task_id)
        started = time.monotonic()
        try:
            result = self._run_or_resume(thread_id, item.task, wf, self.plan.out_dir(task_id))
        except CodeAgentError as exc:
            return BatchResult(task_id, "error", item.task, str(wf), thread_id, error=str(exc))
        except Exception as exc:  # a bug must not stop the other tasks
            error = f"{type(exc).__name__}: {exc}"
            return BatchResult(task_id, "error", item.task, str(wf), thread_id, error=error)
        return batch_summary(task_id, item.task, str(wf), result, time.monotonic() - started)

    def _run_or_resume(self, thread_id: str, task: str, wf: str | Path, out: Path) -> RunResult:
        deps: dict[str, Any] = {
            "chat_model": self.chat_model,
            "sandbox_factory": self.sandbox_factory,
            "config": self.plan.config,
        }
        if not has_checkpoints(self.plan.config, thread_id):  # never ran, or killed early
            return run_job(task, workflow=wf, out=out, thread_id=thread_id, **deps)
        return resume_job(thread_id, **deps)
