"""Repo jobs end to end with a scripted model and the real local sandbox.

A small git repository with a bug and its own pytest suite; the job snapshots it,
runs the baseline, edits, judges against the baseline and hands back a patch. The
user's tree is checked untouched after every job.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codeagent.graphs import resume_job, run_job
from codeagent.graphs.jobs.delivery import deliver
from codeagent.graphs.jobs.results import RunResult
from codeagent.tools.errors import ConfigError, RepoError, SandboxError
from codeagent.tools.sandbox import LocalSandbox, Sandbox
from codeagent.tools.testing import ScriptedChatModel
from tests.git_support import git
from tests.repo_support import (
    BREAKS_SUB,
    CALC,
    FIX,
    RESTORE_SUB,
    TASK,
    TESTS,
    calc_model,
    make_calc_repo,
    untouched,
    write_repo_workflow,
)

pytestmark = pytest.mark.usefixtures("bwrap")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_calc_repo(tmp_path)


def test_a_failing_test_is_fixed_and_the_result_is_a_patch(repo: Path, tmp_path: Path) -> None:
    model = calc_model(FIX)
    result = run_job(
        TASK,
        workflow="repo-fix",
        repo=repo,
        chat_model=model,
        sandbox_factory=LocalSandbox,
        out=tmp_path / "out",
    )

    assert result.status == "success", (result.error, result.test_report)
    assert result.files == {"calc.py": CALC.replace("a - b\n\n\ndef sub", "a + b\n\n\ndef sub")}
    assert result.patch is not None and "-    return a - b" in result.patch
    assert "+    return a + b" in result.patch
    report = result.test_report or {}
    assert report["verified"] and report["regressions"] == [] and report["passed"] == 2
    assert (tmp_path / "out" / "changes.patch").read_text() == result.patch
    untouched(repo)
    # the patch is a real one: git applies it to the repository as it was
    check = subprocess.run(
        ["git", "-C", str(repo), "apply", "--check", str(tmp_path / "out" / "changes.patch")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    # the coder saw the opened file, and the read step saw the failing test
    coder_prompt = next(p for p in model.prompts if "You are the coder" in p)
    assert "def add(a, b):" in coder_prompt
    # and what the named test says before any change (the assertion that fails)
    failing = coder_prompt.split("The tests the task names fail now:", 1)[1]
    assert "tests/test_calc.py::test_add" in failing and "assert" in failing
    navigator = next(p for p in model.prompts if "You are the navigator" in p)
    assert "tests/test_calc.py::test_add" in navigator
    # the read step's answer has a cap of its own (a few names, not a listing)
    asked = dict(zip(model.prompts, model.call_settings, strict=True))
    assert asked[navigator] == {"max_completion_tokens": 256}


def test_a_regression_is_caught_and_named_to_the_coder(repo: Path) -> None:
    model = calc_model(BREAKS_SUB, fix=(RESTORE_SUB,))
    result = run_job(
        TASK, workflow="repo-fix", repo=repo, chat_model=model, sandbox_factory=LocalSandbox
    )

    assert result.status == "success", (result.error, result.test_report)
    retry = next(p for p in model.prompts if "Your changes so far" in p)
    assert "tests/test_calc.py::test_sub passed before this change and fails now" in retry
    assert "def sub(a, b):\n    return a - b" in result.files["calc.py"]  # sub restored
    untouched(repo)


def test_an_edit_that_cannot_apply_is_asked_again_with_the_reason(repo: Path) -> None:
    model = calc_model("calc.py::nothing\n```python\ndef nothing_here(:\n```\n", fix=(FIX,))
    result = run_job(
        TASK, workflow="repo-fix", repo=repo, chat_model=model, sandbox_factory=LocalSandbox
    )

    assert result.status == "success", (result.error, result.test_report)
    again = [p for p in model.prompts if "could not be applied" in p]
    assert len(again) == 1
    assert "calc.py" in again[0]
    # asked again hotter: at the first call's temperature a small model repeats itself
    coder_calls = [
        settings
        for prompt, settings in zip(model.prompts, model.call_settings, strict=True)
        if "You are the coder" in prompt
    ]
    assert coder_calls[0].get("temperature") is None
    assert coder_calls[1]["temperature"] == 0.7


def test_a_change_that_rewrites_the_named_test_does_not_pass(repo: Path) -> None:
    """Changing the failing test's expected value makes it pass on wrong code: refused."""
    cheat = (
        "tests/test_calc.py::test_add\n```python\ndef test_add():\n"
        "    assert add(2, 3) == -1\n```\n"
    )
    model = calc_model(cheat, fix=(cheat,))
    result = run_job(
        TASK, workflow="repo-fix", repo=repo, chat_model=model, sandbox_factory=LocalSandbox
    )

    assert result.status != "success"
    report = result.test_report or {}
    assert report["ok"] is False and report["rewritten_tests"] == ["tests/test_calc.py"]
    retry = next(p for p in model.prompts if "Your changes so far" in p)
    assert "tests/test_calc.py: you changed or removed lines of this existing test file" in retry
    untouched(repo)


def test_apply_refuses_a_file_changed_since_the_job_started(repo: Path) -> None:
    result = run_job(
        TASK,
        workflow="repo-fix",
        repo=repo,
        chat_model=calc_model(FIX),
        sandbox_factory=LocalSandbox,
    )
    assert result.ok
    mine = CALC + "\n# my own edit\n"
    (repo / "calc.py").write_text(mine)

    with pytest.raises(RepoError, match=r"calc\.py"):
        deliver(result.thread_id, apply=True)
    assert (repo / "calc.py").read_text() == mine  # nothing half-applied

    (repo / "calc.py").write_text(CALC)
    done = deliver(result.thread_id, apply=True)
    assert done.applied == ["calc.py"]
    assert "return a + b" in (repo / "calc.py").read_text()


def test_branch_commits_the_patch_without_touching_the_checkout(repo: Path) -> None:
    result = run_job(
        TASK,
        workflow="repo-fix",
        repo=repo,
        chat_model=calc_model(FIX),
        sandbox_factory=LocalSandbox,
    )
    head = git(repo, "rev-parse", "HEAD")

    done = deliver(result.thread_id, branch="codeagent/fix-add")

    assert done.commit and done.branch == "codeagent/fix-add"
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "branch", "--show-current").strip() == "main"
    untouched(repo)
    shown = git(repo, "show", "codeagent/fix-add:calc.py")
    assert "return a + b" in shown
    with pytest.raises(RepoError):
        deliver(result.thread_id, branch="codeagent/fix-add")  # exists now


def test_a_bug_report_is_checked_by_the_failing_test_it_fixes(repo: Path) -> None:
    """No test named, but test_add failed in the baseline and passes now: checked."""
    result = run_job(
        "add() returns the difference instead of the sum; fix it.",
        workflow="repo-fix",
        repo=repo,
        chat_model=calc_model(FIX),
        sandbox_factory=LocalSandbox,
    )

    assert result.status == "success", (result.error, result.test_report)
    report = result.test_report or {}
    assert report["fixed"] == ["tests/test_calc.py::test_add"] and report["verified"]
    assert result.attempts == 1


def _bug_report_job(repo: Path, model: ScriptedChatModel) -> RunResult:
    """A bug report on ``repo`` with its test of add removed (so no failing test shows
    the bug), run through repo-fix."""
    (repo / "tests" / "test_calc.py").write_text(
        TESTS.split("def test_add")[0] + "def test_sub():\n    assert sub(5, 3) == 2\n"
    )
    git(repo, "commit", "-qam", "no test of add")
    return run_job(
        "add() returns the difference instead of the sum; fix it.",
        workflow="repo-fix",
        repo=repo,
        chat_model=model,
        sandbox_factory=LocalSandbox,
    )


def test_a_change_no_test_checks_is_sent_back_for_a_test_that_fails_without_it(
    repo: Path,
) -> None:
    """A bug report names no test: the fix alone is not checked, so the coder is asked
    for a test. add(0, 0) == 0 holds for a - b too: such a test checks nothing of the
    fix, and the coder is told so; with a test that fails on the old code (and nothing
    broken) the job succeeds."""
    head = "tests/test_add_regression.py\n```python\nfrom calc import add\n\n\n"
    zero = "def test_add_zero():\n    assert add(0, 0) == 0\n"
    vacuous = f"{head}{zero}```\n"
    real = f"{head}{zero}\n\ndef test_add_sums():\n    assert add(1, 1) == 2\n```\n"
    model = calc_model(FIX, fix=(vacuous, real))
    result = _bug_report_job(repo, model)

    assert result.status == "success", (result.error, result.test_report)
    first, second = [p for p in model.prompts if "Your changes so far" in p]
    assert "no test checks this change" in first
    assert "pass on the code as it was too" in second
    assert "tests/test_add_regression.py::test_add_zero" in second
    assert set(result.files) == {"calc.py", "tests/test_add_regression.py"}
    report = result.test_report or {}
    assert report["verified"] and report["regressions"] == []
    assert "vacuous_new_tests" not in report


def test_a_feature_comes_with_its_own_tests(repo: Path) -> None:
    """repo-feature: the new function is added next to the others, with a new test file."""
    feature = (
        "calc.py::mul\n```python\ndef mul(a, b):\n    return a * b\n```\n\n"
        "tests/test_mul.py\n```python\nfrom calc import mul\n\n\n"
        "def test_mul():\n    assert mul(3, 4) == 12\n```\n"
    )
    result = run_job(
        "Add mul(a, b) to calc.py: it returns the product of a and b.",
        workflow="repo-feature",
        repo=repo,
        chat_model=calc_model(feature),
        sandbox_factory=LocalSandbox,
        test_cmd="python -m pytest",  # as READMEs say it; the sandbox has python3
    )

    assert result.status == "success", (result.error, result.test_report)
    assert "def mul(a, b):" in result.files["calc.py"]
    assert "def sub(a, b):" in result.files["calc.py"]  # the rest of the file is kept
    assert (result.test_report or {})["verified"]
    assert result.patch and "+++ b/tests/test_mul.py" in result.patch
    untouched(repo)


def test_a_test_command_that_cannot_run_stops_the_job_before_any_model_call(
    repo: Path,
) -> None:
    model = calc_model(FIX)
    with pytest.raises(ConfigError, match="could not run") as caught:
        run_job(
            TASK,
            workflow="repo-fix",
            repo=repo,
            chat_model=model,
            sandbox_factory=LocalSandbox,
            test_cmd="no-such-test-runner --all",
        )

    assert "no-such-test-runner" in str(caught.value) and caught.value.hint
    assert model.prompts == []


def test_a_repo_workflow_needs_a_repo_and_a_missing_folder_is_a_clear_error(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match="--repo"):
        run_job(TASK, workflow="repo-fix", chat_model=calc_model(FIX), sandbox_factory=LocalSandbox)
    with pytest.raises(RepoError):
        run_job(TASK, workflow="repo-fix", repo=tmp_path / "nope", chat_model=calc_model(FIX))


class _DiesOnce:
    """A sandbox factory whose 3rd sandbox fails to start (the engine went away)."""

    def __init__(self) -> None:
        self.opened = 0

    def __call__(self) -> Sandbox:
        self.opened += 1
        if self.opened == 3:
            raise SandboxError("the sandbox engine went away", hint="start it again")
        return LocalSandbox()


def test_a_repo_job_resumes_from_its_snapshot_not_from_the_tree(repo: Path) -> None:
    model = calc_model(BREAKS_SUB, fix=(RESTORE_SUB,))
    sandbox = _DiesOnce()
    first = run_job(TASK, workflow="repo-fix", repo=repo, chat_model=model, sandbox_factory=sandbox)
    assert first.status == "error" and "went away" in (first.error or "")
    # the user edits their tree meanwhile: the job goes on from what it started with
    (repo / "tests" / "test_calc.py").write_text("def test_broken():\n    assert False\n")

    again = resume_job(first.thread_id, chat_model=model, sandbox_factory=sandbox)

    assert again.status == "success", (again.error, again.test_report)
    assert (again.test_report or {})["passed"] == 2
    assert sum("You are the navigator" in p for p in model.prompts) == 1  # not redone


def test_the_cli_runs_a_repo_job_and_applies_it(repo: Path, tmp_path: Path) -> None:
    write_repo_workflow(tmp_path, calc_model(FIX))

    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "codeagent.graphs.cli",
            "run",
            TASK,
            "--repo",
            str(repo),
            "--workflow",
            str(tmp_path / "wf.yaml"),
            "--apply",
            "--json",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert ran.returncode == 0, ran.stdout + ran.stderr
    data = json.loads(ran.stdout)
    assert data["status"] == "success" and data["delivery"]["applied"] == ["calc.py"]
    assert "return a + b" in (repo / "calc.py").read_text()


def test_a_dependency_installed_by_the_setup_step_is_there_for_every_test_run(
    repo: Path, tmp_path: Path
) -> None:
    """sandbox.setup installs from a wheel inside the repository (binary, offline), once."""
    import yaml

    from codeagent.configs import workflow_path
    from tests.setup_support import WHEEL, tiny_wheel

    (repo / "wheels").mkdir()
    (repo / "wheels" / WHEEL).write_bytes(tiny_wheel(7))
    (repo / "calc.py").write_text(
        CALC.replace('"""A calculator."""', '"""A calculator."""\nimport mypkg')
    )
    (repo / "tests" / "test_dep.py").write_text(
        "import mypkg\n\n\ndef test_dep():\n    assert mypkg.VALUE == 7\n"
    )
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "a dependency")
    path = workflow_path("repo-fix")
    assert path is not None
    data = yaml.safe_load(path.read_text())
    data["sandbox"]["backend"] = "local"
    data["sandbox"]["setup"] = [
        "python3 -m pip install -q --no-index --find-links wheels --target .deps mypkg"
    ]
    (tmp_path / "wf.yaml").write_text(yaml.safe_dump(data, sort_keys=False))

    result = run_job(TASK, workflow=tmp_path / "wf.yaml", repo=repo, chat_model=calc_model(FIX))

    assert result.status == "success", (result.error, result.test_report)
    assert (result.test_report or {})["passed"] == 3  # test_dep too: the setup's install
    assert result.patch and "wheels" not in result.patch


@pytest.mark.slow
def test_a_killed_repo_job_resumes_without_redoing_nodes(repo: Path, tmp_path: Path) -> None:
    """SIGKILL the CLI once the read step is checkpointed; the user then edits the tree;
    the resumed job redoes no finished node and works on what it started from."""
    import os
    import signal
    import time

    import yaml

    from codeagent.configs import workflow_path
    from codeagent.graphs import job_history

    path = workflow_path("repo-fix")
    assert path is not None
    data = yaml.safe_load(path.read_text())
    data["models"] = {"default": {"provider": "scripted", "script": "rules.yaml"}}
    data["sandbox"]["backend"] = "local"
    rules = [r.model_dump(exclude_defaults=True) for r in calc_model(FIX).rules]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"rules": rules, "delay_s": 3.0}))
    (tmp_path / "wf.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    home = tmp_path / "home"  # the state dir conftest gives this test (job_history reads it)
    assert os.environ["CODEAGENT_HOME"] == str(home)
    env = dict(os.environ)
    cli = [sys.executable, "-m", "codeagent.graphs.cli"]
    proc = subprocess.Popen(
        [
            *cli,
            "run",
            TASK,
            "--repo",
            str(repo),
            "-w",
            str(tmp_path / "wf.yaml"),
            "--thread-id",
            "k",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if (home / "runs" / "k" / "job.json").exists():
            nodes = [row.node for row in job_history("k")]
            if "context" in nodes:
                break
        time.sleep(0.2)
    assert proc.poll() is None, "the job ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (repo / "calc.py").write_text("def add(a, b):\n    raise SystemExit\n")  # the user edits

    resumed = subprocess.run(
        [*cli, "resume", "k", "--json"], capture_output=True, text=True, timeout=300, env=env
    )

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["status"] == "success"
    assert "-    return a - b" in result["patch"]  # against the snapshot, not today's tree
    nodes = [row.node for row in job_history("k")]
    assert nodes.count("baseline") == 1 and nodes.count("context") == 1


def test_a_coder_that_never_writes_an_applicable_edit_ends_error_with_its_calls_counted(
    repo: Path,
) -> None:
    """The calls spent on unusable answers count in the result (and so in an eval)."""
    model = calc_model("no code block here", fix=("still none",))
    result = run_job(
        TASK, workflow="repo-fix", repo=repo, chat_model=model, sandbox_factory=LocalSandbox
    )

    assert result.status == "error" and "could not be applied 3 times" in (result.error or "")
    coder_calls = sum("You are the coder" in p for p in model.prompts)
    assert coder_calls == 3
    assert result.usage["calls"] == 1 + coder_calls  # the read step, and every coder answer
    assert result.usage["output_tokens"] > 0
    untouched(repo)
