"""Repo mode: a user's existing repository as the workspace.

File handling: a snapshot of the user's repository in, a verified patch out.

The user's working tree is read once (:func:`take_snapshot`) and written only at the
end, when asked (:func:`apply_changes`, :func:`commit_on_branch`); in between a job
works on the snapshot, which a resumed job reloads from the state dir
(:func:`load_snapshot`). The pure rest: ``repomap`` (symbols, a ranked repo map),
``reading`` (the bounded read step), ``edits`` (three edit formats, all-or-nothing),
``testcmd`` (the test command, AGENTS.md), ``outcomes`` (per-test results and the
verdict against the baseline), ``mutants`` and ``line_coverage`` (the repo-tests
workflow's checks: broken copies of a module, its line coverage).
"""

from __future__ import annotations

from codeagent.tools.repo.listing import RepoLimits, list_repo_files
from codeagent.tools.repo.patch import PatchStats, check_changes, make_patch, patch_stats
from codeagent.tools.repo.snapshot import (
    Snapshot,
    decode_text,
    file_digest,
    load_snapshot,
    snapshot_id,
    store_snapshot,
    take_snapshot,
)
from codeagent.tools.repo.writeback import apply_changes, commit_on_branch

__all__ = [
    "PatchStats",
    "RepoLimits",
    "Snapshot",
    "apply_changes",
    "check_changes",
    "commit_on_branch",
    "decode_text",
    "file_digest",
    "list_repo_files",
    "load_snapshot",
    "make_patch",
    "patch_stats",
    "snapshot_id",
    "store_snapshot",
    "take_snapshot",
]
