"""Repo nodes that run the repository's own tests: the baseline, and the judge of each change.

The baseline runs the tests once, before any edit. After each change the tester runs
the tests the task names (and the tests the agent wrote) first, then the whole
suite, and judges the run against the baseline
(:func:`~codeagent.tools.repo.outcomes.judge`): it passes only when the named and
new tests pass and nothing that passed before fails. A change that no test checks
(the task names no test and the agent wrote none) does not pass unless the node's
``require_check`` option is off: a green suite only shows that nothing broke. Tests the
agent wrote check a code change only when one of them fails without it: when they are
all that checks the change, they also run on the snapshot with only the test files
changed, and if every one passes there too they check nothing and the change is not
verified.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from codeagent.nodes.context import NodeContext
from codeagent.nodes.kinds import node_kind
from codeagent.nodes.repo_run import (
    RepoRun,
    repo_info,
    run_repo_tests,
    snapshot_of,
)
from codeagent.tools.contracts.history import history_entry
from codeagent.tools.errors import ConfigError
from codeagent.tools.repo.outcomes import PASSED, Verdict, judge, matches, runner_of, tests_of
from codeagent.tools.repo.patch import make_patch, patch_stats
from codeagent.tools.repo.referee import rewritten_tests
from codeagent.tools.repo.repomap import is_test_file
from codeagent.tools.repo.snapshot import decode_text
from codeagent.tools.repo.testcmd import (
    detect_test_command,
    instructed_test_command,
    named_failing_tests,
    pytest_node_ids,
)

if TYPE_CHECKING:
    from codeagent.tools.contracts.state import AgentState
    from codeagent.tools.repo.snapshot import Snapshot

__all__ = ["RepoTesterOptions", "repo_baseline", "repo_report", "repo_tester", "tested_update"]


class RepoTesterOptions(BaseModel):
    """The ``options`` of a ``repo_tester`` node."""

    model_config = ConfigDict(extra="forbid")

    require_check: bool = Field(
        default=True,
        description=(
            "Pass only when some test checks the change: a test the task names or a test"
            " the agent wrote. Off: a change that breaks nothing passes."
        ),
    )
    keep_tests: bool = Field(
        default=True,
        description=(
            "Refuse a change that alters or removes lines of an existing test file (the"
            " tests are the judge: a rewritten test can pass on wrong code); adding tests"
            " to one is fine. Off: the agent may rewrite existing tests."
        ),
    )


class RepoBaselineOptions(BaseModel):
    """The ``options`` of a ``repo_baseline`` node."""

    model_config = ConfigDict(extra="forbid")

    test_cmd: list[str] | None = Field(
        default=None,
        description="The repository's test command (default: --test-cmd, AGENTS.md, detected).",
    )


@node_kind(role="other", capabilities={"runs_code"}, options=RepoBaselineOptions)
def repo_baseline(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Run the repository's tests before any edit; find the test command and the targets."""
    info = repo_info(state)
    snapshot = snapshot_of(state, ctx)
    texts = snapshot.texts()
    options = RepoBaselineOptions.model_validate(dict(ctx.options))
    command = (
        info.get("test_cmd")
        or options.test_cmd
        or instructed_test_command(texts)
        or detect_test_command(texts)
    )
    if not command:
        raise ConfigError(
            "no test command found for this repository",
            hint="pass --test-cmd 'python3 -m pytest' (or add pytest configuration, or a"
            " package.json scripts.test, or say it in AGENTS.md)",
        )
    targets = [t for t in pytest_node_ids(state["task"]) if t.split("::", 1)[0] in snapshot.files]
    run = run_repo_tests(ctx, snapshot, {}, command)
    if not run.readable:  # not even a report: no baseline to judge a change against
        raise ConfigError(
            f"the repository's tests could not run: `{' '.join(command)}` exited"
            f" {run.result.exit_code}: {run.output()[-600:]}",
            hint="give the test command with --test-cmd, install the dependencies with"
            " sandbox.setup or use your own sandbox.image",
        )
    for test_id in named_failing_tests(state["task"], run.failing()):
        if targets and "::" in test_id:
            continue  # the task's pytest node ids say which tests it means
        if not any(matches(test_id, t) for t in targets):
            targets.append(test_id)  # a failing test the task names by its name alone
    baseline = {
        "outcomes": run.outcomes,
        "passed": sum(1 for o in run.outcomes.values() if o == PASSED),
        "failing": run.failing(),
        "readable": run.readable,
        "output": run.output()[-3000:],
    }
    return {"repo": {**info, "test_cmd": list(command), "targets": targets}, "baseline": baseline}


@node_kind(role="tester", capabilities={"runs_code"}, options=RepoTesterOptions)
def repo_tester(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Run the named and new tests, then the whole suite, and judge against the baseline."""
    started = time.monotonic()
    info = repo_info(state)
    options = RepoTesterOptions.model_validate(dict(ctx.options))
    snapshot = snapshot_of(state, ctx)
    changes = dict(state.get("files") or {})
    command = list(info.get("test_cmd") or [])
    baseline = dict((state.get("baseline") or {}).get("outcomes") or {})
    targets = list(info.get("targets") or [])
    new_tests = sorted(p for p in changes if is_test_file(p))
    before = {p: decode_text(snapshot.files[p]) or "" for p in new_tests if p in snapshot.files}
    rewritten = rewritten_tests(before, changes) if options.keep_tests else []
    focus = [*targets, *(p for p in new_tests if p not in targets)]
    run: RepoRun | None = None
    if focus and runner_of(command) == "pytest":  # fast feedback first: the tests that
        # check the change (other runners take no test ids: their run is the whole suite)
        run = run_repo_tests(ctx, snapshot, changes, command, focus)
        verdict = judge(
            baseline, run.outcomes, targets=targets, new_test_files=new_tests, full_run=False
        )
        if verdict.targets_failing or verdict.new_failing:
            return _record(
                state, run, verdict, options, started, snapshot.files, changes, rewritten, False
            )
    run = run_repo_tests(ctx, snapshot, changes, command)
    verdict = judge(baseline, run.outcomes, targets=targets, new_test_files=new_tests)
    vacuous: list[str] = []
    if _rests_on_new_tests(verdict, targets, changes):
        vacuous = _pass_without_the_change(ctx, snapshot, changes, command, new_tests, run)
        if vacuous:
            verdict = dataclasses.replace(verdict, verified=False)
    return _record(
        state, run, verdict, options, started, snapshot.files, changes, rewritten, True, vacuous
    )


def _rests_on_new_tests(verdict: Verdict, targets: list[str], changes: dict[str, str]) -> bool:
    """True when only the tests the agent wrote say the code change works: no target
    passes, no test failing in the baseline passes now, and some code (not a test) changed."""
    return (
        verdict.ok
        and verdict.verified
        and not targets
        and not verdict.fixed
        and any(not is_test_file(p) for p in changes)
    )


def _pass_without_the_change(
    ctx: NodeContext,
    snapshot: Snapshot,
    changes: dict[str, str],
    command: list[str],
    new_tests: list[str],
    run: RepoRun,
) -> list[str]:
    """The new tests passing now, when none of them fails on the snapshot with only the
    test files changed (they check nothing of the change); else ``[]``. A test that does
    not run there (its import fails) fails without the change."""
    passing = [t for t in tests_of(run.outcomes, new_tests) if run.outcomes[t] == PASSED]
    only_tests = {p: t for p, t in changes.items() if is_test_file(p)}
    before = run_repo_tests(ctx, snapshot, only_tests, command, new_tests)
    if not before.readable:
        return []
    if any(before.outcomes.get(t) != PASSED for t in passing):
        return []
    return sorted(passing)


def _record(
    state: AgentState,
    run: RepoRun,
    verdict: Verdict,
    options: RepoTesterOptions,
    started: float,
    base: Any,
    changes: dict[str, str],
    rewritten: list[str],
    full: bool,
    vacuous: list[str] | None = None,
) -> dict[str, Any]:
    report = repo_report(run, verdict, require_check=options.require_check, full=full)
    if rewritten:  # the judge itself was changed: whatever the run says, this does not pass
        report["ok"] = False
        report["rewritten_tests"] = rewritten
        report["failures"] = [
            f"{path}: you changed or removed lines of this existing test file; the tests"
            " are the judge, so leave their lines as they are (adding tests is fine) and"
            " change the code instead"
            for path in rewritten
        ] + report["failures"]
    if vacuous:  # the agent's tests pass without the change: they check nothing of it
        report["vacuous_new_tests"] = vacuous
        report["failures"] = [
            "the tests you wrote pass on the code as it was too ("
            + ", ".join(vacuous[:5])
            + "), so they do not check your change: write a test that fails without the"
            " change and passes with it"
        ] + report["failures"]
    return tested_update(state, report, base, changes, started)


def tested_update(
    state: AgentState,
    report: dict[str, Any],
    base: Mapping[str, bytes],
    changes: dict[str, str],
    started: float,
) -> dict[str, Any]:
    """A repo test node's update: the report with the patch's stats, the history entry,
    and the patch itself (for the coder's retry prompt and the reviewer)."""
    patch = make_patch(base, changes)
    stats = patch_stats(patch)
    report["patch"] = {"files": list(stats.files), "added": stats.added, "removed": stats.removed}
    entry = history_entry(state, {}, report, time.monotonic() - started)
    return {"test_report": report, "history": [entry], "patch": patch}


def repo_report(
    run: RepoRun, verdict: Verdict, *, require_check: bool, full: bool
) -> dict[str, Any]:
    """The test report as stored in state (pure): counts, verdict, and what the coder must fix."""
    failures: list[str] = []
    failures += [
        f"{t} passed before this change and fails now (a regression)" for t in verdict.regressions
    ]
    failures += [f"{t} (named by the task) does not pass" for t in verdict.targets_failing]
    failures += [f"{t} (a test you wrote) does not pass" for t in verdict.new_failing]
    unchecked = verdict.ok and not verdict.verified
    if unchecked and require_check:
        failures.append(
            "no test checks this change: the task names no test, no failing test passes now"
            " and you wrote none. Add a test (in a test file) that fails without the change"
            " and passes with it."
        )
    total = sum(1 for o in run.outcomes.values() if o != "skipped")
    ok = verdict.ok and (verdict.verified or not require_check)
    return {
        "passed": verdict.passed,
        "failed": verdict.failed,
        "errors": 0,
        "total": total,
        "coverage": None,
        "output": run.output(),
        "exit_code": run.result.exit_code,
        "timed_out": run.result.timed_out,
        "ok": ok,
        "failures": failures[:12],
        "regressions": verdict.regressions,
        "targets_failing": verdict.targets_failing,
        "new_failing": verdict.new_failing,
        "verified": verdict.verified,
        "fixed": verdict.fixed,
        "full_run": full,
        "command": run.command,
    }
