"""Hand a finished repo job's patch to the user's repository: apply it, or commit it on a branch.

Only on request and only after the job succeeded; during a job the user's working
tree is never written. ``codeagent run --repo PATH --apply/--branch NAME`` and
``codeagent apply JOB`` both end here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from codeagent.graphs.jobs.config import RunConfig, run_config
from codeagent.graphs.jobs.repo import apply_patch, commit_patch
from codeagent.graphs.jobs.runner import job_values
from codeagent.graphs.jobs.store import store_for
from codeagent.tools.errors import ConfigError

__all__ = ["Delivery", "deliver"]


@dataclass(frozen=True)
class Delivery:
    """What was done with a job's patch.

    Attributes:
        thread_id: The job.
        applied: Files written into the working tree (empty: not applied).
        branch: The branch created (None: none).
        commit: The commit on that branch.
    """

    thread_id: str
    applied: list[str] = field(default_factory=list)
    branch: str | None = None
    commit: str | None = None


def deliver(
    thread_id: str,
    *,
    apply: bool = False,
    branch: str | None = None,
    home: str | Path | None = None,
    config: RunConfig | None = None,
) -> Delivery:
    """Apply a successful repo job's changes and/or commit them on a new branch.

    Raises:
        ConfigError: When the job is not a repo job, did not succeed, or changed nothing.
        RepoError: When a touched file changed since the job started (nothing is
            applied), or the branch cannot be made.
    """
    cfg = run_config(config, home)
    record, values = job_values(thread_id, config=cfg)
    if not record.repo:
        raise ConfigError(
            f"job {thread_id} did not work on a repository: it has no patch",
            hint=f"its files are in {record.out_dir}",
        )
    if record.status != "success":
        raise ConfigError(
            f"job {thread_id} ended {record.status}: only a successful job's patch is applied",
            hint=(
                f"continue it (codeagent resume {thread_id}) or read {record.out_dir}/changes.patch"
            ),
        )
    changes = dict(values.get("files") or {})
    if not changes:
        raise ConfigError(f"job {thread_id} changed no file", hint="there is nothing to apply")
    applied = apply_patch(record.repo, changes, store_for(cfg), cfg.home) if apply else []
    commit = None
    if branch:
        title = record.task.strip().splitlines()[0][:60]
        message = f"codeagent: {title}\n\nJob {thread_id}."
        commit = commit_patch(record.repo, changes, branch, message)
    return Delivery(thread_id, applied, branch if commit else None, commit)
