"""Build a task file (``tasks.jsonl``) from an authoring spec and clean repositories.

The pilot's repositories are kept clean and complete: every feature there, every
test passing. A task is written as what to take away from a clean repository:

.. code-block:: yaml

    repos:
      billing: {test_cmd: python -m pytest}
    tasks:
      - instance_id: billing-allocate
        repo: billing
        kind: bugfix_test           # bugfix_test | bugfix_report | feature | tests
        split: pilot                # pilot | heldout
        problem_statement: |
          ...
        hide: [tests/test_money.py::test_allocate_by_ratio_keeps_every_cent]
        edits:                      # the bug (or the removed feature)
          - {path: src/billing/money.py, find: "...", replace: "..."}
        mutant: []                  # tests tasks: edits that break the code

From that, for each task: the base is the clean tree with the ``hide`` tests
removed (an id names a top-level test function, or a top-level ``test('name', ...)``
call ending at a line ``});``; a bare file path removes the file) and the ``edits``
made (each ``find`` must occur exactly once); ``bug_patch``
is clean -> base; the reverse, base -> clean, splits into ``test_patch`` (its test
files: the hidden tests) and ``gold_patch`` (the rest: the fix); for a tests task
the whole reverse is the gold patch (the reference tests) and ``mutant_patch`` is
base -> base with the ``mutant`` edits. ``base_commit`` is the hash
:func:`~codeagent.evals.repo.materialize.materialize` gets. Then the tests run in a
sandbox: ``FAIL_TO_PASS`` is what fails on base + hidden tests and passes on the
clean tree, ``PASS_TO_PASS`` what passes on both, and the build stops when a
task is not what its kind says (no failing test; a bug report whose failing test
is visible; a bugfix_test task whose statement does not name its failing test).

Run ``python -m codeagent.evals.repo.authoring [SPEC] [OUT]`` (default: the
pilot's ``tasks.yaml`` and ``tasks.jsonl``).
"""

from __future__ import annotations

import ast
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codeagent.evals.repo.gitops import (
    apply_patch,
    checked,
    commit_all,
    diff_worktree,
    read_tree,
    tracked_files,
)
from codeagent.evals.repo.materialize import base_commit_of, materialize
from codeagent.evals.repo.runners import (
    Runner,
    Selection,
    TestRun,
    detect_runner,
    run_tests,
    runner_named,
)
from codeagent.evals.repo.task import Kind, RepoTask, Split
from codeagent.tools.errors import ConfigError
from codeagent.tools.languages import get_adapter
from codeagent.tools.repo.diffs import filter_patch
from codeagent.tools.sandbox import Sandbox

__all__ = ["PILOT", "Edit", "PilotSpec", "TaskSpec", "author_task", "build", "load_spec", "measure"]

PILOT = Path(__file__).resolve().parent.parent / "pilot"
_SKIP = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".pytest_cache", "node_modules")


class Edit(BaseModel):
    """Replace the one occurrence of ``find`` in ``path`` with ``replace``."""

    model_config = ConfigDict(extra="forbid")

    path: str
    find: str = Field(min_length=1)
    replace: str = ""


class TaskSpec(BaseModel):
    """One task as written in the authoring spec."""

    model_config = ConfigDict(extra="forbid")

    instance_id: str = Field(min_length=1)
    repo: str
    kind: Kind
    split: Split
    problem_statement: str = Field(min_length=1)
    hide: list[str] = Field(default_factory=list)
    edits: list[Edit] = Field(default_factory=list)
    mutant: list[Edit] = Field(default_factory=list)


class PilotSpec(BaseModel):
    """The authoring spec: each repository's test command, and the tasks."""

    model_config = ConfigDict(extra="forbid")

    repos: dict[str, dict[str, str]]
    tasks: list[TaskSpec]


def load_spec(path: Path) -> PilotSpec:
    """Read and check an authoring spec.

    Raises:
        ConfigError: For YAML or schema errors, or a task naming an unknown repository.
    """
    try:
        spec = PilotSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"bad authoring spec: {str(exc)[:400]}", file=str(path)) from None
    for task in spec.tasks:
        if task.repo not in spec.repos:
            raise ConfigError(f"{task.instance_id}: unknown repo {task.repo!r}", file=str(path))
    return spec


def author_task(spec: TaskSpec, test_cmd: str, root: Path) -> dict[str, Any]:
    """The task's row without its id lists: patches and ``base_commit`` (git only, no sandbox).

    Args:
        spec: The task.
        test_cmd: The repository's test command.
        root: The folder the task file lives in (holding ``repos/``).
    """
    source = root / "repos" / spec.repo
    is_test = get_adapter(_runner(test_cmd).language).is_test_file
    with tempfile.TemporaryDirectory(prefix="codeagent-author-") as tmp:
        work = Path(tmp) / "work"
        shutil.copytree(source, work, ignore=_SKIP, symlinks=True)
        commit_all(work, "clean")
        for test_id in spec.hide:
            _hide(work, test_id, spec.instance_id)
        _edit(work, spec.edits, spec.instance_id)
        bug_patch = diff_worktree(work)
        commit_all(work, "base")
        reverse = checked(["diff", "--no-color", "HEAD", "HEAD~1"], work, "git diff")
        _edit(work, spec.mutant, spec.instance_id)
        mutant_patch = diff_worktree(work) if spec.mutant else ""
        base_commit = base_commit_of(source, bug_patch, Path(tmp) / "base")
    if spec.kind == "tests":
        gold_patch, test_patch = reverse, ""
    else:
        test_patch, _ = filter_patch(reverse, is_test)
        gold_patch, _ = filter_patch(reverse, lambda p: not is_test(p))
    return {
        "instance_id": spec.instance_id,
        "repo": f"repos/{spec.repo}",
        "base_commit": base_commit,
        "problem_statement": spec.problem_statement.strip() + "\n",
        "test_patch": test_patch,
        "FAIL_TO_PASS": [],
        "PASS_TO_PASS": [],
        "test_cmd": test_cmd,
        "kind": spec.kind,
        "split": spec.split,
        "gold_patch": gold_patch,
        "bug_patch": bug_patch,
        "mutant_patch": mutant_patch,
    }


def measure(
    row: dict[str, Any],
    spec: TaskSpec,
    root: Path,
    sandbox_factory: Callable[[], Sandbox],
    timeout_s: float = 300.0,
) -> dict[str, Any]:
    """``row`` with ``FAIL_TO_PASS`` and ``PASS_TO_PASS`` found by running its tests.

    Raises:
        ConfigError: When the task is not what its kind says (see the module docstring).
    """
    task = RepoTask.model_validate({**row, "source": str((root / row["repo"]).resolve())})
    with tempfile.TemporaryDirectory(prefix="codeagent-measure-") as tmp:
        before = _run_all(task, Path(tmp) / "before", [task.test_patch], sandbox_factory, timeout_s)
        fixed = [task.test_patch, task.gold_patch] if task.kind != "tests" else []
        after = _run_all(task, Path(tmp) / "after", fixed, sandbox_factory, timeout_s)
    broken = after.not_passed(sorted(after.outcomes))
    if broken or not after.outcomes:
        raise ConfigError(f"{task.instance_id}: the fixed tree fails {broken[:3]} {after.detail}")
    fail_to_pass = sorted(i for i in after.outcomes if before.outcome(i) != "passed")
    pass_to_pass = sorted(i for i in after.outcomes if before.outcome(i) == "passed")
    _check_kind(spec, fail_to_pass)
    return {**row, "FAIL_TO_PASS": fail_to_pass, "PASS_TO_PASS": pass_to_pass}


def build(
    spec_file: Path, out_file: Path, sandbox_factory: Callable[[], Sandbox]
) -> list[dict[str, Any]]:
    """Author and measure every task of ``spec_file`` and write them to ``out_file``."""
    spec = load_spec(spec_file)
    rows = []
    for task in spec.tasks:
        test_cmd = spec.repos[task.repo]["test_cmd"]
        row = author_task(task, test_cmd, spec_file.parent)
        rows.append(measure(row, task, spec_file.parent, sandbox_factory))
    out_file.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return rows


def _runner(test_cmd: str) -> Runner:
    runner = runner_named(test_cmd)
    if runner is None:
        raise ConfigError("every repository of an authoring spec needs a test_cmd")
    return runner


def _run_all(
    task: RepoTask,
    workdir: Path,
    patches: list[str],
    sandbox_factory: Callable[[], Sandbox],
    timeout_s: float,
) -> TestRun:
    materialize(task, workdir)
    for patch in patches:
        if not apply_patch(workdir, patch).ok:
            raise ConfigError(f"{task.instance_id}: a generated patch does not apply")
    files, _ = read_tree(workdir)
    runner = runner_named(task.test_cmd) or detect_runner(tracked_files(workdir))
    is_test = get_adapter(runner.language).is_test_file
    tests = tuple(f for f in files if is_test(f) and Path(f).name != "conftest.py")
    return run_tests(runner, files, Selection(files=tests), sandbox_factory, timeout_s=timeout_s)


def _check_kind(spec: TaskSpec, fail_to_pass: list[str]) -> None:
    hidden = set(spec.hide)
    visible = [i for i in fail_to_pass if i not in hidden]
    name = spec.instance_id
    if spec.kind == "tests":
        if fail_to_pass:
            raise ConfigError(f"{name}: a tests task's base must pass its tests: {fail_to_pass}")
        return
    if not fail_to_pass:
        raise ConfigError(f"{name}: no test fails on the base with the hidden tests")
    if spec.kind == "bugfix_test":
        if not visible:
            raise ConfigError(f"{name}: a bugfix_test task needs a visible failing test")
        unnamed = [i for i in visible if i.split("::")[-1] not in spec.problem_statement]
        if unnamed:
            raise ConfigError(f"{name}: the statement does not name the failing {unnamed}")
    elif visible:
        raise ConfigError(f"{name}: visible tests fail on the base of a {spec.kind}: {visible}")


def _hide(work: Path, test_id: str, name: str) -> None:
    path, _, test = test_id.partition("::")
    target = work / path
    if not target.is_file():
        raise ConfigError(f"{name}: hide names {path}, which does not exist")
    if not test:
        target.unlink()
        return
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    start, end = (_python_span if path.endswith(".py") else _js_span)(lines, test, name)
    while end < len(lines) and not lines[end].strip():
        end += 1  # the blank lines after it go too
    target.write_text("".join(lines[:start] + lines[end:]), encoding="utf-8")


def _python_span(lines: list[str], test: str, name: str) -> tuple[int, int]:
    for node in ast.parse("".join(lines)).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == test:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            return first - 1, node.end_lineno or node.lineno
    raise ConfigError(f"{name}: no test function {test!r} to hide")


def _js_span(lines: list[str], test: str, name: str) -> tuple[int, int]:
    heads = [f"test({q}{test}{q}," for q in ("'", '"', "`")]
    for i, line in enumerate(lines):
        if line.startswith(tuple(heads)):
            end = next((j for j in range(i, len(lines)) if lines[j].rstrip() == "});"), None)
            if end is not None:
                return i, end + 1
    raise ConfigError(f"{name}: no top-level test {test!r} to hide")


def _edit(work: Path, edits: list[Edit], name: str) -> None:
    for edit in edits:
        target = work / edit.path
        text = target.read_text(encoding="utf-8") if target.is_file() else ""
        if text.count(edit.find) != 1:
            raise ConfigError(
                f"{name}: {edit.path} holds {text.count(edit.find)} copies of {edit.find[:60]!r}",
                hint="an edit's find text must occur exactly once",
            )
        target.write_text(text.replace(edit.find, edit.replace), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Build the pilot's task file with the local sandbox."""
    from codeagent.tools.sandbox import LocalSandbox, SandboxLimits

    args = sys.argv[1:] if argv is None else argv
    spec_file = Path(args[0]) if args else PILOT / "tasks.yaml"
    out_file = Path(args[1]) if len(args) > 1 else spec_file.with_suffix(".jsonl")
    try:
        rows = build(spec_file, out_file, lambda: LocalSandbox(SandboxLimits(cpu_time_s=120)))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(rows)} tasks written to {out_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
