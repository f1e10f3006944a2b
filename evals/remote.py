"""Agent-mode evals on the celery engine: the problems' jobs run on ``codeagent worker``
processes; scoring stays here.

Every problem's job is queued at once (the workers' chat model and sandbox run it); the
harness then waits for each, writes its files to ``OUT/work/agent/<problem>/`` and
scores them on the hidden tests in this machine's sandbox, as for a local run. The
hidden tests never leave this machine.

Example::

    with QueuedJobs(problems, workflow=path, out=Path("eval-out"), config=cfg,
                    settings=EngineSettings.from_env()) as jobs:
        files, fields = jobs.solve(problems[0])
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from codeagent.evals.datasets import Problem
from codeagent.evals.results import agent_fields
from codeagent.evals.tasks import task_text
from codeagent.graphs.jobs.config import RunConfig
from codeagent.graphs.jobs.records import JobRecord
from codeagent.graphs.workers.app import EngineSettings, check_broker
from codeagent.graphs.workers.follow import run_seconds
from codeagent.graphs.workers.submit import submit_job
from codeagent.tools.errors import CodeAgentError

__all__ = ["QueuedJobs"]


class QueuedJobs:
    """The agent's jobs of an eval, queued for the workers when made.

    Args:
        problems: The problems to run now.
        workflow: The workflow file (the workers read its text from the job's record).
        out: The eval folder: each problem's files go to ``out/work/agent/<key>``.
        config: The shared job store the workers use (a checkpoint URL).
        settings: The broker.
        poll_s: How often a waiting problem reads its job's record.

    Raises:
        ConfigError: When the broker does not answer, or the workflow is bad (nothing
            is queued, or the jobs queued so far are left to the workers).
    """

    def __init__(
        self,
        problems: Sequence[Problem],
        *,
        workflow: Path,
        out: Path,
        config: RunConfig,
        settings: EngineSettings,
        poll_s: float = 0.5,
    ) -> None:
        self._config, self._poll_s = config, poll_s
        self._stop = threading.Event()
        if problems:
            check_broker(settings)
        self._handles = {
            p.task_id: submit_job(
                task_text(p),
                workflow=workflow,
                out=out / "work" / "agent" / p.key,
                config=config,
                settings=settings,
            )
            for p in problems
        }

    def solve(self, problem: Problem) -> tuple[dict[str, str], dict[str, Any]]:
        """Wait for the problem's job; its files (written out here) and result fields.

        Raises:
            CodeAgentError: When the eval stopped waiting (:meth:`close`).
        """
        handle = self._handles[problem.task_id]
        result = handle.wait(poll_s=self._poll_s, on_poll=self._check)
        fields = agent_fields(result)
        fields["wall_s"] = run_seconds(self._config, handle.thread_id)
        return result.files, fields

    def _check(self, record: JobRecord) -> None:
        if self._stop.is_set():
            raise CodeAgentError(f"stopped waiting for job {record.thread_id} (it goes on)")

    def close(self) -> None:
        """Stop waiting: every :meth:`solve` in progress gives up at its next poll."""
        self._stop.set()

    def __enter__(self) -> QueuedJobs:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
