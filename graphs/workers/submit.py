"""Submit jobs to workers and follow them: the Python API of the celery engine.

Example::

    from codeagent.graphs.workers import submit_job

    handle = submit_job("Write slugify(title) ...", workflow="quick")
    print(handle.thread_id, handle.status())
    result = handle.wait(timeout_s=600)   # writes the files to result.out_dir
    print(result.status)

The job's record, first state and (for a repo job) snapshot go to the shared store
before its message is sent, so any worker can run it and any machine can follow it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from opentelemetry.trace import format_span_id, format_trace_id

from codeagent.graphs.jobs.checkpoint import hide_password
from codeagent.graphs.jobs.config import RunConfig, run_config
from codeagent.graphs.jobs.execution import (
    job_result,
    tracing_config,
    write_outputs,
)
from codeagent.graphs.jobs.records import JobRecord
from codeagent.graphs.jobs.repo import job_patch
from codeagent.graphs.jobs.results import RunResult
from codeagent.graphs.jobs.runner import job_values, prepare_job
from codeagent.graphs.jobs.store import store_for
from codeagent.graphs.workers.app import (
    DEFAULT_QUEUE,
    JOB_TASK,
    EngineSettings,
    celery_app,
    check_broker,
)
from codeagent.graphs.workers.worker import ENDED, start_blob
from codeagent.graphs.workflow.spec import WorkflowSpec
from codeagent.tools.errors import ConfigError
from codeagent.tools.observability.tracing import JobTracer

__all__ = ["JobHandle", "enqueue", "submit_job"]

SETTLED = ENDED | {"awaiting_approval"}


def submit_job(
    task: str,
    *,
    workflow: str | Path | WorkflowSpec = "default",
    out: str | Path | None = None,
    thread_id: str | None = None,
    queue: str = DEFAULT_QUEUE,
    repo: str | Path | None = None,
    test_cmd: str | Sequence[str] | None = None,
    config: RunConfig | None = None,
    settings: EngineSettings | None = None,
) -> JobHandle:
    """Queue a job for the workers; returns at once with its handle.

    Args:
        task, workflow, out, thread_id, repo, test_cmd: As for
            :func:`~codeagent.graphs.jobs.runner.run_job` (``out`` is written here,
            by :meth:`JobHandle.wait`).
        queue: The workers' queue (``codeagent worker --queues``).
        config: The shared state: a checkpoint URL is needed unless every worker
            shares this machine's state dir.
        settings: The broker (default ``$CODEAGENT_BROKER_URL``).

    Raises:
        ConfigError: For a bad task, workflow or broker (nothing is queued).
    """
    cfg = run_config(config)
    engine = settings or EngineSettings.from_env()
    if settings is None:  # one job from the CLI or a script: a dead broker, before anything
        check_broker(engine)
    job = prepare_job(
        task,
        workflow=workflow,
        out=out,
        thread_id=thread_id,
        config=cfg,
        repo=repo,
        test_cmd=test_cmd,
    )
    store = store_for(cfg)
    store.put_blob(start_blob(job.record.thread_id), json.dumps(job.start).encode())
    record = replace(
        job.record,
        status="queued",
        engine="celery",
        queue=queue,
        trace_parent=_submit_span(job.spec, job.record, cfg),
    )
    enqueue(record, cfg, engine)
    return JobHandle(record.thread_id, cfg)


def enqueue(record: JobRecord, config: RunConfig, settings: EngineSettings) -> None:
    """Save ``record`` with the time of sending, then send the job's message (again).

    The record is saved first: a worker may take the message and save the job's
    progress at once, and nothing here may overwrite that afterwards. A message that
    then fails to go out is sent again by a worker's sweeper.

    Raises:
        ConfigError: When the broker does not answer.
    """
    store_for(config).save_record(replace(record, enqueued_at=time.time()))
    app = celery_app(settings)
    try:
        app.send_task(
            JOB_TASK,
            args=[record.thread_id],
            queue=record.queue or DEFAULT_QUEUE,
            task_id=f"{record.thread_id}.{time.time_ns()}",
        )
    except Exception as exc:  # kombu's connection errors have no common public root
        raise ConfigError(
            f"cannot queue job {record.thread_id}: the broker does not answer "
            f"({hide_password(str(exc))})",
            hint="check CODEAGENT_BROKER_URL (--broker) and that Redis is running",
        ) from None
    finally:
        app.close()


def _submit_span(spec: WorkflowSpec, record: JobRecord, config: RunConfig) -> str:
    """Record a ``submit_job`` span; its context, as a W3C traceparent, travels with the
    job so that every worker's run of it lands in this trace."""
    store = store_for(config)
    tracer = JobTracer(
        tracing_config(spec, None),
        trace_sink=lambda spans: store.append_spans(record.thread_id, spans),
    )
    try:
        with tracer.tracer.start_as_current_span(
            f"submit_job {spec.name}",
            attributes={
                "gen_ai.workflow.name": spec.name,
                "codeagent.thread_id": record.thread_id,
            },
        ) as span:
            ctx = span.get_span_context()
    finally:
        tracer.shutdown()
        store.finish_trace(record.thread_id)
    return f"00-{format_trace_id(ctx.trace_id)}-{format_span_id(ctx.span_id)}-01"


@dataclass(frozen=True)
class JobHandle:
    """A submitted job, followed through the shared store from any machine."""

    thread_id: str
    config: RunConfig

    def record(self) -> JobRecord:
        """The job's record as it is now."""
        return store_for(self.config).load_record(self.thread_id)

    def status(self) -> str:
        """``queued``, ``running``, ``awaiting_approval`` or how it ended."""
        return self.record().status

    def wait(
        self,
        timeout_s: float | None = None,
        poll_s: float = 0.5,
        on_poll: Callable[[JobRecord], None] | None = None,
    ) -> RunResult:
        """Wait until the job ends or waits for an approval; write its files to its
        ``out_dir`` here; return its result.

        Raises:
            TimeoutError: When ``timeout_s`` passes first (the job goes on).
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            record = self.record()
            if on_poll is not None:
                on_poll(record)
            if record.status in SETTLED:
                return self.result()
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {self.thread_id} is still {record.status}")
            time.sleep(poll_s)

    def result(self) -> RunResult:
        """The job's result now; a settled job's files are written to its ``out_dir``.

        Raises:
            ConfigError: When there is no such job.
        """
        record, values = job_values(self.thread_id, config=self.config)
        if record.status not in SETTLED or record.status == "error":
            return job_result(record, values, record.status, error=record.error)
        patch = job_patch(values, store_for(self.config), self.config.home)
        if record.status != "awaiting_approval":
            write_outputs(Path(record.out_dir), values, patch)
        return replace(job_result(record, values, record.status), patch=patch)
