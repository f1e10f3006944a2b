"""The few git plumbing calls repo mode needs, through the ``git`` command (never a library).

Every call is ``git -C root ...`` with bytes in and out, so file names pass through
unchanged (``-z`` output, no quoting), and with messages in plain English so a
failure can be told apart. Any failure becomes a :class:`RepoError` that quotes
git's own message.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from codeagent.tools.errors import RepoError

__all__ = [
    "config_value",
    "current_branch",
    "git",
    "head_commit",
    "run_git",
    "top_level",
    "work_tree_prefix",
]

GIT_TIMEOUT_S = 120
"""A plumbing call that takes longer is stuck (a lock, a prompt), not slow."""


def git(
    root: Path,
    args: Sequence[str],
    *,
    stdin: bytes = b"",
    env: Mapping[str, str] | None = None,
) -> bytes:
    """Run ``git -C root ARGS`` and return its standard output.

    Args:
        root: The directory git runs in.
        args: The git sub-command and its arguments.
        stdin: Bytes fed to the command.
        env: Extra environment variables for this command only.

    Raises:
        RepoError: When git is missing, times out or exits non-zero (with its message).
    """
    proc = run_git(root, args, stdin=stdin, env=env)
    if proc.returncode != 0:
        said = proc.stderr.decode("utf-8", "replace").strip() or f"exit status {proc.returncode}"
        raise RepoError(f"git {_verb(args)} failed in {root}: {said}")
    return proc.stdout


def work_tree_prefix(root: Path) -> str | None:
    """Where ``root`` lies inside its git work tree (``""`` at the top, ``"sub/"`` below).

    Returns:
        The prefix, or None when ``root`` is not in a git work tree or git is not installed
        (the caller then walks the directory itself).

    Raises:
        RepoError: When git refuses the repository (e.g. it belongs to another user).
    """
    try:
        proc = run_git(root, ("rev-parse", "--is-inside-work-tree", "--show-prefix"))
    except RepoError:
        return None
    said = proc.stderr.decode("utf-8", "replace")
    if "dubious ownership" in said:
        raise RepoError(
            f"git refuses to read {root}: it belongs to another user",
            hint=f"if you trust it: git config --global --add safe.directory {root}",
        )
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if proc.returncode != 0 or not lines or lines[0] != "true":
        return None
    return lines[1] if len(lines) > 1 else ""


def head_commit(root: Path) -> str | None:
    """The full sha of HEAD, or None in a repository without commits yet."""
    proc = run_git(root, ("rev-parse", "--verify", "--quiet", "HEAD^{commit}"))
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def current_branch(root: Path) -> str | None:
    """The branch HEAD points at (``main``), or None on a detached HEAD."""
    proc = run_git(root, ("symbolic-ref", "--quiet", "--short", "HEAD"))
    return proc.stdout.decode("utf-8", "surrogateescape").strip() if proc.returncode == 0 else None


def top_level(root: Path) -> Path:
    """The top directory of the work tree ``root`` lies in.

    Raises:
        RepoError: When ``root`` is not in a git work tree.
    """
    out = git(root, ("rev-parse", "--show-toplevel"))
    return Path(os.fsdecode(out.rstrip(b"\n")))


def config_value(root: Path, key: str) -> str | None:
    """The value git's configuration gives ``key`` in ``root``, or None when unset."""
    proc = run_git(root, ("config", "--get", key))
    return proc.stdout.decode("utf-8", "replace").strip() if proc.returncode == 0 else None


def run_git(
    root: Path,
    args: Sequence[str],
    *,
    stdin: bytes = b"",
    env: Mapping[str, str] | None = None,
    timeout_s: float = GIT_TIMEOUT_S,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git -C root ARGS`` (``LC_ALL=C``, never a prompt) whatever its exit status.

    Args:
        root: The directory git runs in.
        args: Everything after ``git -C root`` (``-c key=value`` options first).
        stdin: Bytes fed to the command.
        env: Extra environment variables for this command only.
        timeout_s: How long it may take.

    Raises:
        RepoError: When git is missing or does not finish in time.
    """
    full_env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    try:
        return subprocess.run(
            ("git", "-C", str(root), *args),
            input=stdin,
            capture_output=True,
            env=full_env,
            timeout=timeout_s,
            check=False,
        )
    except FileNotFoundError:
        raise RepoError(
            "git is not installed", hint="install git (e.g. apt-get install git)"
        ) from None
    except subprocess.TimeoutExpired:
        raise RepoError(
            f"git {_verb(args)} did not finish in {timeout_s:g}s in {root}",
            hint="another git process may hold a lock (.git/index.lock); retry when it ends",
        ) from None


def _verb(args: Sequence[str]) -> str:
    """The git sub-command in ``args`` (after any ``-c key=value`` options)."""
    rest = list(args)
    while len(rest) > 1 and rest[0] == "-c":
        rest = rest[2:]
    return rest[0] if rest else "git"
