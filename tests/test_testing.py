"""The shipped test doubles: a workflow runs with neither a model nor a sandbox."""

from __future__ import annotations

from codeagent.graphs import run_job
from codeagent.tools.sandbox import Sandbox
from codeagent.tools.testing import FakeRun, FakeSandbox
from tests import scripts


def test_a_workflow_runs_with_neither_a_model_nor_a_sandbox() -> None:
    result = run_job(scripts.TASK, chat_model=scripts.model(), sandbox_factory=FakeSandbox)

    assert result.status == "success", result.error
    assert "def add" in result.files["solution.py"]
    assert result.test_report is not None
    assert (result.test_report["passed"], result.test_report["total"]) == (1, 1)


def test_a_scripted_sandbox_fails_the_tests_once_then_passes() -> None:
    sandbox = FakeSandbox(FakeRun(passed=2, failed=1, stdout="1 failed"), FakeRun(passed=3))

    result = run_job(
        scripts.TASK,
        workflow="quick",
        chat_model=scripts.model(),
        sandbox_factory=lambda: sandbox,
    )

    assert result.status == "success" and result.attempts == 2
    assert result.test_report is not None and result.test_report["passed"] == 3
    assert len(sandbox.commands) == 2
    assert "def test_add" in sandbox.files["test_solution.py"]


def test_the_fake_sandbox_keeps_files_and_reports_the_scripted_run() -> None:
    with FakeSandbox(FakeRun(passed=0, errors=1, stderr="boom")) as sandbox:
        assert isinstance(sandbox, Sandbox)
        sandbox.write_files({"a.py": "x = 1\n"})
        ran = sandbox.run(["pytest"], timeout_s=5)
        files = sandbox.read_files(["a.py", "report.xml", "missing.txt"])

    assert (ran.exit_code, ran.stderr) == (1, "boom")
    assert files["a.py"] == "x = 1\n"
    assert 'errors="1"' in files["report.xml"] and "missing.txt" not in files
