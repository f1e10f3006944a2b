"""What repo nodes share: the repository as the job sees it, and one run of its tests.

A repo job's state holds ``repo`` (the snapshot's id, the test command, the targets)
and, in ``files``, only the files the agent changed (path -> new text). The
repository the nodes see is the snapshot overlaid with those changes; the snapshot
itself comes from the state dir (``ctx.load_snapshot``), never from the user's tree
as it is now, so a resumed job sees exactly what it started from.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codeagent.nodes.context import NodeContext
from codeagent.tools.errors import ConfigError
from codeagent.tools.repo.outcomes import (
    ERROR,
    FAILED,
    PASSED,
    instrumented_command,
    junit_outcomes,
    junit_path,
    runner_of,
    tap_failures,
    tap_outcomes,
    whole_run_id,
)
from codeagent.tools.sandbox import ExecResult
from codeagent.tools.sandbox.protocol import FileData

if TYPE_CHECKING:
    from codeagent.tools.contracts.state import AgentState
    from codeagent.tools.repo.snapshot import Snapshot

__all__ = [
    "RepoRun",
    "changed_files",
    "repo_info",
    "repo_texts",
    "run_repo_tests",
    "snapshot_of",
]

_OUTPUT_LIMIT = 6000


def repo_info(state: AgentState) -> dict[str, Any]:
    """The job's ``repo`` record; a clear error when the job is not a repo job."""
    info = state.get("repo")
    if not info:
        raise ConfigError(
            "this workflow's repo nodes need a repository",
            hint='run it with --repo PATH (codeagent run "TASK" --repo ./project)',
        )
    return dict(info)


def snapshot_of(state: AgentState, ctx: NodeContext) -> Snapshot:
    """The snapshot the job started from (loaded from the state dir, cached per job)."""
    info = repo_info(state)
    if ctx.load_snapshot is None:
        raise ConfigError("repo nodes need the job's snapshot store", hint="run them via run_job")
    return ctx.load_snapshot(str(info["snapshot"]))


def repo_texts(state: AgentState, ctx: NodeContext) -> dict[str, str]:
    """Every text file of the repository as the job sees it now (snapshot + changes)."""
    texts = snapshot_of(state, ctx).texts()
    texts.update(state.get("files") or {})
    return texts


def changed_files(base: Mapping[str, str], new: Mapping[str, str]) -> dict[str, str]:
    """The files of ``new`` that differ from ``base`` (added or changed)."""
    return {p: t for p, t in sorted(new.items()) if base.get(p) != t}


@dataclass(frozen=True)
class RepoRun:
    """One run of the repository's tests.

    Attributes:
        outcomes: Test id -> passed / failed / error / skipped.
        result: The command's result.
        command: What ran.
        readable: False when the runner's report could not be read (the run counts
            as one failed check then).
    """

    outcomes: dict[str, str]
    result: ExecResult
    command: list[str]
    readable: bool = True

    def output(self) -> str:
        """The run's output, head and tail kept within a prompt-sized limit; of a
        ``node --test`` run with failing tests, only what it says of those (and stderr)."""
        stdout = self.result.stdout
        if runner_of(self.command) == "node":
            stdout = tap_failures(stdout) or stdout
        text = (stdout + "\n" + self.result.stderr).strip()
        if len(text) <= _OUTPUT_LIMIT:
            return text
        cut = len(text) - _OUTPUT_LIMIT
        head, tail = text[: _OUTPUT_LIMIT // 3], text[-2 * _OUTPUT_LIMIT // 3 :]
        return f"{head}\n[... {cut} characters cut ...]\n{tail}"

    def failing(self) -> list[str]:
        """The ids that failed or errored."""
        return sorted(t for t, o in self.outcomes.items() if o in (FAILED, ERROR))


def run_repo_tests(
    ctx: NodeContext,
    snapshot: Snapshot,
    changes: Mapping[str, str],
    command: Sequence[str],
    targets: Sequence[str] = (),
) -> RepoRun:
    """Run ``command`` (with ``targets``) on the snapshot plus ``changes`` in a fresh sandbox."""
    run_id = secrets.token_hex(8)
    argv = instrumented_command(command, run_id, targets)
    runner = runner_of(command)
    with ctx.open_sandbox() as sandbox:
        sandbox.write_files({**_workspace_files(snapshot), **changes})
        result = sandbox.run(argv, timeout_s=ctx.test_timeout_s)
        reports = sandbox.read_files([junit_path(run_id)]) if runner == "pytest" else {}
    outcomes: dict[str, str] | None
    if result.exit_code in (126, 127) and not result.timed_out:  # no such command
        outcomes = None
    elif runner == "pytest":
        outcomes = junit_outcomes(reports.get(junit_path(run_id), ""))
    elif runner == "node":
        outcomes = tap_outcomes(result.stdout) or None
    else:
        outcomes = {whole_run_id(command): PASSED if result.ok else FAILED}
    if outcomes is None:
        return RepoRun({whole_run_id(command): ERROR}, result, argv, readable=False)
    if not result.ok and not any(o in (FAILED, ERROR) for o in outcomes.values()):
        # exit status and report disagree: the run does not pass (a crash, a forged report)
        outcomes[whole_run_id(command)] = FAILED
    return RepoRun(outcomes, result, argv)


def _workspace_files(snapshot: Snapshot) -> dict[str, FileData]:
    """The snapshot's files, binary ones included."""
    return dict(snapshot.files)
