"""Answer a paused job's approval, or hand a job back, through the workers.

A job run by workers that reaches an approval point waits (``awaiting_approval``)
without holding any worker. ``codeagent approve`` / ``reject`` from any machine keep
the decision in the store, keyed by the checkpoint the job paused at, and queue the
job again; the worker that takes it resumes the graph with that decision. A decision
for an older pause is never applied to a newer one.
"""

from __future__ import annotations

import json
from typing import Any

from codeagent.graphs.jobs.config import RunConfig
from codeagent.graphs.jobs.runner import pending_approval
from codeagent.graphs.jobs.store import store_for
from codeagent.graphs.workers.app import EngineSettings
from codeagent.graphs.workers.submit import JobHandle, enqueue
from codeagent.graphs.workers.worker import ENDED, decision_blob
from codeagent.tools.errors import ConfigError

__all__ = ["decide_on_workers", "requeue_job"]


def decide_on_workers(
    thread_id: str, decision: dict[str, Any], config: RunConfig, settings: EngineSettings
) -> JobHandle:
    """Keep ``decision`` for the job's pending approval and queue the job for the workers.

    Raises:
        ConfigError: When the job does not wait for an approval.
    """
    store = store_for(config)
    record = store.load_record(thread_id)
    pending = pending_approval(thread_id, config=config)
    if record.status != "awaiting_approval" or pending is None:
        raise ConfigError(
            f"job {thread_id} is {record.status}: it does not wait for an approval",
            hint=f"see codeagent status {thread_id}",
        )
    checkpoint_id, _ = pending
    store.put_blob(decision_blob(thread_id, checkpoint_id), json.dumps(decision).encode())
    enqueue(record.with_status("queued"), config, settings)
    return JobHandle(thread_id, config)


def requeue_job(thread_id: str, config: RunConfig, settings: EngineSettings) -> JobHandle:
    """Queue a worker job that stopped (``error``, or lost) again: it resumes from its last
    checkpoint on whichever worker takes it.

    Raises:
        ConfigError: When the job ended for good or waits for an approval.
    """
    store = store_for(config)
    record = store.load_record(thread_id)
    if record.status == "awaiting_approval" or (
        record.status in ENDED and record.status != "error"
    ):
        raise ConfigError(
            f"job {thread_id} is {record.status}: there is nothing to resume",
            hint="answer its approval with codeagent approve/reject"
            if record.status == "awaiting_approval"
            else "raise its budgets to go on: codeagent resume THREAD --max-model-calls N",
        )
    enqueue(record.with_status("queued"), config, settings)
    return JobHandle(thread_id, config)
