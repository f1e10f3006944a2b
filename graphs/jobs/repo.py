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

from codeagent.graphs.jobs.store import FileStore, JobStore
from codeagent.tools.errors import RepoError
from codeagent.tools.repo.patch import make_patch
from codeagent.tools.repo.snapshot import (
    Snapshot,
    load_snapshot,
    snapshot_files,
    store_snapshot,
    take_snapshot,
)
from codeagent.tools.repo.writeback import apply_changes, commit_on_branch

__all__ = [
    "apply_patch",
    "commit_patch",
    "fetch_snapshot",
    "job_patch",
    "repo_start",
    "snapshot_loader",
]


def repo_start(
    root: Path, store: JobStore, home: Path, test_cmd: str | Sequence[str] | None
) -> dict[str, Any]:
    """Snapshot ``root`` into the state dir (and a shared store); the ``repo`` record a
    new job starts with.

    Raises:
        RepoError: When the repository cannot be read or is over the size caps.
    """
    snapshot = take_snapshot(root.expanduser().resolve())
    store_snapshot(snapshot, home)
    if _shared(store, home):  # workers on other machines read it from there
        for path in snapshot_files(snapshot.id, home):
            store.put_blob(f"snapshots/{path.name}", path.read_bytes())
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


def _shared(store: JobStore, home: Path) -> bool:
    return not (isinstance(store, FileStore) and store.home == home)


def fetch_snapshot(snapshot_id: str, store: JobStore, home: Path) -> Snapshot:
    """A snapshot from ``home``, fetched there first from a shared store when missing.

    Raises:
        RepoError: When neither has it, or it is corrupt.
    """
    paths = snapshot_files(snapshot_id, home)
    if _shared(store, home) and not all(path.is_file() for path in paths):
        for path in paths:
            data = store.get_blob(f"snapshots/{path.name}")
            if data is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(path.name + ".part")
                tmp.write_bytes(data)
                tmp.replace(path)
    return load_snapshot(snapshot_id, home)


def snapshot_loader(store: JobStore, home: Path) -> Callable[[str], Snapshot]:
    """Loads snapshots by id (each read once per process): :func:`fetch_snapshot`."""

    @lru_cache(maxsize=4)
    def load(snapshot_id: str) -> Snapshot:
        return fetch_snapshot(snapshot_id, store, home)

    return load


def job_patch(values: Mapping[str, Any], store: JobStore, home: Path) -> str | None:
    """The unified diff of a repo job's changes (``None`` for other jobs)."""
    repo = values.get("repo")
    if not repo:
        return None
    snapshot = fetch_snapshot(str(repo["snapshot"]), store, home)
    return make_patch(snapshot.files, dict(values.get("files") or {}))


def apply_patch(
    repo: Mapping[str, Any], changes: Mapping[str, str], store: JobStore, home: Path
) -> list[str]:
    """Write a finished repo job's changes into the user's working tree.

    Raises:
        RepoError: When a touched file changed since the job's snapshot (nothing is written).
    """
    snapshot = fetch_snapshot(str(repo["snapshot"]), store, home)
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
