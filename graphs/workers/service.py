"""Start a worker process: the Celery consumer, its job task, and the sweeper."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from codeagent.graphs.workers.app import DEFAULT_QUEUE, JOB_TASK, EngineSettings, celery_app
from codeagent.graphs.workers.sweeper import Sweeper
from codeagent.graphs.workers.worker import WorkerContext, execute_job

__all__ = ["register_job_task", "run_worker"]

_log = logging.getLogger("codeagent.worker")
_RETRY_S = 5.0  # a job database that does not answer: try the job again after this


def register_job_task(app: Any, ctx: WorkerContext) -> Any:
    """Register the task that runs jobs on ``app`` (a worker's); returns it."""
    from codeagent.graphs.jobs.store_postgres import StoreUnavailable

    @app.task(name=JOB_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
    def job(self: Any, thread_id: str) -> str:
        try:
            outcome = execute_job(thread_id, ctx)
        except StoreUnavailable as exc:  # nothing is lost: the job resumes from a checkpoint
            _log.warning("job %s: %s; again in %ss", thread_id, exc, _RETRY_S)
            raise self.retry(countdown=_RETRY_S, max_retries=None) from None
        _log.info("job %s: %s", thread_id, outcome)
        return outcome

    return job


def run_worker(
    settings: EngineSettings,
    ctx: WorkerContext,
    *,
    concurrency: int = 1,
    queues: Sequence[str] = (DEFAULT_QUEUE,),
    loglevel: str = "INFO",
) -> None:
    """Consume job messages until stopped (Ctrl-C, SIGTERM: a warm shutdown that lets
    the running jobs finish). Jobs run on ``concurrency`` threads of this process, so
    its chat model is loaded once and shared."""
    app = celery_app(settings)
    register_job_task(app, ctx)
    sweeper = Sweeper(ctx.config, settings, ctx.owner)
    sweeper.start()
    argv = [
        "worker",
        f"--pool={'solo' if concurrency == 1 else 'threads'}",
        f"--concurrency={concurrency}",
        f"--queues={','.join(queues)}",
        f"--loglevel={loglevel}",
        f"--hostname=codeagent-{ctx.owner.replace(':', '-')}@%h",
        "--without-gossip",
        "--without-mingle",
    ]
    try:
        app.worker_main(argv=argv)
    finally:
        sweeper.stop()
