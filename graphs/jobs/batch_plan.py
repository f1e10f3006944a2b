"""Where each task of a batch goes: its job's thread id, workflow and output folder.

Both engines of :func:`~codeagent.graphs.jobs.batch.run_batch` use one plan, so a
task keeps its job (``batch-<key>-<task id>``) whichever engine runs the batch, and a
rerun finds it again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from codeagent.graphs.jobs.batch_tasks import BatchTask
from codeagent.graphs.jobs.config import RunConfig

__all__ = ["BatchPlan", "batch_folder"]


def batch_folder(tasks: str | Path, out: str | Path | None = None) -> Path:
    """The batch folder: ``out``, else ``out/batch-<tasks file stem>`` (absolute)."""
    return Path(out or Path("out") / f"batch-{Path(tasks).stem}").resolve()


@dataclass(frozen=True)
class BatchPlan:
    """How the tasks of one batch map to jobs.

    Attributes:
        base: The tasks file's folder (task workflows are relative to it).
        workflow: The workflow of tasks that name none.
        folder: The batch folder (``results.jsonl``, ``<task id>/``).
        config: Where the jobs keep their state.
    """

    base: Path
    workflow: str | Path
    folder: Path
    config: RunConfig

    @property
    def key(self) -> str:
        """A short hash of the batch folder: two batches never share a job."""
        return hashlib.sha256(str(self.folder).encode()).hexdigest()[:8]

    def thread_id(self, task_id: str) -> str:
        """The job id of a task, the same in every run of the batch."""
        return f"batch-{self.key}-{task_id}"

    def out_dir(self, task_id: str) -> Path:
        """Where a task's files are written."""
        return self.folder / task_id

    def workflow_of(self, item: BatchTask) -> str | Path:
        """A task's workflow: its own (a file relative to the tasks file, or a shipped
        name), else the batch's."""
        ref = item.workflow or self.workflow
        if isinstance(ref, str) and item.workflow and (self.base / ref).is_file():
            return self.base / ref
        return ref
