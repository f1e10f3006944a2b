"""Score a patch on a repository task: apply it and the hidden tests, run both id lists.

Every score starts from a fresh copy of the task's base (:func:`materialize`) and
runs in a fresh sandbox. The patches are applied on the host, in that copy, with
``git apply`` (data, not code); the files then go into the sandbox as text.

What counts:

- **bug fixes and features**: the agent's patch, then the hidden ``test_patch``;
  resolved when every ``FAIL_TO_PASS`` and every ``PASS_TO_PASS`` id passes. The
  test files are the referee's: the agent's changes to any file the ``test_patch``
  touches or an id names are dropped before anything applies (as SWE-bench
  resets the files of its test patch), and listed in ``discarded``. A patch that
  does not apply is unresolved, with git's reason.
- **tests** (write tests for a module): only the patch's test files count (changes
  to other files are dropped and listed). Resolved when it adds at least one test,
  all of its tests pass on the unchanged code, the ``PASS_TO_PASS`` ids still pass,
  and at least one of its tests fails once the hidden ``mutant_patch`` (a
  deliberately broken copy of the code) is applied.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from codeagent.evals.repo.gitops import apply_patch, read_tree, tracked_files
from codeagent.evals.repo.materialize import materialize
from codeagent.evals.repo.runners import (
    Runner,
    Selection,
    TestRun,
    detect_runner,
    id_file,
    run_tests,
    runner_named,
)
from codeagent.evals.repo.task import RepoTask
from codeagent.tools.errors import ConfigError
from codeagent.tools.languages import get_adapter
from codeagent.tools.repo.diffs import filter_patch, patch_paths
from codeagent.tools.repo.patch import PatchStats, patch_stats
from codeagent.tools.sandbox import Sandbox

__all__ = ["RepoScore", "referee_paths", "score_patch"]

SandboxFactory = Callable[[], Sandbox]


@dataclass(frozen=True)
class RepoScore:
    """The verdict on one patch.

    Attributes:
        resolved: The task is solved (see the module docstring for each kind).
        applied: The patch applied (an empty patch applies).
        detail: Why it is not resolved ("" when it is).
        failed: ``FAIL_TO_PASS`` ids that did not pass; for a tests task, the new tests
            that failed on the unchanged code.
        regressions: ``PASS_TO_PASS`` ids that did not pass.
        discarded: Paths whose changes were dropped before scoring.
        tests_written: A tests task's new test ids that ran.
        mutant_caught: A tests task's tests failed on the mutant (None for other kinds).
        stats: The size of the patch as given.
        duration_s: Seconds the scoring took.
    """

    resolved: bool
    applied: bool
    detail: str = ""
    failed: tuple[str, ...] = ()
    regressions: tuple[str, ...] = ()
    discarded: tuple[str, ...] = ()
    tests_written: tuple[str, ...] = ()
    mutant_caught: bool | None = None
    stats: PatchStats = field(default_factory=PatchStats)
    duration_s: float = 0.0


def referee_paths(task: RepoTask) -> set[str]:
    """Files the agent may not change: those of the hidden tests and of the id lists."""
    if task.kind == "tests":
        return set(patch_paths(task.test_patch))
    ids = [*task.FAIL_TO_PASS, *task.PASS_TO_PASS]
    return set(patch_paths(task.test_patch)) | {id_file(i) for i in ids}


def score_patch(
    task: RepoTask, patch: str, sandbox_factory: SandboxFactory, *, timeout_s: float = 300.0
) -> RepoScore:
    """Score ``patch`` (a unified diff against the task's base) on ``task``.

    Args:
        task: The task.
        patch: The agent's patch ("" for none).
        sandbox_factory: Makes the (unstarted) sandbox the tests run in.
        timeout_s: Wall-clock limit of each test run.

    Raises:
        ConfigError: When the task itself is broken (its base, hidden tests or mutant
            do not apply): the patch is never blamed for that.
        SandboxError: When the sandbox fails.
    """
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="codeagent-score-") as tmp:
        root = materialize(task, Path(tmp) / "repo")
        runner = runner_named(task.test_cmd) or detect_runner(tracked_files(root))
        kept, discarded = filter_patch(patch, _keeper(task, runner))
        applied = apply_patch(root, kept)
        if not applied.ok:
            score = RepoScore(False, False, f"the patch does not apply: {applied.detail}")
        elif task.kind == "tests":
            score = _score_tests(task, root, kept, runner, sandbox_factory, timeout_s)
        else:
            score = _score_fix(task, root, runner, sandbox_factory, timeout_s)
    return replace(
        score,
        discarded=tuple(discarded),
        stats=patch_stats(patch),
        duration_s=round(time.monotonic() - started, 2),
    )


def _keeper(task: RepoTask, runner: Runner) -> Callable[[str], bool]:
    if task.kind == "tests":
        adapter = get_adapter(runner.language)
        return adapter.is_test_file
    protected = referee_paths(task)
    return lambda path: path not in protected


def _score_fix(
    task: RepoTask, root: Path, runner: Runner, factory: SandboxFactory, timeout_s: float
) -> RepoScore:
    _apply_hidden(task, root, task.test_patch, "test_patch")
    files, _ = read_tree(root)
    selection = Selection(ids=(*task.FAIL_TO_PASS, *task.PASS_TO_PASS))
    run = run_tests(runner, files, selection, factory, timeout_s=timeout_s, setup=task.setup)
    failed = run.not_passed(task.FAIL_TO_PASS)
    regressions = run.not_passed(task.PASS_TO_PASS)
    if not failed and not regressions:
        return RepoScore(True, True)
    detail = _listing("not fixed", failed, run) + _listing("regressions", regressions, run)
    return RepoScore(False, True, _with_run(detail, run), tuple(failed), tuple(regressions))


def _score_tests(
    task: RepoTask,
    root: Path,
    kept: str,
    runner: Runner,
    factory: SandboxFactory,
    timeout_s: float,
) -> RepoScore:
    adapter = get_adapter(runner.language)
    written_files = tuple(
        p
        for p in patch_paths(kept)
        if adapter.is_test_file(p) and (root / p).is_file() and Path(p).name != "conftest.py"
    )
    if not written_files:
        return RepoScore(False, True, "the patch adds or changes no test file")
    files, _ = read_tree(root)
    selection = Selection(ids=tuple(task.PASS_TO_PASS), files=written_files)
    on_base = run_tests(runner, files, selection, factory, timeout_s=timeout_s, setup=task.setup)
    written = tuple(on_base.in_files(written_files))
    if not written:
        return RepoScore(
            False, True, _with_run(f"no test ran in {', '.join(written_files)}", on_base)
        )
    failing = on_base.not_passed(written)
    regressions = on_base.not_passed(task.PASS_TO_PASS)
    if failing or regressions:
        detail = _listing("new tests failing on the unchanged code", failing, on_base)
        detail += _listing("regressions", regressions, on_base)
        return RepoScore(False, True, detail, tuple(failing), tuple(regressions), (), written)
    _apply_hidden(task, root, task.mutant_patch, "mutant_patch")
    files, _ = read_tree(root)
    mutant = Selection(files=written_files)
    on_mutant = run_tests(runner, files, mutant, factory, timeout_s=timeout_s, setup=task.setup)
    caught = bool(on_mutant.not_passed(written)) or not on_mutant.in_files(written_files)
    detail = "" if caught else "every new test still passes on the broken code (the mutant)"
    return RepoScore(caught, True, detail, tests_written=written, mutant_caught=caught)


def _apply_hidden(task: RepoTask, root: Path, patch: str, name: str) -> None:
    applied = apply_patch(root, patch)
    if not applied.ok:  # the referee's own patch: the task is broken, not the agent's work
        raise ConfigError(
            f"task {task.instance_id!r}: its {name} does not apply: {applied.detail}",
            hint="rebuild the task file; a hidden patch must apply to the base plus any "
            "agent change (the files it touches are the referee's)",
        )


def _listing(label: str, ids: list[str], run: TestRun) -> str:
    if not ids:
        return ""
    shown = ", ".join(f"{i} ({run.outcome(i)})" for i in ids[:4])
    more = f" and {len(ids) - 4} more" if len(ids) > 4 else ""
    return f"{label}: {shown}{more}; "


def _with_run(detail: str, run: TestRun) -> str:
    text = detail.rstrip("; ")
    if run.detail and (not run.outcomes or run.timed_out):
        text += f" [{run.detail}]"
    return text[:500]
