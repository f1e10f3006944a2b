"""Batch jobs: run many tasks from a JSONL file, K at a time, resumable after an interruption.

Each line of the tasks file is a JSON object::

    {"id": "slugify", "task": "Write slugify(title) ...", "workflow": "quick"}

``task`` is required; ``id`` defaults to a hash of the task and workflow;
``workflow`` defaults to the batch's workflow (paths are relative to the tasks file).
Every finished task appends one JSON line to the results file. Running the same
batch again skips the tasks that already finished and resumes interrupted ones from
their last checkpoint.

Example::

    from codeagent.graphs.jobs.batch import run_batch

    results = run_batch("tasks.jsonl", workers=4, out="out/batch")
    print(sum(r.ok for r in results), "of", len(results), "succeeded")
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig

from codeagent.graphs.builder import SandboxFactory
from codeagent.graphs.jobs.batch_tasks import BatchTask, read_tasks
from codeagent.graphs.jobs.checkpoint import open_checkpointer
from codeagent.graphs.jobs.config import RunConfig, run_config
from codeagent.graphs.jobs.result_log import ResultLog
from codeagent.graphs.jobs.runner import RunResult, resume_job, run_job
from codeagent.tools.errors import CodeAgentError, ConfigError

__all__ = [
    "FINAL_STATUSES",
    "BatchResult",
    "BatchTask",
    "batch_folder",
    "read_tasks",
    "run_batch",
]

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
) -> list[BatchResult]:
    """Run every task of a JSONL file through its workflow, ``workers`` jobs at a time.

    Results are appended to ``<out>/results.jsonl`` as each task finishes, and each
    task's files are written to ``<out>/<id>/``. Tasks that already finished in an
    earlier run (success, failed, budget_exceeded) are not re-run; tasks that were
    interrupted or ended in ``error`` are resumed from their last checkpoint.

    Args:
        tasks: The tasks file (JSONL).
        workers: How many jobs run at the same time.
        workflow: The workflow of tasks that name none (file path or shipped name).
        out: The batch folder (default ``out/batch-<tasks file stem>``).
        chat_model: Use this chat model for every node of every job (tests, API).
        sandbox_factory: Use this sandbox instead of the workflows' backends.
        home: The state dir (default ``config.home``, else ``$CODEAGENT_HOME`` or
            ``./.codeagent``).
        on_result: Called once per task as it finishes (or is skipped), in any order.
        config: Where the jobs keep their state (default: from ``home`` and the
            environment, as for :func:`~codeagent.graphs.jobs.runner.run_job`).

    Returns:
        One result per task, in the order of the tasks file.

    Raises:
        ConfigError: For a bad tasks file or option (nothing is run).
    """
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, not {workers}", hint="e.g. --workers 4")
    source = Path(tasks)
    items = read_tasks(source)
    folder = batch_folder(source, out)
    folder.mkdir(parents=True, exist_ok=True)
    log = _result_log(folder / "results.jsonl")
    done = log.load()
    key = hashlib.sha256(str(folder).encode()).hexdigest()[:8]
    job = _Job(
        source.parent, workflow, folder, key, chat_model, sandbox_factory, run_config(config, home)
    )
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
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="codeagent-batch") as pool:
        futures = [pool.submit(job.run, task_id, item) for task_id, item in pending]
        try:
            for future in futures:
                finish(future.result())
        except BaseException:  # Ctrl-C: start nothing new; running jobs stay resumable
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return [results[task_id] for task_id, _ in items]


def _result_log(path: Path) -> ResultLog[BatchResult]:
    """A batch's results file; loading it gives the tasks that finished (not ``error``)."""
    return ResultLog(path, key=lambda r: r.id, decode=_finished, encode=_line)


def _finished(data: dict[str, Any]) -> BatchResult | None:
    result = BatchResult(**data, skipped=True)
    return result if result.status in FINAL_STATUSES else None


def _line(result: BatchResult) -> str:
    return json.dumps(result.to_json(), ensure_ascii=False)


def batch_folder(tasks: str | Path, out: str | Path | None = None) -> Path:
    """The batch folder: ``out``, else ``out/batch-<tasks file stem>`` (absolute)."""
    return Path(out or Path("out") / f"batch-{Path(tasks).stem}").resolve()


@dataclass(frozen=True)
class _Job:
    """How to run one task of a batch."""

    base: Path
    workflow: str | Path
    folder: Path
    key: str
    chat_model: BaseChatModel | None
    sandbox_factory: SandboxFactory | None
    config: RunConfig

    def run(self, task_id: str, item: BatchTask) -> BatchResult:
        wf = self._workflow(item.workflow)
        thread_id = f"batch-{self.key}-{task_id}"
        started = time.monotonic()
        try:
            result = self._run_or_resume(thread_id, item.task, wf, self.folder / task_id)
        except CodeAgentError as exc:
            return BatchResult(task_id, "error", item.task, str(wf), thread_id, error=str(exc))
        except Exception as exc:  # a bug must not stop the other tasks
            error = f"{type(exc).__name__}: {exc}"
            return BatchResult(task_id, "error", item.task, str(wf), thread_id, error=error)
        return _summary(task_id, item.task, str(wf), result, time.monotonic() - started)

    def _run_or_resume(self, thread_id: str, task: str, wf: str | Path, out: Path) -> RunResult:
        deps: dict[str, Any] = {
            "chat_model": self.chat_model,
            "sandbox_factory": self.sandbox_factory,
            "config": self.config,
        }
        with open_checkpointer(self.config) as saver:
            config = RunnableConfig(configurable={"thread_id": thread_id})
            started = saver.get_tuple(config) is not None
        if not started:  # never ran, or killed before its first checkpoint
            return run_job(task, workflow=wf, out=out, thread_id=thread_id, **deps)
        return resume_job(thread_id, **deps)

    def _workflow(self, named: str | None) -> str | Path:
        ref = named or self.workflow
        if isinstance(ref, str) and named and (self.base / ref).is_file():
            return self.base / ref  # relative to the tasks file
        return ref


def _summary(task_id: str, task: str, wf: str, result: RunResult, seconds: float) -> BatchResult:
    report = result.test_report or {}
    return BatchResult(
        id=task_id,
        status=result.status,
        task=task,
        workflow=wf,
        thread_id=result.thread_id,
        attempts=result.attempts,
        passed=int(report.get("passed", 0)),
        total=int(report.get("total", 0)),
        usage=dict(result.usage),
        out_dir=result.out_dir,
        error=result.error,
        seconds=round(seconds, 3),
    )
