"""The judge of a "write tests for MODULE" repo job: tests that pass, cover more, and catch bugs.

The module under test is the first non-test Python file the task names. The agent's
change passes only when, in this order (each failure is a line for the coder):

1. it changes test files only: this workflow does not change the code;
2. its test files' tests pass on today's code (run alone, under coverage: the lines
   they run) and nothing that passed in the baseline fails (the whole suite's run);
3. the whole suite with the new tests runs more of the module's lines than the
   baseline suite did (``coverage run --include=MODULE``; the baseline's coverage is
   measured once and kept in ``baseline.coverage``);
4. the new tests fail on at least one mutant of the module (a copy with one small
   change, :mod:`codeagent.tools.repo.mutants`, on lines the new tests run, those no
   baseline test runs first): only the agent's test files run against each, stopping
   at the first one they catch.

Sandbox runs per judgement: the new tests', the whole suite's (plus the baseline's
coverage, once), at most ``mutants`` mutant runs.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
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
from codeagent.nodes.repo_tester import repo_report, tested_update
from codeagent.tools.errors import ConfigError
from codeagent.tools.repo.line_coverage import (
    LineCoverage,
    coverage_command,
    coverage_path,
    parse_coverage,
    require_pytest,
)
from codeagent.tools.repo.mutants import Mutant, mutants
from codeagent.tools.repo.outcomes import (
    ERROR,
    Verdict,
    judge,
    junit_outcomes,
    junit_path,
    whole_run_id,
)
from codeagent.tools.repo.repomap import is_test_file, referenced_paths
from codeagent.tools.sandbox import ExecResult

if TYPE_CHECKING:
    from codeagent.tools.contracts.state import AgentState
    from codeagent.tools.repo.snapshot import Snapshot

__all__ = ["RepoTestsOptions", "module_under_test", "repo_tests_tester"]

_MUTANT_TIMEOUT_FLOOR_S = 10.0


class RepoTestsOptions(BaseModel):
    """The ``options`` of a ``repo_tests_tester`` node."""

    model_config = ConfigDict(extra="forbid")

    mutants: int = Field(
        default=4,
        ge=0,
        le=20,
        description=(
            "Broken copies of the module the new tests run against, at most (one sandbox"
            " run each); they must fail on one. 0: no mutant check."
        ),
    )
    mutant_timeout_s: float | None = Field(
        default=None,
        gt=0,
        description=(
            "Time limit of one mutant run (default: 5x the new tests' own run, at least"
            " 10 s, at most the sandbox's timeout). A run that times out caught its mutant."
        ),
    )


def module_under_test(task: str, texts: Mapping[str, str]) -> str:
    """The first non-test Python file of the repository ``task`` names.

    Raises:
        ConfigError: When the task names none.
    """
    for path in referenced_paths(task, texts):
        if path.endswith(".py") and not is_test_file(path):
            return path
    raise ConfigError(
        "the task names no Python module of the repository to write tests for",
        hint="name the module to test, e.g. 'write tests for src/pkg/mod.py'",
    )


@node_kind(role="tester", capabilities={"runs_code"}, options=RepoTestsOptions)
def repo_tests_tester(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Judge the agent's tests: test files only, passing, more coverage, a mutant caught."""
    started = time.monotonic()
    options = RepoTestsOptions.model_validate(dict(ctx.options))
    command = list(repo_info(state).get("test_cmd") or [])
    require_pytest(command)
    snapshot = snapshot_of(state, ctx)
    module = module_under_test(state["task"], snapshot.texts())
    changes = dict(state.get("files") or {})
    baseline = dict(state.get("baseline") or {})
    before_outcomes = dict(baseline.get("outcomes") or {})
    record = _Record(state, snapshot, changes, module, started)

    code = sorted(p for p in changes if not is_test_file(p))
    new_tests = sorted(p for p in changes if _is_test_module(p))
    if code or not new_tests:
        return record.done(_no_run(), Verdict(ok=False), _shape_failures(code, module))
    # the new tests alone, under coverage: do they pass, and which lines do they run
    run, own = _coverage_run(ctx, snapshot, changes, command, module, new_tests)
    verdict = judge(before_outcomes, run.outcomes, new_test_files=new_tests, full_run=False)
    if own is None or not verdict.verified:
        return record.done(run, verdict, _targeted_failures(run, own, verdict, module), full=False)

    before, measured = _baseline_coverage(ctx, snapshot, command, module, baseline)
    if measured:
        record.baseline = {**baseline, "coverage": {"module": module, **before.to_state()}}
    full_run, after = _coverage_run(ctx, snapshot, changes, command, module)
    full_verdict = judge(before_outcomes, full_run.outcomes, new_test_files=new_tests)
    record.coverage = (before, after)
    if after is None:
        return record.done(full_run, full_verdict, [_unmeasured(full_run, module)])
    failures = [] if _rises(before, after) else [_coverage_failure(module, before, after)]
    if full_verdict.ok and options.mutants:
        hunt = _Hunt(ctx, snapshot, changes, command, new_tests, _mutant_timeout(ctx, options, run))
        failures += _mutant_check(hunt, record, before, own, options.mutants)
    return record.done(full_run, full_verdict, failures)


_NO_TEST_RAN = (
    "no test of your test files ran: write test functions named test_* (or classes"
    " Test*) that pytest collects"
)


def _is_test_module(path: str) -> bool:
    """A Python file pytest collects tests from."""
    name = PurePosixPath(path).name
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def _shape_failures(code: Sequence[str], module: str) -> list[str]:
    if code:
        return [
            f"you changed {', '.join(code)}: this workflow writes tests and does not change"
            f" the code; put {', '.join(code)} back as it was, and put only tests in test files"
        ]
    stem = PurePosixPath(module).stem
    return [f"you wrote no test file: put your tests for {module} in e.g. tests/test_{stem}.py"]


def _no_run() -> RepoRun:
    return RepoRun({}, ExecResult(exit_code=0, stdout="", stderr="", duration_s=0.0), [])


def _baseline_coverage(
    ctx: NodeContext, snapshot: Snapshot, command: list[str], module: str, baseline: dict[str, Any]
) -> tuple[LineCoverage, bool]:
    """The module's coverage under the baseline suite: from state, else measured (True)."""
    stored = baseline.get("coverage") or {}
    if stored.get("module") == module:
        return LineCoverage.from_state(stored), False
    run, coverage = _coverage_run(ctx, snapshot, {}, command, module)
    if coverage is None:
        raise ConfigError(
            f"the line coverage of {module} could not be measured: {run.output()[-600:]}",
            hint="the sandbox needs coverage.py (python3 -m coverage): use a sandbox.image"
            " with it, or install it with sandbox.setup",
        )
    return coverage, True


def _coverage_run(
    ctx: NodeContext,
    snapshot: Snapshot,
    changes: Mapping[str, str],
    command: list[str],
    module: str,
    targets: Sequence[str] = (),
) -> tuple[RepoRun, LineCoverage | None]:
    """``targets`` (none: the whole suite) under coverage of ``module``; None: no report."""
    run_id = secrets.token_hex(8)
    argv = coverage_command(command, run_id, module, targets)
    with ctx.open_sandbox() as sandbox:
        sandbox.write_files({**snapshot.files, **changes})
        result = sandbox.run(argv, timeout_s=ctx.test_timeout_s)
        reports = sandbox.read_files([junit_path(run_id), coverage_path(run_id)])
    outcomes = junit_outcomes(reports.get(junit_path(run_id), ""))
    if outcomes is None:
        return RepoRun({whole_run_id(command): ERROR}, result, argv, readable=False), None
    coverage = parse_coverage(reports.get(coverage_path(run_id), ""), module)
    return RepoRun(outcomes, result, argv), coverage


def _rises(before: LineCoverage, after: LineCoverage) -> bool:
    """More statements ran; a module the baseline covers fully cannot rise, and passes."""
    return after.covered > before.covered or (before.full and after.full)


def _coverage_failure(module: str, before: LineCoverage, after: LineCoverage) -> str:
    missing = _ranges(after.missing)
    what = f"the lines no test runs yet: {missing}" if missing else "what no test runs yet"
    return (
        f"your tests do not raise the line coverage of {module} ({before.percent}% before,"
        f" {after.percent}% with your tests): test {what}"
    )


def _unmeasured(run: RepoRun, module: str) -> str:
    how = "timed out" if run.result.timed_out else f"exit {run.result.exit_code}"
    return f"the tests could not run under coverage of {module} ({how}): see the output"


def _targeted_failures(
    run: RepoRun, own: LineCoverage | None, verdict: Verdict, module: str
) -> list[str]:
    """What the new tests' own run says beyond the verdict's lines (failing tests)."""
    if not run.readable or own is None:
        return [_unmeasured(run, module)]
    return [_NO_TEST_RAN] if verdict.ok and not verdict.verified else []


@dataclasses.dataclass(frozen=True)
class _Hunt:
    """What the mutant runs need: the new tests, on the snapshot with one module replaced."""

    ctx: NodeContext
    snapshot: Snapshot
    changes: Mapping[str, str]
    command: list[str]
    new_tests: Sequence[str]
    timeout_s: float

    def catches(self, mutant: Mutant) -> bool:
        """Some new test fails or errors (or the run times out) on ``mutant``."""
        quick = dataclasses.replace(self.ctx, test_timeout_s=self.timeout_s)
        broken = {**self.changes, mutant.path: mutant.text}
        return bool(
            run_repo_tests(quick, self.snapshot, broken, self.command, self.new_tests).failing()
        )


def _mutant_check(
    hunt: _Hunt, record: _Record, before: LineCoverage, own: LineCoverage, limit: int
) -> list[str]:
    """Run the new tests against mutants until one fails; the failure line when none does."""
    module = record.module
    text = hunt.snapshot.texts()[module]
    if not mutants(module, text, 1):
        return []  # no function body to break: nothing a mutant could show
    picked = _pick_mutants(module, text, before, own, limit)
    if not picked:
        return [
            f"your tests run none of the functions of {module}, so no broken copy of it can"
            " make them fail: call its functions and assert on what they return"
        ]
    tried: list[Mutant] = []
    for mutant in picked:
        tried.append(mutant)
        if hunt.catches(mutant):
            record.mutants = (tried, mutant)
            return []
    record.mutants = (tried, None)
    return [_survived_failure(module, tried)]


def _pick_mutants(
    module: str, text: str, before: LineCoverage, own: LineCoverage, limit: int
) -> list[Mutant]:
    """Mutants on lines the new tests run: first those the baseline suite did not run."""
    fresh = set(own.executed) - set(before.executed)
    picked = mutants(module, text, limit, lines=fresh)
    more = mutants(module, text, limit, lines=set(own.executed))
    return picked + [m for m in more if m not in picked][: limit - len(picked)]


def _mutant_timeout(ctx: NodeContext, options: RepoTestsOptions, run: RepoRun) -> float:
    if options.mutant_timeout_s is not None:
        return options.mutant_timeout_s
    return min(ctx.test_timeout_s, max(_MUTANT_TIMEOUT_FLOOR_S, 5 * run.result.duration_s))


def _survived_failure(module: str, tried: Sequence[Mutant]) -> str:
    changes = "; ".join(m.description for m in tried)
    return (
        f"your tests still pass on broken copies of {module}: {changes}. Assert on what the"
        " code returns and does, so that a test fails when the code is wrong"
    )


def _ranges(lines: Sequence[int], limit: int = 12) -> str:
    """``1, 3-5, 9`` (the first ``limit`` runs of consecutive lines)."""
    runs: list[list[int]] = []
    for line in lines:
        if runs and line == runs[-1][-1] + 1:
            runs[-1].append(line)
        else:
            runs.append([line])
    shown = [str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs[:limit]]
    return ", ".join(shown) + (", ..." if len(runs) > limit else "")


class _Record:
    """What one judgement found, and the state update it makes."""

    def __init__(
        self,
        state: AgentState,
        snapshot: Snapshot,
        changes: dict[str, str],
        module: str,
        started: float,
    ) -> None:
        self.state, self.snapshot, self.changes = state, snapshot, changes
        self.module, self.started = module, started
        self.baseline: dict[str, Any] | None = None
        self.coverage: tuple[LineCoverage, LineCoverage | None] | None = None
        self.mutants: tuple[list[Mutant], Mutant | None] = ([], None)

    def done(
        self, run: RepoRun, verdict: Verdict, failures: list[str], *, full: bool = True
    ) -> dict[str, Any]:
        report = repo_report(run, verdict, require_check=False, full=full)
        failures = [*report["failures"], *failures]
        ok = verdict.ok and not failures
        before, after = self.coverage or (None, None)
        tried, caught = self.mutants
        report.update(
            ok=ok,
            verified=ok,
            failures=failures[:12],
            module=self.module,
            coverage=after.percent if after else None,
            coverage_before=before.percent if before else None,
            coverage_after=after.percent if after else None,
            mutants=len(tried),
            mutants_killed=int(caught is not None),
            mutant_caught=caught.description if caught else None,
            mutants_survived=[m.description for m in tried if m is not caught],
        )
        update = tested_update(self.state, report, self.snapshot.files, self.changes, self.started)
        if self.baseline is not None:
            update["baseline"] = self.baseline
        return update
