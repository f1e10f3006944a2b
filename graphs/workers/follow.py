"""Follow many submitted jobs through the shared store, and time what their workers did.

Example::

    for record in settled(thread_ids, config):
        print(record.thread_id, record.status, run_seconds(config, record.thread_id))
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from codeagent.graphs.jobs.config import RunConfig
from codeagent.graphs.jobs.records import JobRecord
from codeagent.graphs.jobs.store import store_for
from codeagent.graphs.workers.submit import SETTLED
from codeagent.tools.observability.trace_file import load_spans

__all__ = ["run_seconds", "settled"]


def settled(
    thread_ids: Iterable[str], config: RunConfig, *, poll_s: float = 0.5
) -> Iterator[JobRecord]:
    """Each job's record once it ended or waits for an approval, in the order seen.

    The store is read once per job every ``poll_s`` seconds until every job settled.

    Raises:
        ConfigError: When a job is not in the store, or the store does not answer.
    """
    store = store_for(config)
    waiting = list(dict.fromkeys(thread_ids))
    while waiting:
        still = []
        for thread_id in waiting:
            record = store.load_record(thread_id)
            if record.status in SETTLED:
                yield record
            else:
                still.append(thread_id)
        waiting = still
        if waiting:
            time.sleep(poll_s)


def run_seconds(config: RunConfig, thread_id: str) -> float | None:
    """Seconds the workers spent running the job: its ``invoke_workflow`` spans (every
    run of it, resumes included), queue time left out; None when its trace has none."""
    spans = load_spans(store_for(config).read_trace(thread_id))
    runs = [
        s.duration_s
        for s in spans
        if s.attributes.get("gen_ai.operation.name") == "invoke_workflow" and s.end_ns
    ]
    return round(sum(runs), 3) if runs else None
