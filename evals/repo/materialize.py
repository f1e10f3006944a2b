"""A task's starting repository: its base tree, as a git repository at a known commit.

A task whose ``repo`` is a plain directory (the pilot's repositories) is copied,
its ``bug_patch`` applied, and the result committed once with a fixed author,
committer and date: the commit hash is a function of the tree alone, stored as
``base_commit`` and checked on every use. A task whose ``repo`` is a git URL or a
local repository is fetched at ``base_commit`` into a fresh repository, so only
that commit's history comes along (never the later commits that hold the fix).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from codeagent.evals.repo.gitops import apply_patch, checked, commit_all
from codeagent.evals.repo.task import RepoTask
from codeagent.tools.errors import ConfigError

__all__ = ["BASE_MESSAGE", "base_commit_of", "materialize", "verify_bases"]

BASE_MESSAGE = "base"
_SKIP = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".pytest_cache", "node_modules")


def materialize(task: RepoTask, workdir: Path) -> Path:
    """Lay out ``task``'s base in ``workdir`` (new or empty) as a repository; return it.

    Raises:
        ConfigError: When ``workdir`` is not empty, the repository cannot be copied or
            fetched, the ``bug_patch`` does not apply, or the base is not ``base_commit``
            (the repository changed since the task file was built).
    """
    if workdir.exists() and any(workdir.iterdir()):
        raise ConfigError(f"{workdir} is not empty", hint="materialize into a new folder")
    workdir.mkdir(parents=True, exist_ok=True)
    if task.git_source:
        _fetch(task, workdir)
        return workdir
    found = _build(Path(task.source), task.bug_patch, workdir, task.instance_id)
    if found != task.base_commit:
        raise ConfigError(
            f"task {task.instance_id!r}: the base built from {task.repo} is commit "
            f"{found[:12]}, not base_commit {task.base_commit[:12]}",
            hint="the repository's files changed since the task file was written: restore "
            "them (git status / git clean in that folder) or rebuild the task file",
        )
    return workdir


def verify_bases(tasks: Iterable[RepoTask]) -> None:
    """Check that each plain-directory task still builds its ``base_commit`` (before any
    model time is spent); git sources are checked when fetched.

    Raises:
        ConfigError: For the first task whose base does not match.
    """
    for task in tasks:
        if not task.git_source:
            with tempfile.TemporaryDirectory(prefix="codeagent-verify-") as tmp:
                materialize(task, Path(tmp) / "base")


def base_commit_of(source: Path, bug_patch: str, workdir: Path) -> str:
    """The commit a plain-directory task's base gets (``workdir`` receives the base)."""
    workdir.mkdir(parents=True, exist_ok=True)
    return _build(source, bug_patch, workdir, str(source))


def _build(source: Path, bug_patch: str, workdir: Path, name: str) -> str:
    try:
        shutil.copytree(source, workdir, ignore=_SKIP, symlinks=True, dirs_exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot copy the repository {source}: {exc}") from None
    checked(["init", "-q"], workdir, "git init failed")
    applied = apply_patch(workdir, bug_patch)
    if not applied.ok:
        raise ConfigError(
            f"{name}: bug_patch does not apply to {source}: {applied.detail}",
            hint="the repository changed since the task file was written; rebuild it",
        )
    return commit_all(workdir, BASE_MESSAGE)


def _fetch(task: RepoTask, workdir: Path) -> None:
    what = f"task {task.instance_id!r}: cannot fetch {task.base_commit[:12]} from {task.source}"
    checked(["init", "-q"], workdir, "git init failed")
    # the user's config applies to the fetch (credentials, proxies), not to the tree
    checked(
        ["fetch", "-q", "--no-tags", task.source, task.base_commit], workdir, what, isolated=False
    )
    checked(["checkout", "-q", "-B", "main", "FETCH_HEAD"], workdir, f"{what} (checkout)")
    head = checked(["rev-parse", "HEAD"], workdir, "git rev-parse failed").strip()
    if head != task.base_commit:
        raise ConfigError(f"{what}: got {head[:12]}")
