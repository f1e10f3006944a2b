"""The celery engine: run graph jobs on workers across machines (Redis broker, shared store).

Example::

    from codeagent.graphs.workers import submit_job

    handle = submit_job("Write slugify(title) ...", workflow="quick")
    result = handle.wait()
"""

from __future__ import annotations

from codeagent.graphs.workers.app import BROKER_URL_ENV, DEFAULT_QUEUE, EngineSettings
from codeagent.graphs.workers.submit import JobHandle, submit_job

__all__ = ["BROKER_URL_ENV", "DEFAULT_QUEUE", "EngineSettings", "JobHandle", "submit_job"]
