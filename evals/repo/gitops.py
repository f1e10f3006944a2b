"""Git on the host, for data only: base trees, commits, applying and writing patches.

Patches are applied here, on the host, to throw-away copies (a patch is data; the
code it carries only ever runs in a sandbox). Every call shuts out the user's and
the system's git config, hooks and signing, and commits with a fixed identity and
date, so the same tree gives the same commit hash on every machine.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from codeagent.tools.errors import ConfigError, RepoError
from codeagent.tools.repo.gitops import run_git

__all__ = [
    "Applied",
    "apply_patch",
    "checked",
    "commit_all",
    "diff_worktree",
    "git",
    "read_tree",
    "tracked_files",
]

_CONFIG = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.autocrlf=false",
    "-c",
    "core.fileMode=true",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "advice.detachedHead=false",
)
_WHEN = "2024-01-01T00:00:00+00:00"
_IDENTITY = {
    "GIT_AUTHOR_NAME": "codeagent eval",
    "GIT_AUTHOR_EMAIL": "eval@codeagent.invalid",
    "GIT_AUTHOR_DATE": _WHEN,
    "GIT_COMMITTER_NAME": "codeagent eval",
    "GIT_COMMITTER_EMAIL": "eval@codeagent.invalid",
    "GIT_COMMITTER_DATE": _WHEN,
}


@dataclass(frozen=True)
class Applied:
    """Whether a patch applied, and git's reason when it did not."""

    ok: bool
    detail: str = ""


def git(
    args: list[str], cwd: Path, *, stdin: str | None = None, isolated: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``git ARGS`` in ``cwd`` (never raises for git's own exit status).

    Args:
        args: The arguments after ``git``.
        cwd: The working directory.
        stdin: Text for git's standard input.
        isolated: Shut out the user's and system git config (off for fetching from a
            URL, which may need the user's credentials and proxy settings).

    Raises:
        ConfigError: When git is not installed or does not answer in time.
    """
    env = {**_IDENTITY}
    if isolated:
        env.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})
    try:
        proc = run_git(
            cwd, [*_CONFIG, *args], stdin=(stdin or "").encode("utf-8"), env=env, timeout_s=600
        )
    except RepoError as exc:  # no git, or stuck: no task of the eval can be set up
        raise ConfigError(exc.message, hint=exc.hint) from None
    return subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def checked(args: list[str], cwd: Path, what: str, *, isolated: bool = True) -> str:
    """Run git and return its output; a failure is a :class:`ConfigError` saying ``what``."""
    proc = git(args, cwd, isolated=isolated)
    if proc.returncode != 0:
        reason = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ConfigError(f"{what}: {reason[0][:300]}", hint=f"git {' '.join(args)} in {cwd}")
    return proc.stdout


def commit_all(root: Path, message: str = "base") -> str:
    """Commit everything in ``root`` that ``.gitignore`` does not exclude; the new hash.

    ``root`` becomes a repository when it is not one yet.
    """
    if not (root / ".git").exists():
        checked(["init", "-q"], root, "git init failed")
    checked(["add", "-A"], root, "git add failed")
    checked(["commit", "-q", "--allow-empty", "-m", message], root, "git commit failed")
    return checked(["rev-parse", "HEAD"], root, "git rev-parse failed").strip()


def apply_patch(root: Path, patch: str) -> Applied:
    """Apply ``patch`` to the files in ``root``, whole or not at all.

    Tries ``git apply`` as written, then once more ignoring whitespace and
    recounting the hunks (model-written diffs often get the counts wrong).
    """
    if not patch.strip():
        return Applied(True)
    text = patch if patch.endswith("\n") else patch + "\n"
    first = git(["apply", "--whitespace=nowarn", "-"], root, stdin=text)
    if first.returncode == 0:
        return Applied(True)
    loose = ["apply", "--whitespace=nowarn", "--ignore-whitespace", "--recount", "-"]
    if git(loose, root, stdin=text).returncode == 0:
        return Applied(True)
    reason = first.stderr.strip().splitlines()
    return Applied(False, "; ".join(reason[:3])[:300] or "git apply failed")


def diff_worktree(root: Path) -> str:
    """The working tree's changes against ``HEAD``, new files included: a git diff."""
    checked(["add", "-A"], root, "git add failed")
    return checked(["diff", "--cached", "--no-color", "--no-ext-diff", "HEAD"], root, "git diff")


def tracked_files(root: Path) -> list[str]:
    """The files git would track in ``root``: committed, and new ones not ignored."""
    out = checked(["ls-files", "-z", "-co", "--exclude-standard"], root, "git ls-files failed")
    return sorted({p for p in out.split("\0") if p})


def read_tree(root: Path) -> tuple[dict[str, str], list[str]]:
    """The text of every tracked regular file in ``root``, and the paths left out.

    Symbolic links are left out (a patch must not make the host read a file outside
    the tree), and so are files that are not UTF-8 text.
    """
    files, skipped = {}, []
    for rel in tracked_files(root):
        path = root / rel
        if path.is_symlink() or not path.is_file():
            skipped.append(rel)
            continue
        try:
            files[rel] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            skipped.append(rel)
    return files, skipped
