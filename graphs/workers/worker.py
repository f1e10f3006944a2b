"""What a worker does with a job message: take the lease, run or resume, let go.

The message is a thread id. The worker reads the job's record from the shared store:
a job that already ended (or waits for a human's approval) is left alone; a job whose
lease another live worker holds is left to it. Otherwise the worker takes the lease,
renews it while the job runs, and drives the job from its first state (a blob in the
store) or, when it has checkpoints, resumes it from the last one: no finished node
runs again. The job's files stay in the store and checkpoints; the submitter writes
them out (``codeagent wait``).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.types import Command

from codeagent.graphs.builder import SandboxFactory
from codeagent.graphs.jobs.checkpoint import has_checkpoints
from codeagent.graphs.jobs.config import RunConfig
from codeagent.graphs.jobs.execution import RunOptions, drive, workflow_dir
from codeagent.graphs.jobs.runner import check_before_running, pending_approval, record_spec
from codeagent.graphs.jobs.store import JobStore, store_for
from codeagent.tools.errors import CodeAgentError

__all__ = ["ENDED", "WorkerContext", "decision_blob", "execute_job", "start_blob"]

ENDED = frozenset({"success", "failed", "budget_exceeded", "blocked", "rejected", "error"})
_log = logging.getLogger("codeagent.worker")


def start_blob(thread_id: str) -> str:
    """The store key of a submitted job's first state."""
    return f"starts/{thread_id}.json"


def decision_blob(thread_id: str, checkpoint_id: str) -> str:
    """The store key of the approval decision for the pause at ``checkpoint_id``."""
    return f"decisions/{thread_id}/{checkpoint_id}.json"


@dataclass(frozen=True)
class WorkerContext:
    """What one worker process brings to every job it runs.

    Attributes:
        config: The shared state (checkpoint URL, state dir for caches).
        chat_model: A model for every node (None: each workflow's own; the embedded
            model is loaded once per process either way).
        sandbox_factory: A sandbox for every job (None: each workflow's backend).
        owner: This worker's name in leases.
        lease_ttl_s: A lease's life without a heartbeat.
    """

    config: RunConfig
    chat_model: BaseChatModel | None = None
    sandbox_factory: SandboxFactory | None = None
    owner: str = ""
    lease_ttl_s: float = 30.0

    @staticmethod
    def owner_name() -> str:
        """A name unique to this process: host, pid and a random tag."""
        return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def execute_job(thread_id: str, ctx: WorkerContext) -> str:
    """Run or resume one job unless it ended or another worker holds it.

    Returns:
        What happened: the job's status after this run, ``skipped:<status>`` for a job
        that had ended, or ``held:<owner>`` for a job another worker runs.

    Raises:
        StoreUnavailable: When the job database does not answer (the message is
            retried; the job resumes from its last checkpoint).
    """
    store = store_for(ctx.config)
    record = store.load_record(thread_id)
    if record.status in ENDED or record.status == "awaiting_approval":
        return f"skipped:{record.status}"
    holder = store.claim(thread_id, ctx.owner, ctx.lease_ttl_s)
    if holder is not None:
        return f"held:{holder}"
    with _heartbeat(store, thread_id, ctx):
        record = store.load_record(thread_id)  # read again under the lease
        if record.status in ENDED or record.status == "awaiting_approval":
            return f"skipped:{record.status}"
        spec = record_spec(record)
        options = RunOptions(ctx.chat_model, ctx.sandbox_factory, write_out=False)
        try:
            check_before_running(spec, workflow_dir(record), ctx.chat_model, ctx.sandbox_factory)
        except CodeAgentError as exc:  # this worker cannot run it: say so in the record
            store.save_record(record.with_status("error", f"on worker {ctx.owner}: {exc}"))
            return "error"
        paused, start = _start(store, ctx.config, thread_id)
        if paused:  # at an approval point with no decision kept for it
            store.save_record(record.with_status("awaiting_approval"))
            return "awaiting_approval"
        _log.info("job %s: %s", thread_id, "resuming" if start is None else "starting")
        result = drive(spec, record, ctx.config, start, options)
        return result.status


def _start(
    store: JobStore, config: RunConfig, thread_id: str
) -> tuple[bool, dict[str, Any] | Command[Any] | None]:
    """``(paused, start)``: the first state, None (resume), or the decision for a pause;
    ``paused`` when the job waits at an approval with no decision kept for it."""
    if not has_checkpoints(config, thread_id):
        return False, _first_state(store, thread_id)
    pending = pending_approval(thread_id, config=config)
    if pending is None:
        return False, None
    data = store.get_blob(decision_blob(thread_id, pending[0]))
    return data is None, None if data is None else Command(resume=json.loads(data))


def _first_state(store: JobStore, thread_id: str) -> dict[str, Any]:
    data = store.get_blob(start_blob(thread_id))
    if data is None:
        raise CodeAgentError(f"job {thread_id} has no first state in the store")
    state: dict[str, Any] = json.loads(data)
    return state


@contextmanager
def _heartbeat(store: JobStore, thread_id: str, ctx: WorkerContext) -> Iterator[None]:
    """Renew the job's lease every third of its life while the body runs; then release."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(ctx.lease_ttl_s / 3):
            try:
                store.claim(thread_id, ctx.owner, ctx.lease_ttl_s)
            except CodeAgentError as exc:  # the database is away: the job will notice
                _log.warning("job %s: lease not renewed: %s", thread_id, exc)

    thread = threading.Thread(target=beat, name=f"lease-{thread_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        try:
            store.release(thread_id, ctx.owner)
        except CodeAgentError as exc:  # it runs out by itself
            _log.warning("job %s: lease not released: %s", thread_id, exc)
