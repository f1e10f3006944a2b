"""The ``celery`` engine of :func:`~codeagent.graphs.jobs.batch.run_batch`.

Every pending task's job is queued for the workers first (its id ``batch-<key>-<task
id>``, as the local engine names it); then the jobs are followed through the shared
store, and each one's results line is written as it settles. A task whose job is in the
store already is not queued twice: a job that is queued or running is followed, one that
ended is read back; only one that ended in ``error``, or that the local engine started
and did not finish, is queued again (it resumes from its last checkpoint, as the local
engine resumes it). An interrupted batch leaves its jobs to the workers; running it
again follows them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from codeagent.graphs.jobs.batch_plan import BatchPlan
from codeagent.graphs.jobs.batch_results import BatchResult, batch_summary
from codeagent.graphs.jobs.batch_tasks import BatchTask
from codeagent.graphs.jobs.config import RunConfig
from codeagent.graphs.jobs.records import JobRecord
from codeagent.graphs.jobs.store import store_for
from codeagent.graphs.jobs.store_postgres import StoreUnavailable
from codeagent.graphs.workers.app import EngineSettings, check_broker
from codeagent.graphs.workers.decisions import requeue_job
from codeagent.graphs.workers.follow import run_seconds, settled
from codeagent.graphs.workers.submit import SETTLED, JobHandle, submit_job
from codeagent.tools.errors import CodeAgentError, ConfigError

__all__ = ["needs_submit", "run_on_workers"]

_POLL_S = 0.5


def needs_submit(record: JobRecord | None) -> bool:
    """True when a task's job must be queued (again) rather than followed (pure).

    Args:
        record: The job's record in the store, None when it has none.
    """
    if record is None or record.status == "error":
        return True
    return record.engine != "celery" and record.status not in SETTLED


@dataclass(frozen=True)
class _Queued:
    """A task whose job the workers have."""

    task_id: str
    task: str
    workflow: str
    thread_id: str
    since: float  # when this batch queued it, or began to follow it (monotonic)


def run_on_workers(
    pending: Sequence[tuple[str, BatchTask]],
    plan: BatchPlan,
    settings: EngineSettings,
    finish: Callable[[BatchResult], None],
    *,
    poll_s: float = _POLL_S,
) -> None:
    """Queue the pending tasks' jobs, then ``finish`` each task as its job settles.

    Raises:
        ConfigError: When the broker or the job store does not answer.
    """
    if not pending:
        return
    check_broker(settings)
    queued: dict[str, _Queued] = {}
    for task_id, item in pending:
        outcome = _queue(task_id, item, plan, settings)
        if isinstance(outcome, BatchResult):
            finish(outcome)
        else:
            queued[outcome.thread_id] = outcome
    for record in settled(queued, plan.config, poll_s=poll_s):
        finish(_outcome(queued[record.thread_id], plan.config))


def _queue(
    task_id: str, item: BatchTask, plan: BatchPlan, settings: EngineSettings
) -> _Queued | BatchResult:
    """Queue a task's job unless the workers have it; an error result when it cannot be."""
    wf = plan.workflow_of(item)
    thread_id = plan.thread_id(task_id)
    try:
        record = _record(plan.config, thread_id)
        if record is not None and record.engine == "celery" and record.status == "error":
            requeue_job(thread_id, plan.config, settings)  # resumes from its checkpoint
        elif needs_submit(record):
            submit_job(
                item.task,
                workflow=wf,
                out=plan.out_dir(task_id),
                thread_id=thread_id,
                config=plan.config,
                settings=settings,
            )
    except StoreUnavailable:
        raise
    except CodeAgentError as exc:  # this task's workflow or text: the others go on
        return BatchResult(task_id, "error", item.task, str(wf), thread_id, error=str(exc))
    return _Queued(task_id, item.task, str(wf), thread_id, time.monotonic())


def _record(config: RunConfig, thread_id: str) -> JobRecord | None:
    """The job's record, None when the store has none (or cannot read it)."""
    try:
        return store_for(config).load_record(thread_id)
    except StoreUnavailable:
        raise
    except ConfigError:
        return None


def _outcome(job: _Queued, config: RunConfig) -> BatchResult:
    """A settled job's results line; its files are written to its folder here."""
    try:
        result = JobHandle(job.thread_id, config).result()
    except StoreUnavailable:
        raise
    except CodeAgentError as exc:
        return BatchResult(
            job.task_id, "error", job.task, job.workflow, job.thread_id, error=str(exc)
        )
    seconds = run_seconds(config, job.thread_id)
    if seconds is None:
        seconds = time.monotonic() - job.since
    return batch_summary(job.task_id, job.task, job.workflow, result, seconds)
