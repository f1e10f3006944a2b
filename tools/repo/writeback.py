"""Handing a job's changes back to the user's repository: applied, or committed on a new branch.

These are the only functions in repo mode that write to the user's repository, and
only when asked at the end of a job. :func:`apply_changes` checks every file first
and writes nothing if any changed since the snapshot; :func:`commit_on_branch`
builds the commit with git plumbing and a temporary index, so the working tree, the
index and the current branch stay as they were.
"""

from __future__ import annotations

import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from codeagent.tools.errors import RepoError
from codeagent.tools.repo.gitops import (
    config_value,
    current_branch,
    git,
    top_level,
    work_tree_prefix,
)
from codeagent.tools.repo.patch import check_changes
from codeagent.tools.workspace import safe_relpath

__all__ = ["apply_changes", "commit_on_branch"]

DEFAULT_IDENTITY = ("codeagent", "codeagent@localhost")
"""Author and committer of a branch commit when git has no identity configured."""


def apply_changes(
    root: Path, base: Mapping[str, bytes], changes: Mapping[str, str | None]
) -> list[str]:
    """Write a job's changes into the user's working tree, all or nothing.

    Every touched file is checked first: it must still hold the snapshot's bytes (or
    still be absent, for a new file). Only then are files written (a temporary file
    in the same directory, renamed over; the file's mode kept) and deleted. Should a
    write fail midway, the files already written are put back.

    Args:
        root: The repository's directory.
        base: The snapshot's files the changes were made against.
        changes: Path -> new text, or None to delete.

    Returns:
        The paths written or deleted, sorted.

    Raises:
        RepoError: For a bad path, or files changed since the snapshot (each one named;
            nothing was applied), or a write that failed (what was written is undone).
    """
    todo = check_changes(base, changes)
    if not root.is_dir():
        raise RepoError(
            f"repository {root} is gone; nothing was applied", hint="pass its new place"
        )
    real_root = os.path.realpath(root)
    conflicts = [
        problem
        for path in todo
        if (problem := _conflict(root, real_root, path, base.get(path))) is not None
    ]
    if conflicts:
        raise RepoError(
            f"{len(conflicts)} file(s) in {root} differ from the job's snapshot, so nothing"
            " was applied: " + "; ".join(conflicts),
            hint="commit or stash your edits, then apply the job's patch with `git apply`",
        )
    done: list[tuple[str, int | None]] = []
    for path, text in todo.items():
        try:
            done.append((path, _mode(root / path)))
            _put(root, path, None if text is None else text.encode("utf-8"))
        except OSError as exc:
            failed = _undo(root, done, base)
            raise RepoError(
                f"cannot write {path} in {root}: {exc.strerror or exc}; "
                + (f"could not restore {', '.join(failed)}" if failed else "nothing was changed"),
                hint="check the permissions and free space of the repository's disk",
            ) from exc
    return list(todo)


def commit_on_branch(
    root: Path,
    changes: Mapping[str, str | None],
    branch: str,
    message: str,
    base_commit: str,
) -> str:
    """Commit the changes on top of ``base_commit`` as the new branch ``branch``.

    Nothing is checked out and nothing is pushed: the objects are written with a
    temporary index, so the working tree, the real index and the current branch stay
    as they were. Without a configured identity the commit is by
    ``codeagent <codeagent@localhost>``.

    Args:
        root: The repository's directory (its top or a folder inside; paths are relative
            to it).
        changes: Path -> new text, or None to delete.
        branch: The new branch's name.
        message: The commit message.
        base_commit: The commit the job's snapshot was taken at (the new commit's parent).

    Returns:
        The new commit's sha.

    Raises:
        RepoError: Not a git repository, an invalid branch name, a branch that exists or
            is the current one, an unknown base commit, a bad path, or no change at all.
    """
    prefix = work_tree_prefix(root)
    if prefix is None:
        raise RepoError(f"{root} is not a git repository", hint="use --apply instead of --branch")
    top = top_level(root)
    _check_new_branch(top, branch)
    parent = _resolve_commit(top, base_commit)
    check_changes({}, changes)  # every path valid before git is asked anything
    with tempfile.TemporaryDirectory(prefix="codeagent-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(top, ("read-tree", parent), env=env)
        entries = _index_modes(top, env)
        paths = {safe_relpath(p): prefix + safe_relpath(p) for p in changes}
        _check_entries(paths, entries)
        base = _blobs(top, parent, {p: full for p, full in paths.items() if full in entries})
        todo = check_changes(base, changes)
        if not todo:
            raise RepoError(f"the changes leave {parent[:12]} as it is; no branch was made")
        records = [
            _index_record(top, paths[p], text, entries, len(parent)) for p, text in todo.items()
        ]
        git(top, ("update-index", "-z", "--index-info"), stdin=b"".join(records), env=env)
        tree = git(top, ("write-tree",), env=env).decode().strip()
    commit = git(
        top,
        ("commit-tree", tree, "-p", parent),
        stdin=message.encode("utf-8", "replace"),
        env=_identity(top),
    )
    sha = commit.decode().strip()
    git(top, ("branch", "--no-track", branch, sha))
    return sha


def _conflict(root: Path, real_root: str, path: str, expected: bytes | None) -> str | None:
    """Why ``path`` on disk no longer matches the snapshot, or None when it does."""
    target = root / path
    parent = os.path.realpath(target.parent)
    if os.path.commonpath([real_root, parent]) != real_root:
        return f"{path}: its folder leads outside the repository"
    for folder in reversed(Path(path).parents[:-1]):
        if os.path.lexists(root / folder) and not (root / folder).is_dir():
            return f"{path}: {folder} is no longer a folder"
    try:
        if target.is_symlink():
            return f"{path}: a symbolic link in the working tree; change the file it points to"
        if expected is None:
            return f"{path}: created since the snapshot" if os.path.lexists(target) else None
        if target.is_dir():
            return f"{path}: now a folder"
        return None if target.read_bytes() == expected else f"{path}: changed since the snapshot"
    except FileNotFoundError:
        return f"{path}: deleted since the snapshot"
    except OSError as exc:
        return f"{path}: cannot be read ({exc.strerror or exc})"


def _put(root: Path, path: str, data: bytes | None, mode: int | None = None) -> None:
    """Write ``data`` to ``root/path`` atomically (None: delete it and any folder left empty)."""
    target = root / path
    if data is None:
        target.unlink()
        _prune(root, target.parent)
        return
    keep = _mode(target) if mode is None else mode
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".codeagent-{secrets.token_hex(6)}.tmp"  # short: the name may be long
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies, as for any file
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if keep is not None:
                os.fchmod(handle.fileno(), keep)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _undo(root: Path, done: list[tuple[str, int | None]], base: Mapping[str, bytes]) -> list[str]:
    """Put back what :func:`apply_changes` already changed; the paths that could not be."""
    failed = []
    for path, mode in reversed(done):
        try:
            if path in base:
                _put(root, path, base[path], mode)
            elif os.path.lexists(root / path):
                _put(root, path, None)
            else:
                _prune(root, (root / path).parent)
        except OSError:
            failed.append(path)
    return failed


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None


def _prune(root: Path, folder: Path) -> None:
    """Remove ``folder`` and its parents below ``root`` while they are empty (as git does)."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _check_new_branch(top: Path, branch: str) -> None:
    hint = "name a new branch, e.g. --branch codeagent/fix-parser"
    try:  # --branch also expands @{-1} and the like: only a plain name may pass
        named = git(top, ("check-ref-format", "--branch", branch)).decode("utf-8", "replace")
    except RepoError:
        named = ""
    if named.strip() != branch:
        raise RepoError(f"{branch!r} is not a valid branch name", hint=hint)
    if branch == current_branch(top):
        raise RepoError(f"{branch!r} is the current branch; the job makes a new one", hint=hint)
    try:
        git(top, ("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"))
    except RepoError:
        return  # no such branch: good
    raise RepoError(f"branch {branch!r} already exists; it was left as it is", hint=hint)


def _resolve_commit(top: Path, commit: str) -> str:
    try:
        return (
            git(top, ("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}")).decode().strip()
        )
    except RepoError:
        raise RepoError(
            f"the job's base commit {commit[:12]!r} is not in {top}",
            hint="the repository was re-cloned or its history rewritten; use --apply instead",
        ) from None


def _index_modes(top: Path, env: Mapping[str, str]) -> dict[str, str]:
    out = git(top, ("ls-files", "-s", "-z"), env=env)
    entries = {}
    for record in out.split(b"\0"):
        if record:
            info, _, name = record.partition(b"\t")
            entries[os.fsdecode(name)] = info.split(b" ")[0].decode()
    return entries


def _check_entries(paths: Mapping[str, str], entries: Mapping[str, str]) -> None:
    problems = []
    for rel, full in paths.items():
        mode = entries.get(full)
        if mode == "120000":
            problems.append(f"{rel}: a symbolic link in the base commit")
        elif mode == "160000":
            problems.append(f"{rel}: a submodule in the base commit")
        elif any(str(folder) in entries for folder in Path(full).parents[:-1]):
            problems.append(f"{rel}: a folder on its path is a file in the base commit")
        elif mode is None and any(name.startswith(full + "/") for name in entries):
            problems.append(f"{rel}: a folder in the base commit")
    if problems:
        raise RepoError(
            "the changes do not fit the base commit: " + "; ".join(problems),
            hint="use --apply and commit by hand",
        )


def _blobs(top: Path, commit: str, paths: Mapping[str, str]) -> dict[str, bytes]:
    """The base commit's content of ``paths`` (relative -> full path), by relative path."""
    if not paths:
        return {}
    query = "".join(f"{commit}:{full}\n" for full in paths.values()).encode("utf-8")
    out = git(top, ("cat-file", "--batch"), stdin=query)
    blobs, at = {}, 0
    for rel in paths:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split(b" ")[2])
        blobs[rel] = out[header_end + 1 : header_end + 1 + size]
        at = header_end + 1 + size + 1
    return blobs


def _index_record(
    top: Path, full: str, text: str | None, entries: Mapping[str, str], hex_len: int
) -> bytes:
    name = os.fsencode(full)
    if text is None:
        return b"0 " + b"0" * hex_len + b"\t" + name + b"\0"
    blob = git(top, ("hash-object", "-w", "--stdin", "--path", full), stdin=text.encode("utf-8"))
    mode = entries.get(full, "100644").encode()
    return mode + b" " + blob.strip() + b"\t" + name + b"\0"


def _identity(top: Path) -> dict[str, str]:
    """Author/committer variables for git when none are configured (this command only)."""
    env: dict[str, str] = {}
    for key, default in zip(("name", "email"), DEFAULT_IDENTITY, strict=True):
        names = (f"GIT_AUTHOR_{key.upper()}", f"GIT_COMMITTER_{key.upper()}")
        if config_value(top, f"user.{key}") is None and not all(os.environ.get(n) for n in names):
            env.update({n: os.environ.get(n) or default for n in names})
    return env
