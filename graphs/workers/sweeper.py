"""Find jobs whose message was lost and send it again (runs inside every worker).

A message can be lost with no worker to notice: a broker restarted without
persistence drops its queues; a worker machine that vanished holds its message
unacknowledged until the broker's visibility timeout (hours). The store knows better:
a celery job that is ``queued`` or ``running``, whose lease nobody renews, whose message
was sent more than ``requeue_after_s`` ago and is not waiting in the broker's queue,
is sent again. One sweeper per job acts at a time (a lease on ``requeue:<id>``); a
message sent twice is harmless, since a worker runs a job only under its lease and
never a job that ended.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable

from codeagent.graphs.jobs.config import RunConfig
from codeagent.graphs.jobs.records import JobRecord
from codeagent.graphs.jobs.store import JobStore, store_for
from codeagent.graphs.workers.app import DEFAULT_QUEUE, EngineSettings
from codeagent.graphs.workers.submit import enqueue
from codeagent.tools.errors import CodeAgentError

__all__ = ["Sweeper", "lost_jobs", "sweep"]

_log = logging.getLogger("codeagent.worker")
_WAITING = frozenset({"queued", "running"})


def lost_jobs(
    records: Iterable[JobRecord], queued_ids: set[str], now: float, requeue_after_s: float
) -> list[JobRecord]:
    """The celery jobs that may have lost their message (pure; leases not yet checked)."""
    return [
        r
        for r in records
        if r.engine == "celery"
        and r.status in _WAITING
        and r.thread_id not in queued_ids
        and now - (r.enqueued_at or r.created_at) > requeue_after_s
    ]


def sweep(config: RunConfig, settings: EngineSettings, owner: str) -> list[str]:
    """Send the messages of lost jobs again; returns their thread ids."""
    store = store_for(config)
    records = [r for r in store.list_records(_WAITING) if r.engine == "celery"]
    queues = {r.queue or DEFAULT_QUEUE for r in records}
    candidates = lost_jobs(
        records, _queued_ids(settings, queues), time.time(), settings.requeue_after_s
    )
    sent = []
    for record in candidates:
        if not _orphaned(store, record, owner, settings):
            continue
        enqueue(store.load_record(record.thread_id), config, settings)
        _log.warning("job %s had lost its message: sent again", record.thread_id)
        sent.append(record.thread_id)
    return sent


def _orphaned(store: JobStore, record: JobRecord, owner: str, settings: EngineSettings) -> bool:
    """True when no worker holds the job and this sweeper is the one to requeue it."""
    if store.claim(f"requeue:{record.thread_id}", owner, settings.requeue_after_s) is not None:
        return False  # another sweeper acts on it this period
    # taking the job's lease with no life left: only succeeds when nobody holds it
    return store.claim(record.thread_id, f"sweeper:{owner}", 0.0) is None


def _queued_ids(settings: EngineSettings, queues: set[str]) -> set[str]:
    """Thread ids of the messages waiting in a Redis broker's queues."""
    if not queues or not settings.broker_url.startswith(("redis://", "rediss://")):
        return set()
    import redis

    client = redis.Redis.from_url(settings.broker_url, socket_timeout=5)
    try:
        raw = [item for queue in sorted(queues) for item in client.lrange(queue, 0, -1)]
    finally:
        client.close()
    ids = set()
    for item in raw:
        try:
            task_id = json.loads(item)["headers"]["id"]
        except (ValueError, KeyError, TypeError):
            continue
        ids.add(str(task_id).rsplit(".", 1)[0])
    return ids


class Sweeper:
    """Runs :func:`sweep` every ``settings.sweep_every_s`` on a daemon thread."""

    def __init__(self, config: RunConfig, settings: EngineSettings, owner: str) -> None:
        self._config, self._settings, self._owner = config, settings, owner
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="codeagent-sweeper", daemon=True)

    def start(self) -> None:
        """Start sweeping (nothing when ``sweep_every_s`` is 0)."""
        if self._settings.sweep_every_s > 0:
            self._thread.start()

    def stop(self) -> None:
        """Stop after the sweep in progress."""
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self._settings.sweep_every_s):
            try:
                sweep(self._config, self._settings, self._owner)
            except (CodeAgentError, OSError) as exc:  # a broker or database away: next time
                _log.warning("sweep skipped: %s", exc)
            except Exception as exc:  # redis' errors and the like: keep sweeping
                _log.warning("sweep skipped: %s: %s", type(exc).__name__, exc)
