"""Repo jobs at the edges: snapshot the repository at the start, hand back its patch at the end.

The snapshot goes into the state dir once (``<home>/snapshots/<id>.tar``) and the job's
state keeps only its id and the changed files, so checkpoints stay small and a resumed
job rebuilds its workspace from the snapshot, not from the user's tree as it is now.
The user's working tree is written only on request, after the job:
:func:`apply_patch` (refusing when a touched file changed since the snapshot) or
:func:`commit_patch` (a new branch; never the current one, never a push).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from codeagent.tools.errors import RepoError
from codeagent.tools.repo.patch import make_patch
from codeagent.tools.repo.snapshot import (
    Snapshot,
    load_snapshot,
    store_snapshot,
    take_snapshot,
)
from codeagent.tools.repo.writeback import apply_changes, commit_on_branch

__all__ = [
    "apply_patch",
    "commit_patch",
    "job_patch",
    "repo_start",
    "snapshot_loader",
]


def repo_start(root: Path, home: Path, test_cmd: str | Sequence[str] | None) -> dict[str, Any]:
    """Snapshot ``root`` into the state dir; the ``repo`` record a new job starts with.

    Raises:
        RepoError: When the repository cannot be read or is over the size caps.
    """
    snapshot = take_snapshot(root.expanduser().resolve())
    store_snapshot(snapshot, home)
    command = shlex.split(test_cmd) if isinstance(test_cmd, str) else test_cmd
    return {
        "root": snapshot.root,
        "snapshot": snapshot.id,
        "base_commit": snapshot.base_commit,
        "files": len(snapshot.files),
        "bytes": snapshot.total_bytes,
        "skipped": [list(s) for s in snapshot.skipped][:50],
        "test_cmd": list(command) if command else None,
        "targets": [],
    }


def snapshot_loader(home: Path) -> Callable[[str], Snapshot]:
    """Loads snapshots by id from ``home`` (each read once per process)."""

    @lru_cache(maxsize=4)
    def load(snapshot_id: str) -> Snapshot:
        return load_snapshot(snapshot_id, home)

    return load


def job_patch(values: Mapping[str, Any], home: Path) -> str | None:
    """The unified diff of a repo job's changes (``None`` for other jobs)."""
    repo = values.get("repo")
    if not repo:
        return None
    snapshot = load_snapshot(str(repo["snapshot"]), home)
    return make_patch(snapshot.files, dict(values.get("files") or {}))


def apply_patch(repo: Mapping[str, Any], changes: Mapping[str, str], home: Path) -> list[str]:
    """Write a finished repo job's changes into the user's working tree.

    Raises:
        RepoError: When a touched file changed since the job's snapshot (nothing is written).
    """
    snapshot = load_snapshot(str(repo["snapshot"]), home)
    return apply_changes(Path(str(repo["root"])), snapshot.files, dict(changes))


def commit_patch(
    repo: Mapping[str, Any], changes: Mapping[str, str], branch: str, message: str
) -> str:
    """Commit a finished repo job's changes on a new branch of the user's repository.

    Raises:
        RepoError: When the folder is not a git repository, or the branch exists.
    """
    base = repo.get("base_commit")
    if not base:
        raise RepoError(
            "the repository had no commit when the job started, so there is nothing to branch from",
            hint="use --apply instead, or commit first and run the job again",
        )
    return commit_on_branch(Path(str(repo["root"])), dict(changes), branch, message, str(base))
