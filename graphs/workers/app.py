"""The Celery application that carries jobs to workers: settings for exactly-once results.

A message is only a thread id: everything else about the job (its workflow, its first
state, its checkpoints) is in the shared job store and checkpointer. Messages are
acknowledged after the job ran (``acks_late``), a worker takes one at a time
(prefetch 1), and a message whose worker died is delivered again (``reject_on_worker_lost``
for a lost pool process; the broker's visibility timeout, and the workers' sweeper,
for a lost machine). A job delivered twice runs once: a worker first takes the job's
lease, and a job that already ended is not run again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from codeagent.graphs.jobs.checkpoint import hide_password
from codeagent.tools.errors import ConfigError

__all__ = [
    "BROKER_URL_ENV",
    "DEFAULT_QUEUE",
    "JOB_TASK",
    "Engine",
    "EngineSettings",
    "celery_app",
    "check_broker",
]

BROKER_URL_ENV = "CODEAGENT_BROKER_URL"
DEFAULT_QUEUE = "codeagent"
JOB_TASK = "codeagent.job"

Engine = Literal["local", "celery"]
"""Where jobs run: threads of this process, or ``codeagent worker`` processes."""


@dataclass(frozen=True)
class EngineSettings:
    """How the Celery engine runs (the defaults suit jobs of minutes to hours).

    Attributes:
        broker_url: The broker, e.g. ``redis://host:6379/0`` (left out of the repr).
        visibility_timeout_s: How long the broker waits before it delivers a message
            whose worker went silent again: longer than the longest job.
        lease_ttl_s: How long a job's lease lasts without a heartbeat (a worker renews
            it every third of that while the job runs).
        requeue_after_s: How long a job that is queued or running with no live lease
            waits before a worker's sweeper sends its message again (a lost message:
            a broker restarted without persistence, a worker machine gone).
        sweep_every_s: How often each worker's sweeper looks (0: never).
    """

    broker_url: str
    visibility_timeout_s: float = 6 * 3600.0
    lease_ttl_s: float = 30.0
    requeue_after_s: float = 60.0
    sweep_every_s: float = 15.0

    def __repr__(self) -> str:
        return f"EngineSettings(broker_url={hide_password(self.broker_url)!r}, ...)"

    @classmethod
    def from_env(
        cls, broker_url: str | None = None, *, env: Mapping[str, str] | None = None
    ) -> EngineSettings:
        """``broker_url``, else ``$CODEAGENT_BROKER_URL``; timings from
        ``CODEAGENT_VISIBILITY_TIMEOUT_S``, ``CODEAGENT_LEASE_TTL_S``,
        ``CODEAGENT_REQUEUE_AFTER_S`` and ``CODEAGENT_SWEEP_EVERY_S`` when set.

        Raises:
            ConfigError: When no broker is given, or a timing is not a number.
        """
        environ = os.environ if env is None else env
        url = broker_url or environ.get(BROKER_URL_ENV)
        if not url:
            raise ConfigError(
                "no broker is configured for the celery engine",
                hint=f"set {BROKER_URL_ENV}=redis://HOST:6379/0 (or pass --broker)",
            )
        timings: dict[str, float] = {}
        for name in ("visibility_timeout_s", "lease_ttl_s", "requeue_after_s", "sweep_every_s"):
            raw = environ.get(f"CODEAGENT_{name.upper()}")
            if raw is None:
                continue
            try:
                timings[name] = float(raw)
            except ValueError:
                raise ConfigError(
                    f"CODEAGENT_{name.upper()}={raw!r} is not a number of seconds"
                ) from None
        return cls(url, **timings)


def celery_app(settings: EngineSettings) -> Any:
    """A Celery app on the settings' broker (no result backend: results are in the store).

    Raises:
        ConfigError: When Celery is not installed.
    """
    try:
        from celery import Celery
    except ImportError:
        raise ConfigError(
            "the celery engine is not installed", hint="pip install 'codeagent[celery]'"
        ) from None
    app = Celery("codeagent", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=DEFAULT_QUEUE,
        broker_transport_options={"visibility_timeout": settings.visibility_timeout_s},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a restarting broker is waited for
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
    )
    return app


def check_broker(settings: EngineSettings) -> None:
    """Connect to the broker once, so a batch of jobs fails before queueing any.

    Raises:
        ConfigError: When Celery is not installed or the broker does not answer.
    """
    app = celery_app(settings)
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0.2)
    except Exception as exc:  # kombu's connection errors have no common public root
        raise ConfigError(
            f"the broker {hide_password(settings.broker_url)} does not answer ({exc})",
            hint=f"check {BROKER_URL_ENV} (--broker) and that Redis is running",
        ) from None
    finally:
        app.close()
