"""Every job checks its sandbox before its first model call (tools/sandbox/preflight.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeagent.configs import workflow_path
from codeagent.graphs import WorkflowSpec, load_workflow, resume_job, run_job
from codeagent.tools.errors import SandboxMissing
from codeagent.tools.sandbox.preflight import check_sandbox
from codeagent.tools.testing import FakeSandbox
from tests import scripts
from tests.test_cli import codeagent


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine with neither bubblewrap (PATH without it) nor a Docker engine."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")


def _spec(backend: str) -> WorkflowSpec:
    path = workflow_path("default")
    assert path is not None
    data = load_workflow(str(path))[0].model_dump(by_alias=True)
    data["sandbox"]["backend"] = backend
    return WorkflowSpec.model_validate(data)


@pytest.mark.usefixtures("bare")
def test_a_local_job_without_bwrap_fails_before_any_model_call(tmp_path: Path) -> None:
    model = scripts.model()
    with pytest.raises(SandboxMissing) as caught:
        run_job(scripts.TASK, workflow=_spec("local"), chat_model=model)

    assert model.prompts == []  # no model time spent
    assert "bubblewrap" in caught.value.message
    assert caught.value.hint is not None and "apt-get install -y bubblewrap" in caught.value.hint
    assert caught.value.exit_code == 2
    assert not list((tmp_path / "home").rglob("*.json"))  # no job record, nothing to resume


@pytest.mark.usefixtures("bare")
def test_auto_with_neither_backend_names_both_fixes() -> None:
    with pytest.raises(SandboxMissing) as caught:
        check_sandbox("auto")

    text = str(caught.value)
    assert "no sandbox backend is usable" in text
    assert "apt-get install -y bubblewrap" in text
    assert "codeagent sandbox build" in text
    assert "codeagent sandbox setup" in text


@pytest.mark.usefixtures("bare")
def test_docker_without_an_engine_says_to_start_it() -> None:
    with pytest.raises(SandboxMissing, match="no Docker engine answers"):
        check_sandbox("docker")


@pytest.mark.usefixtures("bare")
def test_plugin_backends_and_callers_own_sandboxes_are_not_checked() -> None:
    assert check_sandbox("firecracker") == "firecracker"
    result = run_job(
        scripts.TASK,
        workflow=_spec("local"),
        chat_model=scripts.model(),
        sandbox_factory=FakeSandbox,
    )
    assert result.status == "success"


def test_resume_checks_the_sandbox_first_and_leaves_the_job_resumable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow = scripts.write_workflow(tmp_path)  # backend: local
    first = run_job(
        scripts.TASK, workflow=workflow, chat_model=scripts.model(), sandbox_factory=FakeSandbox
    )
    model = scripts.model()
    with monkeypatch.context() as bare_path, pytest.raises(SandboxMissing):
        bare_path.setenv("PATH", str(tmp_path))
        resume_job(first.thread_id, chat_model=model)
    assert model.prompts == []
    again = resume_job(first.thread_id, chat_model=model, sandbox_factory=FakeSandbox)
    assert again.status == first.status


@pytest.mark.usefixtures("bwrap")
def test_bwrap_present_passes_local_preflight() -> None:
    assert check_sandbox("local") == "local"


def test_cli_run_exits_2_before_any_model_call_without_a_sandbox(tmp_path: Path) -> None:
    workflow = scripts.write_workflow(tmp_path, log=True)  # backend: local
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = codeagent(
        "run",
        scripts.TASK,
        "--workflow",
        str(workflow),
        "--out",
        str(tmp_path / "out"),
        env={"PATH": str(empty)},
    )
    assert proc.returncode == 2, proc.stderr
    assert "the local sandbox cannot run" in proc.stderr
    assert "apt-get install -y bubblewrap" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "calls.jsonl").exists()  # the scripted model was never called
