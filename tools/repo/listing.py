"""Which files of a repository a job gets: what git would show, within size caps.

In a git work tree that is ``git ls-files -co --exclude-standard`` (tracked files and
untracked ones that are not ignored); elsewhere a walk obeying ``.gitignore`` files
(:mod:`codeagent.tools.repo.ignore`). Each candidate is then checked on disk: a
symbolic link is followed only while it stays inside the repository, and anything
that cannot be copied as a plain file is skipped with the reason, never silently.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from codeagent.tools.errors import RepoError, SandboxError
from codeagent.tools.repo.gitops import git, work_tree_prefix
from codeagent.tools.repo.ignore import walk_files
from codeagent.tools.workspace import safe_relpath

__all__ = ["DEFAULT_LIMITS", "RepoLimits", "list_repo_files"]


@dataclass(frozen=True)
class RepoLimits:
    """Caps on what a snapshot may hold; past one, the job stops before it starts.

    Attributes:
        max_files: Most files copied.
        max_total_bytes: Most bytes copied, all files together.
        max_file_bytes: Largest single file.
    """

    max_files: int = 5000
    max_total_bytes: int = 50_000_000
    max_file_bytes: int = 5_000_000


DEFAULT_LIMITS = RepoLimits()


def list_repo_files(
    root: Path, limits: RepoLimits = DEFAULT_LIMITS
) -> tuple[list[str], list[tuple[str, str]]]:
    """The files a snapshot of ``root`` copies, and those it skips with the reason.

    Args:
        root: The repository's directory (a git work tree or any directory).
        limits: The caps to enforce.

    Returns:
        Sorted POSIX relative paths to copy, and sorted ``(path, reason)`` pairs for
        files left out (a link leaving the repository, a fifo, an unreadable file, a
        name the sandbox cannot hold). Tracked files deleted from the work tree are
        simply absent.

    Raises:
        RepoError: When ``root`` is not a directory, or a cap is exceeded (the message
            says which, with the numbers and the biggest paths).
    """
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a directory"
        raise RepoError(f"repository {root} {what}", hint="pass the repository's top directory")
    real_root = os.path.realpath(root)
    files: list[str] = []
    sizes: dict[str, int] = {}
    skipped: list[tuple[str, str]] = []
    for rel in _candidates(root):
        size_or_reason = _check(root, real_root, rel)
        if isinstance(size_or_reason, str):
            if size_or_reason:
                skipped.append((rel, size_or_reason))
            continue
        files.append(rel)
        sizes[rel] = size_or_reason
        if len(files) > limits.max_files:
            _too_many(root, files, limits)
    _check_sizes(root, sizes, limits)
    return sorted(files), sorted(skipped)


def _candidates(root: Path) -> Iterator[str]:
    if work_tree_prefix(root) is None:
        yield from walk_files(root)
        return
    listed = git(root, ("ls-files", "-z", "-co", "--exclude-standard"))
    names = {os.fsdecode(raw) for raw in listed.split(b"\0") if raw}
    yield from sorted(names)


def _check(root: Path, real_root: str, rel: str) -> int | str:
    """The size to copy, or why ``rel`` is skipped (``""``: gone, say nothing)."""
    if rel.endswith("/"):
        return "a nested git repository (not copied)"
    try:
        if safe_relpath(rel) != rel:
            return "a name the sandbox cannot hold"
    except SandboxError as exc:
        return f"a name the sandbox cannot hold: {exc.message}"
    path = root / rel
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            reason = _link_reason(path, real_root)
            if reason:
                return reason
            info = path.stat()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if stat.S_ISDIR(info.st_mode):
        return "a directory (a git submodule?), not copied"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (fifo, socket or device)"
    if not os.access(path, os.R_OK):
        return "cannot be read: permission denied"
    return info.st_size


def _link_reason(path: Path, real_root: str) -> str:
    target = os.readlink(path)
    resolved = os.path.realpath(path)
    inside = os.path.commonpath([real_root, resolved]) == real_root and resolved != real_root
    if not inside:
        return f"symbolic link to {target}, outside the repository"
    if ".git" in Path(os.path.relpath(resolved, real_root)).parts:
        return f"symbolic link to {target}, inside .git"
    if not os.path.exists(resolved):
        return f"symbolic link to {target}, which does not exist"
    if os.path.isdir(resolved):
        return f"symbolic link to the directory {target}"
    return ""


def _too_many(root: Path, files: list[str], limits: RepoLimits) -> NoReturn:
    raise RepoError(
        f"the repository {root} has more than {limits.max_files} files"
        f" (max_files={limits.max_files}); of the first {len(files)}, most lie under"
        f" {_heaviest(files)}",
        hint="add generated or vendored folders to .gitignore, or raise RepoLimits.max_files",
    )


def _check_sizes(root: Path, sizes: dict[str, int], limits: RepoLimits) -> None:
    big = sorted(
        (p for p, size in sizes.items() if size > limits.max_file_bytes), key=lambda p: sizes[p]
    )
    if big:
        shown = ", ".join(f"{p} ({sizes[p]:,} bytes)" for p in reversed(big[-5:]))
        raise RepoError(
            f"{len(big)} file(s) in {root} exceed max_file_bytes={limits.max_file_bytes:,}:"
            f" {shown}",
            hint="add these paths to .gitignore, or raise RepoLimits.max_file_bytes",
        )
    total = sum(sizes.values())
    if total > limits.max_total_bytes:
        weights: Counter[str] = Counter()
        for path, size in sizes.items():
            weights[_top(path)] += size
        shown = ", ".join(f"{name} ({size:,} bytes)" for name, size in weights.most_common(3))
        raise RepoError(
            f"the files of {root} add up to {total:,} bytes, over"
            f" max_total_bytes={limits.max_total_bytes:,}; the biggest: {shown}",
            hint="add large data or build folders to .gitignore,"
            " or raise RepoLimits.max_total_bytes",
        )


def _heaviest(paths: Iterable[str]) -> str:
    counts = Counter(_top(path) for path in paths)
    return ", ".join(f"{name} ({n} files)" for name, n in counts.most_common(3))


def _top(path: str) -> str:
    head, sep, _ = path.partition("/")
    return head + sep
