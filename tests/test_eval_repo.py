"""Repository evals: the pilot task set, materialising, scoring, solvers, harness, CLI.

Real git, real files and the real local sandbox (``bwrap``); the JavaScript tasks
need ``node`` too (they fail loudly under CI=true when it is missing).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from codeagent.evals.cli import register
from codeagent.evals.datasets import dataset_shape, load_dataset
from codeagent.evals.repo.audit import audit_task
from codeagent.evals.repo.authoring import PILOT, author_task, load_spec
from codeagent.evals.repo.gitops import diff_worktree, read_tree
from codeagent.evals.repo.harness import RepoEvalOptions, run_repo_eval
from codeagent.evals.repo.materialize import materialize
from codeagent.evals.repo.metrics import summarize_repo
from codeagent.evals.repo.report import render_repo_markdown
from codeagent.evals.repo.results import RepoResult
from codeagent.evals.repo.runners import NodeRunner, PytestRunner, Selection, run_tests
from codeagent.evals.repo.scoring import score_patch
from codeagent.evals.repo.solvers import single_shot_solver, task_text
from codeagent.evals.repo.task import RepoTask, load_tasks, select_tasks
from codeagent.tools.errors import ConfigError
from codeagent.tools.observability.trace_file import load_spans
from codeagent.tools.repo.diffs import added_lines, filter_patch, parse_patch, patch_paths
from codeagent.tools.repo.patch import patch_stats
from codeagent.tools.sandbox import LocalSandbox, SandboxLimits
from codeagent.tools.testing import Rule, ScriptedChatModel
from tests import scripts

TASKS = PILOT / "tasks.jsonl"
ALL = {t.instance_id: t for t in load_tasks(TASKS)}
ONE_PER_REPO = ("billing-allocate-remainder", "todo-weekday-next-week", "textkit-acronym-words")


def _sandbox() -> LocalSandbox:
    return LocalSandbox(SandboxLimits(cpu_time_s=60))


def _no_sandbox() -> LocalSandbox:
    raise AssertionError("this score must not need a sandbox")


def _needs(request: pytest.FixtureRequest, task: RepoTask) -> None:
    request.getfixturevalue("bwrap")
    if task.test_cmd and task.test_cmd.startswith("node"):
        request.getfixturevalue("node")


def _agent_diff(task: RepoTask, tmp_path: Path, files: dict[str, str]) -> str:
    """A patch as an agent would hand it in: files written over the base, diffed."""
    base = materialize(task, tmp_path / f"agent-{task.key}")
    for rel, text in files.items():
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_text(text)
    return diff_worktree(base)


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    env.update({"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"})
    env["GIT_COMMITTER_EMAIL"] = "t@t"
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


# ------------------------------------------------------------------ the pilot set


def test_the_pilot_has_24_tasks_or_more_over_three_repositories_of_every_kind() -> None:
    tasks = list(ALL.values())
    repos = Counter(t.repo for t in tasks)
    kinds = Counter(t.kind for t in tasks)
    heldout = sum(t.split == "heldout" for t in tasks)

    assert len(tasks) >= 24
    assert set(repos) == {"repos/billing", "repos/todo-cli", "repos/textkit"}
    assert set(kinds) == {"bugfix_test", "bugfix_report", "feature", "tests"}
    assert 0.25 <= heldout / len(tasks) <= 0.4
    assert {t.kind for t in tasks if t.split == "heldout"} == set(kinds)
    assert all(t.gold_patch and t.bug_patch for t in tasks)
    assert all(t.mutant_patch and not t.FAIL_TO_PASS for t in tasks if t.kind == "tests")
    assert all(t.FAIL_TO_PASS and t.test_patch for t in tasks if t.kind != "tests")


def test_the_pilot_repositories_are_small_and_have_no_git_inside() -> None:
    for repo in ("billing", "todo-cli", "textkit"):
        root = PILOT / "repos" / repo
        sources = [p for p in root.rglob("*") if p.suffix in (".py", ".js") and p.is_file()]
        lines = sum(len(p.read_text().splitlines()) for p in sources)
        assert not (root / ".git").exists()
        assert 200 <= lines <= 1000, (repo, lines)
    package = json.loads((PILOT / "repos" / "textkit" / "package.json").read_text())
    assert package["scripts"]["test"] == "node --test"
    assert "dependencies" not in package


def test_the_agent_never_sees_a_hidden_test(tmp_path: Path) -> None:
    """Every failing test of a task is absent from its base, unless it is a bugfix_test
    task's visible failing test, which its problem statement names."""
    for task in ALL.values():
        base = materialize(task, tmp_path / task.key)
        files, _ = read_tree(base)
        for test_id in task.FAIL_TO_PASS:
            path, name = test_id.split("::", 1)
            marker = f"def {name}(" if path.endswith(".py") else f"test('{name}'"
            if marker in files.get(path, ""):
                assert task.kind == "bugfix_test" and name in task.problem_statement, test_id
        assert task_text(task) == task.problem_statement.strip() + "\n"
        assert not set(patch_paths(task.test_patch)) & set(patch_paths(task.gold_patch))


@pytest.mark.parametrize("instance_id", ONE_PER_REPO)
def test_gold_resolves_a_task_and_no_change_does_not(
    instance_id: str, request: pytest.FixtureRequest
) -> None:
    task = ALL[instance_id]
    _needs(request, task)

    gold = score_patch(task, task.gold_patch, _sandbox)
    empty = score_patch(task, "", _sandbox)

    assert gold.resolved and gold.applied and gold.detail == ""
    assert len(gold.stats.files) >= 1 and gold.stats.added >= 1
    assert not empty.resolved and empty.applied
    assert set(empty.failed) == set(task.FAIL_TO_PASS)
    assert empty.regressions == ()
    assert "not fixed" in empty.detail


@pytest.mark.slow
@pytest.mark.parametrize("instance_id", sorted(ALL))
def test_every_pilot_task_is_resolved_by_gold_and_by_no_change_not(
    instance_id: str, request: pytest.FixtureRequest
) -> None:
    """The proof that each task and its hidden tests are right."""
    task = ALL[instance_id]
    _needs(request, task)

    assert score_patch(task, task.gold_patch, _sandbox).resolved
    assert not score_patch(task, "", _sandbox).resolved


# Wrong fixes the embedded model handed in that passed the hidden tests as they were: each
# (task, file, the buggy line, the wrong fix). The hidden tests must now fail them.
WRONG_FIXES = [
    (  # the whole remainder, mod the number of parts, to the first part
        "billing-allocate-remainder",
        "src/billing/money.py",
        "        parts = [self.cents * ratio // total for ratio in ratios]\n",
        "        parts = [self.cents * ratio // total for ratio in ratios]\n"
        "        parts[0] += (self.cents % total) % len(ratios)\n",
    ),
    (  # the done tasks counted as overdue instead of the open ones
        "todo-stats-overdue",
        "todo/query.py",
        "for t in tasks if t.due is not None",
        "for t in tasks if t.done and t.due is not None",
    ),
]


@pytest.mark.parametrize(
    ("instance_id", "path", "old", "new"), WRONG_FIXES, ids=[w[0] for w in WRONG_FIXES]
)
def test_wrong_fixes_a_model_wrote_are_not_resolved(
    instance_id: str, path: str, old: str, new: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A resolved task means right code: wrong fixes that once passed stay caught."""
    task = ALL[instance_id]
    _needs(request, task)
    source = (materialize(task, tmp_path / "base") / path).read_text()
    assert source.count(old) == 1

    score = score_patch(
        task, _agent_diff(task, tmp_path, {path: source.replace(old, new)}), _sandbox
    )

    assert score.applied and not score.resolved, score.detail
    assert "not fixed" in score.detail


def test_added_lines_are_the_new_side_numbers_of_added_lines() -> None:
    patch = (
        "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -3,4 +3,5 @@ def f():\n"
        "     a = 1\n-    b = 2\n+    b = 3\n+    c = 4\n     return a\n"
        "@@ -20,2 +21,2 @@\n x\n-y\n+z\n"
        "diff --git a/gone.py b/gone.py\n--- a/gone.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
    )
    assert added_lines(patch) == {"m.py": {4, 5, 22}}
    # an added line that reads like a file header ("++ x" added) is still a line
    tricky = "--- a/t.txt\n+++ b/t.txt\n@@ -1,1 +1,3 @@\n a\n+++ x\n+b\n"
    assert added_lines(tricky) == {"t.txt": {2, 3}}


def test_the_audit_scores_mutants_of_the_reference_fix(request: pytest.FixtureRequest) -> None:
    """allocate's hidden tests catch every mutant of its fix's lines; todo-id-reuse's
    accept one: ``max(next_id, highest id - 1)`` differs from the fix only for a task
    file written without ``next_id`` (an older format), which no hidden test has."""
    allocate, reuse = ALL["billing-allocate-remainder"], ALL["todo-id-reuse"]
    _needs(request, allocate)

    caught = audit_task(allocate, _sandbox)
    assert len(caught) >= 2 and not any(s.resolved for s in caught)
    assert {s.path for s in caught} == {"src/billing/money.py"}

    accepted = [s for s in audit_task(reuse, _sandbox) if s.resolved]
    assert [(s.path, s.line) for s in accepted] == [("todo/store.py", 36)]
    assert audit_task(ALL["billing-terms-tests"], _no_sandbox) == []  # a tests task


@pytest.mark.docker
@pytest.mark.parametrize("instance_id", (*ONE_PER_REPO, "textkit-case-tests"))
def test_the_docker_sandbox_scores_as_the_local_one(instance_id: str) -> None:
    """The sandbox image has pytest and Node (Debian's nodejs), so every repository scores."""
    from codeagent.tools.sandbox import open_sandbox
    from tests.docker_support import require_docker

    _, image = require_docker()
    task = ALL[instance_id]

    def docker() -> Any:
        return open_sandbox("docker", SandboxLimits(cpu_time_s=60), image)

    assert score_patch(task, task.gold_patch, docker).resolved
    assert not score_patch(task, "", docker).resolved


@pytest.mark.parametrize("instance_id", ONE_PER_REPO)
def test_the_task_file_is_what_its_spec_and_repositories_build(instance_id: str) -> None:
    spec = load_spec(PILOT / "tasks.yaml")
    written = next(t for t in spec.tasks if t.instance_id == instance_id)
    row = author_task(written, spec.repos[written.repo]["test_cmd"], PILOT)
    task = ALL[instance_id]

    assert row["base_commit"] == task.base_commit
    for name in ("bug_patch", "gold_patch", "test_patch", "mutant_patch"):
        assert row[name] == getattr(task, name), name


@pytest.mark.slow
def test_the_whole_task_file_is_what_its_spec_builds() -> None:
    spec = load_spec(PILOT / "tasks.yaml")
    assert [t.instance_id for t in spec.tasks] == list(ALL)
    for written in spec.tasks:
        row = author_task(written, spec.repos[written.repo]["test_cmd"], PILOT)
        task = ALL[written.instance_id]
        assert row["base_commit"] == task.base_commit, written.instance_id
        assert row["gold_patch"] == task.gold_patch and row["test_patch"] == task.test_patch


# ------------------------------------------------------------------ scoring


@pytest.mark.usefixtures("bwrap")
def test_a_patch_that_does_not_apply_is_unresolved_with_the_reason() -> None:
    task = ALL["billing-tax-rounding"]
    stale = task.gold_patch.replace("round(exact)", "round(exact, 2)")

    score = score_patch(task, stale, _no_sandbox)

    assert not score.resolved and not score.applied
    assert score.detail.startswith("the patch does not apply: ")
    assert "src/billing/money.py" in score.detail
    assert score.stats.files == ("src/billing/money.py",)


@pytest.mark.usefixtures("bwrap")
def test_changes_to_the_referees_test_files_are_dropped(tmp_path: Path) -> None:
    task = ALL["billing-allocate-remainder"]
    base = materialize(task, tmp_path / "base")
    tests = (base / "tests/test_money.py").read_text()
    weakened = tests.replace(
        "assert parts == [Money(34), Money(33), Money(33)]", "assert len(parts) == 3"
    )
    cheat = _agent_diff(task, tmp_path / "cheat", {"tests/test_money.py": weakened})
    fix = (PILOT / "repos/billing/src/billing/money.py").read_text()
    both = _agent_diff(
        task, tmp_path / "both", {"tests/test_money.py": weakened, "src/billing/money.py": fix}
    )

    cheated = score_patch(task, cheat, _sandbox)
    fixed = score_patch(task, both, _sandbox)

    assert not cheated.resolved and cheated.discarded == ("tests/test_money.py",)
    assert "tests/test_money.py::test_allocate_distributes_remainder" in cheated.failed
    assert fixed.resolved and fixed.discarded == ("tests/test_money.py",)


@pytest.mark.usefixtures("bwrap")
def test_a_tests_task_counts_new_tests_that_pass_and_catch_the_mutant(tmp_path: Path) -> None:
    task = ALL["billing-terms-tests"]
    head = "from datetime import date\n\nfrom billing.terms import due_date, end_of_month\n\n\n"
    weak = (
        head + "def test_eom():\n    assert end_of_month(date(2024, 2, 1)) == date(2024, 2, 29)\n"
    )
    wrong = head + "def test_net():\n    assert due_date(date(2024, 3, 1), 'NET 30') == 1\n"
    reference = (PILOT / "repos/billing/tests/test_terms.py").read_text()
    touched = (PILOT / "repos/billing/src/billing/terms.py").read_text() + "# touched\n"

    def score(files: dict[str, str]) -> Any:
        return score_patch(task, _agent_diff(task, tmp_path / str(len(files)), files), _sandbox)

    gold = score_patch(task, task.gold_patch, _sandbox)
    weak_score = score({"tests/test_terms.py": weak})
    wrong_score = score({"tests/test_terms.py": wrong, "tests/x/y.txt": ""})
    with_source = score(
        {"tests/test_terms.py": reference, "src/billing/terms.py": touched, "a": ""}
    )
    nothing = score_patch(task, "", _no_sandbox)

    assert gold.resolved and gold.mutant_caught and len(gold.tests_written) >= 10
    assert not weak_score.resolved and weak_score.mutant_caught is False
    assert weak_score.detail == "every new test still passes on the broken code (the mutant)"
    assert not wrong_score.resolved and wrong_score.failed == ("tests/test_terms.py::test_net",)
    assert with_source.resolved and with_source.discarded == ("a", "src/billing/terms.py")
    assert not nothing.resolved and nothing.detail == "the patch adds or changes no test file"


# ------------------------------------------------------------------ materialising


def _git_task_repo(tmp_path: Path) -> tuple[Path, str, str, str]:
    """A bare repository with a buggy base commit and a later fix; (bare, base, fix, hidden)."""
    work = tmp_path / "upstream"
    (work / "tests").mkdir(parents=True)
    (work / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n')
    (work / "calc.py").write_text("def double(x):\n    return x * 3\n")
    (work / "tests/test_calc.py").write_text(
        "from calc import double\n\n\ndef test_zero():\n    assert double(0) == 0\n"
    )
    _git(work, "init", "-q")
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "base")
    base = _git(work, "rev-parse", "HEAD").strip()
    (work / "calc.py").write_text("def double(x):\n    return x * 2\n")
    fix = _git(work, "diff")
    _git(work, "commit", "-qam", "the fix")
    with (work / "tests/test_calc.py").open("a") as handle:
        handle.write("\n\ndef test_two():\n    assert double(2) == 4\n")
    hidden = _git(work, "diff")
    _git(work, "checkout", "-q", ".")
    bare = tmp_path / "upstream.git"
    _git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return bare, base, fix, hidden


def _write_tasks(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.usefixtures("bwrap")
def test_a_task_from_a_local_bare_repository_starts_at_its_commit_without_the_fix(
    tmp_path: Path,
) -> None:
    bare, base, fix, hidden = _git_task_repo(tmp_path)
    row = {
        "instance_id": "calc-1",
        "repo": str(bare),
        "base_commit": base,
        "problem_statement": "double(2) returns 6",
        "test_patch": hidden,
        "FAIL_TO_PASS": json.dumps(["tests/test_calc.py::test_two"]),
        "PASS_TO_PASS": ["tests/test_calc.py::test_zero"],
        "patch": fix,
        "version": "1.0",
    }
    (task,) = load_tasks(_write_tasks(tmp_path / "tasks.jsonl", [row]))

    workdir = materialize(task, tmp_path / "work")

    assert task.git_source and task.kind == "bugfix_report" and task.gold_patch == fix
    assert _git(workdir, "rev-parse", "HEAD").strip() == base
    assert _git(workdir, "rev-list", "--all").split() == [base]  # the fix is not there
    assert (workdir / "calc.py").read_text().endswith("x * 3\n")
    assert score_patch(task, fix, _sandbox).resolved
    assert not score_patch(task, "", _sandbox).resolved


def test_the_base_is_the_same_commit_anywhere_and_a_changed_repository_is_refused(
    tmp_path: Path,
) -> None:
    task = ALL["billing-allocate-remainder"]
    shutil.copytree(PILOT / "repos" / "billing", tmp_path / "repos" / "billing")
    row = task.model_dump(exclude={"source"})
    (moved,) = load_tasks(_write_tasks(tmp_path / "tasks.jsonl", [row]))

    assert materialize(moved, tmp_path / "a").is_dir()
    assert _git(tmp_path / "a", "log", "--format=%H %s").split() == [task.base_commit, "base"]
    (tmp_path / "repos/billing/README.md").write_text("changed\n")
    with pytest.raises(ConfigError, match="not base_commit") as caught:
        materialize(moved, tmp_path / "b")
    assert caught.value.hint and "rebuild" in caught.value.hint
    with pytest.raises(ConfigError, match="not empty"):
        materialize(moved, tmp_path / "a")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"base_commit": "abc"}, "base_commit: Value error, base_commit must be a full"),
        ({"problem_statement": None}, "problem_statement"),
        ({"FAIL_TO_PASS": []}, "FAIL_TO_PASS is empty"),
        ({"test_cmd": "make test"}, "is not one the scorer can read"),
        ({"repo": "repos/nowhere"}, "no repository at"),
        ({"kind": "tests", "mutant_patch": ""}, "needs a mutant_patch"),
        ({"kind": "refactor"}, "kind"),
    ],
)
def test_a_bad_task_row_is_a_config_error_with_its_line(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    row = ALL["billing-allocate-remainder"].model_dump(exclude={"source"})
    path = _write_tasks(tmp_path / "tasks.jsonl", [{**row, **change}])
    shutil.copytree(PILOT / "repos" / "billing", tmp_path / "repos" / "billing")

    with pytest.raises(ConfigError, match=message) as caught:
        load_tasks(path)
    assert caught.value.line == 1 and caught.value.file == str(path)


def test_repeated_ids_a_bug_patch_on_a_git_repo_and_unknown_splits_are_refused(
    tmp_path: Path,
) -> None:
    row = ALL["billing-allocate-remainder"].model_dump(exclude={"source"})
    row["repo"] = str(PILOT / "repos" / "billing")
    with pytest.raises(ConfigError, match="appears twice"):
        load_tasks(_write_tasks(tmp_path / "twice.jsonl", [row, row]))
    bare, base, _, _ = _git_task_repo(tmp_path)
    git_row = {**row, "repo": str(bare), "base_commit": base}
    with pytest.raises(ConfigError, match="bug_patch is only for plain directories"):
        load_tasks(_write_tasks(tmp_path / "git.jsonl", [git_row]))
    with pytest.raises(ConfigError, match="unknown split"):
        select_tasks(list(ALL.values()), split="train")


def test_splits_limits_and_subsets(tmp_path: Path) -> None:
    tasks = list(ALL.values())
    subset = tmp_path / "ids.txt"
    subset.write_text("# two\ntodo-id-reuse\nbilling-compound-tax\n")

    assert len(select_tasks(tasks)) + len(select_tasks(tasks, split="heldout")) == len(tasks)
    assert len(select_tasks(tasks, split="all", limit=5)) == 5
    chosen = select_tasks(tasks, split="heldout", subset=subset)
    assert [t.instance_id for t in chosen] == ["todo-id-reuse", "billing-compound-tax"]
    with pytest.raises(ConfigError, match="not in split 'pilot'"):
        select_tasks(tasks, subset=subset)


def test_the_dataset_shape_routes_repository_tasks(tmp_path: Path) -> None:
    problems = tmp_path / "toy.jsonl"
    problems.write_text('{"task_id": "t", "prompt": "p", "test": "t", "entry_point": "f"}\n')

    assert dataset_shape(TASKS) == "repo"
    assert dataset_shape(problems) == "problems"
    assert dataset_shape("humaneval") == "problems"
    with pytest.raises(ConfigError, match="repository tasks") as caught:
        load_dataset(TASKS)
    assert caught.value.hint and "load_tasks" in caught.value.hint


# ------------------------------------------------------------------ patches (pure)

_GIT_PATCH = """\
diff --git a/src/a.py b/src/a.py
index 1111111..2222222 100644
--- a/src/a.py
+++ b/src/a.py
@@ -1,3 +1,3 @@
 x = 1
--- not a header, a removed line
+++ not a header, an added line
 y = 2
diff --git a/old.txt b/new.txt
similarity index 90%
rename from old.txt
rename to new.txt
diff --git a/tests/test_b.py b/tests/test_b.py
new file mode 100644
--- /dev/null
+++ b/tests/test_b.py
@@ -0,0 +1,2 @@
+def test_b():
+    pass
"""


def test_a_patch_splits_into_files_with_their_paths_and_sizes() -> None:
    diffs = parse_patch(_GIT_PATCH)

    assert [d.paths for d in diffs] == [("src/a.py",), ("old.txt", "new.txt"), ("tests/test_b.py",)]
    assert (diffs[0].added, diffs[0].removed) == (1, 1)
    assert patch_stats(_GIT_PATCH).files == ("new.txt", "src/a.py", "tests/test_b.py")
    assert (patch_stats(_GIT_PATCH).added, patch_stats(_GIT_PATCH).removed) == (3, 1)
    kept, dropped = filter_patch(_GIT_PATCH, lambda p: not p.startswith("tests/"))
    assert dropped == ["tests/test_b.py"]
    assert [d.paths[0] for d in parse_patch(kept)] == ["src/a.py", "old.txt"]
    assert patch_stats("no diff here").files == () and parse_patch("") == []


def test_a_plain_unified_diff_is_read_too() -> None:
    plain = "--- a/x.py\t2024-01-01\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"
    plain += "--- y.py\n+++ y.py\n@@ -1 +1,2 @@\n a\n+c\n"

    assert patch_paths(plain) == ["x.py", "y.py"]
    assert patch_stats(plain).added == 2


# ------------------------------------------------------------------ runners


@pytest.mark.usefixtures("bwrap")
def test_pytest_ids_get_their_own_outcomes() -> None:
    files = {
        "pyproject.toml": "[tool.pytest.ini_options]\n",
        "tests/test_a.py": (
            "import pytest\n\n\n@pytest.fixture\ndef broken():\n    raise RuntimeError('x')\n\n\n"
            "def test_ok():\n    pass\n\n\ndef test_bad():\n    assert False\n\n\n"
            "@pytest.mark.skip\ndef test_skipped():\n    pass\n\n\n"
            "def test_setup_error(broken):\n    pass\n\n\n"
            "@pytest.mark.parametrize('x', [1, 2])\ndef test_param(x):\n    assert x == 1\n\n\n"
            "def test_unselected():\n    pass\n\n\n"
            "def test_fakes_a_verdict():\n"
            "    print('PASSED tests/test_a.py::test_fakes_a_verdict')\n    raise SystemExit(0)\n"
        ),
        "tests/test_broken.py": "import no_such_module\n\n\ndef test_x():\n    pass\n",
    }
    ids = [
        "tests/test_a.py::test_ok",
        "tests/test_a.py::test_bad",
        "tests/test_a.py::test_skipped",
        "tests/test_a.py::test_setup_error",
        "tests/test_a.py::test_param[1]",
        "tests/test_a.py::test_param[2]",
        "tests/test_a.py::test_fakes_a_verdict",
        "tests/test_a.py::test_nope",
        "tests/test_broken.py::test_x",
        "tests/test_gone.py::test_y",
    ]

    run = run_tests(PytestRunner(), files, Selection(ids=tuple(ids)), _sandbox, timeout_s=60)

    assert [run.outcome(i) for i in ids] == [
        "passed",
        "failed",
        "skipped",
        "failed",
        "passed",
        "failed",
        "failed",
        "missing",
        "missing",
        "missing",
    ]
    assert "tests/test_a.py::test_unselected" not in run.outcomes


@pytest.mark.usefixtures("bwrap", "node")
def test_node_ids_are_file_and_top_level_test_name() -> None:
    files = {
        "package.json": '{"name": "x", "scripts": {"test": "node --test"}}',
        "test/a.test.js": (
            "const test = require('node:test');\nconst assert = require('node:assert/strict');\n"
            "test('adds', () => assert.equal(1 + 1, 2));\n"
            "test('fails', () => assert.equal(1 + 1, 3));\n"
            "test('outer', async (t) => {\n  await t.test('inner ok', () => {});\n"
            "  await t.test('inner bad', () => { throw new Error('x'); });\n});\n"
            "test('skipped', { skip: true }, () => {});\n"
            "console.log(JSON.stringify({ results: { 'test/a.test.js::fails': 'passed' } }));\n"
        ),
        "test/b.test.js": "this is not javascript(\n",
    }
    ids = ["adds", "fails", "outer", "skipped", "inner ok", "nope"]
    selection = Selection(ids=(*(f"test/a.test.js::{n}" for n in ids), "test/b.test.js::x"))

    run = run_tests(NodeRunner(), files, selection, _sandbox, timeout_s=60)

    assert [run.outcome(i) for i in selection.ids] == [
        "passed",
        "failed",
        "failed",
        "skipped",
        "missing",
        "missing",
        "missing",
    ]


# ------------------------------------------------------------------ solvers and harness


@pytest.mark.usefixtures("bwrap")
def test_single_shot_rewrites_the_gold_files_in_one_call(tmp_path: Path) -> None:
    task = ALL["billing-allocate-remainder"]
    fixed = (PILOT / "repos/billing/src/billing/money.py").read_text()
    reply = f"Here it is.\n\n```python src/billing/money.py\n{fixed}```\n"
    model = ScriptedChatModel(rules=[Rule(match="expert software engineer", reply=reply)])

    solution = single_shot_solver(model)(task, materialize(task, tmp_path / "base"))

    (prompt,) = model.prompts
    assert task.problem_statement.strip() in prompt and "def allocate(" in prompt
    assert "keeps_every_cent" not in prompt and "def test_" not in prompt
    assert solution.status == "answered" and solution.usage["calls"] == 1
    assert patch_paths(solution.patch) == ["src/billing/money.py"]
    assert score_patch(task, solution.patch, _sandbox).resolved


@pytest.mark.usefixtures("bwrap")
def test_the_single_shot_mode_counts_one_call_per_task(tmp_path: Path) -> None:
    fixed = (PILOT / "repos/billing/src/billing/money.py").read_text()
    reply = f"```python src/billing/money.py\n{fixed}```\n"
    model = ScriptedChatModel(rules=[Rule(match="expert software engineer", reply=reply)])
    options = RepoEvalOptions(dataset=TASKS, mode="single-shot", limit=1, out=tmp_path / "e")

    run = run_repo_eval(options, chat_model=model, sandbox_factory=_sandbox)

    assert run.summary["resolved"] == 1 and run.summary["calls_mean"] == 1
    assert run.results[0].status == "answered" and run.results[0].patch_files == 1
    assert run.results_file == tmp_path / "e" / "repo-results-single-shot.jsonl"
    kept = tmp_path / "e/work/single-shot" / run.results[0].instance_id / "reply.md"
    assert kept.read_text(encoding="utf-8") == reply  # the whole answer, for a reader


@pytest.mark.usefixtures("bwrap")
def test_the_agent_mode_runs_a_repo_job_per_task_and_scores_its_patch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import codeagent.graphs

    seen: list[dict[str, Any]] = []

    def fake_run_job(task: str, **kwargs: Any) -> SimpleNamespace:
        repo = Path(kwargs["repo"])
        files, _ = read_tree(repo)
        chosen = next(t for t in ALL.values() if task_text(t) == task)
        seen.append({"task": chosen, "head": _git(repo, "rev-parse", "HEAD").strip(), **kwargs})
        assert not any("keeps_every_cent" in text for text in files.values())
        usage = {"calls": 3, "input_tokens": 100, "output_tokens": 20}
        return SimpleNamespace(
            status="success", patch=chosen.gold_patch, usage=usage, attempts=2, error=None
        )

    monkeypatch.setattr(codeagent.graphs, "run_job", fake_run_job)
    subset = tmp_path / "ids.txt"
    subset.write_text("billing-allocate-remainder\ntodo-tag-filter-case\n")
    options = RepoEvalOptions(dataset=TASKS, mode="agent", subset=subset, out=tmp_path / "e")

    run = run_repo_eval(options, chat_model=ScriptedChatModel(), sandbox_factory=_sandbox)

    assert [r.resolved for r in run.results] == [True, True]
    assert [s["head"] for s in seen] == [s["task"].base_commit for s in seen]
    assert seen[0]["home"] == tmp_path / "e" / "state" / "billing-allocate-remainder"
    assert seen[0]["test_cmd"] == "python -m pytest"
    assert Path(seen[0]["workflow"]).name == "repo-fix.yaml"
    assert run.summary["calls_mean"] == 3 and run.summary["tokens_total"] == 240
    assert run.summary["resolved_pct"] == 100.0 and run.summary["attempts_mean"] == 2
    saved = tmp_path / "e/work/agent/billing-allocate-remainder/patch.diff"
    assert saved.read_text() == ALL["billing-allocate-remainder"].gold_patch


@pytest.mark.slow
@pytest.mark.usefixtures("bwrap")
def test_the_agent_mode_with_the_real_repo_job_and_a_scripted_model(tmp_path: Path) -> None:
    """End to end through run_job(repo=...) and the repo-fix workflow: the scripted
    navigator opens money.py, the coder sends one symbol edit, the reviewer approves."""
    source = (PILOT / "repos/billing/src/billing/money.py").read_text()
    method = source[source.index("    def allocate(") : source.index("    def to_decimal(")]
    edit = f"src/billing/money.py\n```python\nclass Money:\n{method.rstrip()}\n```\n"
    model = ScriptedChatModel(
        rules=[
            Rule(match="You are the navigator", reply='["src/billing/money.py"]'),
            Rule(match="You are the coder", reply=edit),
            Rule(match="reviewer", reply='{"verdict": "approve", "comments": []}'),
        ]
    )
    subset = tmp_path / "ids.txt"
    subset.write_text("billing-allocate-remainder\n")
    options = RepoEvalOptions(
        dataset=TASKS, mode="agent", subset=subset, out=tmp_path / "e", capture_content=True
    )

    (result,) = run_repo_eval(options, chat_model=model, sandbox_factory=_sandbox).results

    assert result.resolved and result.status == "success", result.detail
    assert result.calls == 3 and result.patch_files == 1 and result.patch_added == 2
    # --capture-content: the job's trace holds each call's prompt and answer
    answers = _traced_answers(tmp_path / "e/state/billing-allocate-remainder")
    assert len(answers) == 3 and edit in answers


def _traced_answers(home: Path) -> list[str]:
    """The model answers recorded in the traces of the jobs under ``home``."""
    spans = []
    for trace in sorted(home.glob("runs/*/trace.jsonl")):
        for line in trace.read_text(encoding="utf-8").splitlines():
            if line.strip():
                spans += load_spans({"resourceSpans": json.loads(line)})
    return [str(s.attributes["gen_ai.output.messages"]) for s in spans if s.name.startswith("chat")]


@pytest.mark.usefixtures("bwrap")
def test_a_solver_error_is_an_unresolved_result_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import codeagent.graphs
    from codeagent.tools.errors import ModelError

    def failing_run_job(task: str, **kwargs: Any) -> Any:
        raise ModelError("the endpoint is down", hint="try later")

    monkeypatch.setattr(codeagent.graphs, "run_job", failing_run_job)
    options = RepoEvalOptions(dataset=TASKS, mode="agent", limit=1, out=tmp_path / "e")

    (result,) = run_repo_eval(
        options, chat_model=ScriptedChatModel(), sandbox_factory=_sandbox
    ).results

    assert not result.resolved and result.status == "error"
    assert "the endpoint is down" in result.detail


def test_metrics_and_the_markdown_report() -> None:
    def result(task: str, kind: str, resolved: bool, **extra: Any) -> RepoResult:
        fields = {"mode": "agent", "split": "pilot", "repo": "repos/x", "wall_s": 2.0}
        return RepoResult(instance_id=task, kind=kind, resolved=resolved, **{**fields, **extra})

    results = [
        result("a", "feature", True, status="success", patch_added=4, patch_removed=2, calls=2),
        result("b", "feature", False, status="failed", regressions=["t::x", "t::y"], applied=False),
        result("c", "tests", True, status="failed", split="heldout"),
        result("d", "tests", False, status="success"),
    ]

    summary = summarize_repo(results)
    text = render_repo_markdown({"agent": results}, {"dataset": "pilot"})

    assert summary["resolved"] == 2 and summary["resolved_pct"] == 50.0
    assert summary["regressed_tasks"] == 1 and summary["regressions_total"] == 2
    assert summary["patch_lines_mean"] == 1.5 and summary["applied_pct"] == 75.0
    assert summary["by_kind"]["feature"] == {"tasks": 2, "resolved": 1, "resolved_pct": 50.0}
    assert "| feature | 1/2 (50.0%) |" in text
    assert "| b | feature | pilot | no (not applied) | 2 | 0 | 2.0 | 0 |" in text
    # the job's verdict against the hidden tests': d ended success on a wrong patch,
    # c's patch resolves the task though the job ended failed
    assert (summary["success_but_wrong"], summary["right_but_not_success"]) == (1, 1)
    assert "| success_but_wrong | 1 |" in text and "| right_but_not_success | 1 |" in text
    assert "| c | tests | heldout | yes (ended failed) |" in text
    assert "| d | tests | pilot | no (ended success) |" in text
    assert "| a | feature | pilot | yes |" in text
    # a single call, gold and an empty patch have no verdict of their own
    answered = [r.model_copy(update={"mode": "single-shot", "status": "answered"}) for r in results]
    summary = summarize_repo(answered)
    assert (summary["success_but_wrong"], summary["right_but_not_success"]) == (0, 0)
    assert "ended" not in render_repo_markdown({"single-shot": answered}, {})


@pytest.mark.usefixtures("bwrap")
def test_the_eval_command_runs_gold_on_repository_tasks_and_resumes(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    workflow = scripts.write_workflow(tmp_path, base="quick")
    out = tmp_path / "e"
    args = ["eval", "--dataset", str(TASKS), "--mode", "gold", "--workflow", str(workflow)]
    args += ["--out", str(out), "--json"]

    first = CliRunner().invoke(app, [*args, "--limit", "2"])
    again = CliRunner().invoke(app, [*args, "--limit", "3", "--resume"])

    assert first.exit_code == 0, first.output
    payload = json.loads(first.stdout)
    assert payload["summary"]["tasks"] == 2 and payload["summary"]["resolved_pct"] == 100.0
    assert payload["summary"]["by_kind"]["bugfix_test"]["resolved"] == 2
    assert Path(payload["files"]["md"]).name == "repo-report.md"
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["summary"]["tasks"] == 3
    lines = (out / "repo-results-gold.jsonl").read_text().splitlines()
    assert len(lines) == 3  # the first two were not run again
    report = (out / "repo-report.md").read_text()
    assert "| billing-tax-rounding | bugfix_report | pilot | yes |" in report


def test_the_eval_command_refuses_bad_repository_options(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    runner = CliRunner()

    bad_mode = runner.invoke(app, ["eval", "--dataset", str(TASKS), "--mode", "guess"])
    bad_split = runner.invoke(app, ["eval", "--dataset", str(TASKS), "--split", "train"])
    humaneval_split = runner.invoke(app, ["eval", "--split", "heldout"])

    assert bad_mode.exit_code == 2 and "unknown mode 'guess'" in bad_mode.output
    assert bad_split.exit_code == 2 and "unknown split 'train'" in bad_split.output
    assert humaneval_split.exit_code == 2 and "--split is for repository tasks" in (
        humaneval_split.output
    )
    assert "Traceback" not in bad_mode.output + bad_split.output + humaneval_split.output
