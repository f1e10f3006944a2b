"""Model faults against a fault-injecting OpenAI-compatible server: every job ends in a
defined status with its checkpoint intact, and a failed job resumes to the same result."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from codeagent.configs import workflow_path
from codeagent.graphs import job_history, resume_job, run_job
from tests import scripts
from tests.fault_server import fault_server

pytestmark = [pytest.mark.usefixtures("bwrap"), pytest.mark.slow]


def _workflow(tmp_path: Path, base_url: str) -> Path:
    path = workflow_path("default")
    assert path is not None
    data = yaml.safe_load(path.read_text())
    data["models"] = {
        "default": {
            "provider": "openai",
            "model": "fault-model",
            "base_url": base_url,
            "api_key_env": None,
            "timeout_s": 2,
            "max_retries": 2,
        }
    }
    data["sandbox"]["backend"] = "local"
    target = tmp_path / "wf.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


# faults the client's retries absorb: the job succeeds as if nothing happened
@pytest.mark.parametrize(
    "faults",
    [["429", "500"], ["drop"], ["slow:3"], ["500", "429"]],
    ids=["429-then-500", "dropped-connection", "slow-response", "500-then-429"],
)
def test_transient_faults_are_retried(tmp_path: Path, faults: list[str]) -> None:
    with fault_server(scripts.rules()) as (url, server):
        server.faults = list(faults)
        result = run_job(scripts.TASK, workflow=str(_workflow(tmp_path, url)))
    assert result.status == "success", result.error
    assert server.requests == 4 + len(faults)


# faults that outlast the retries, or answers that are unusable: a clean, resumable failure
@pytest.mark.parametrize(
    ("faults", "message"),
    [
        (["500"] * 3, "model call failed"),
        (["429"] * 3, "model call failed"),
        (["drop"] * 3, "cannot reach the model endpoint"),
        (["slow:3"] * 3, "model call failed"),
        (["bad_body"], "model call failed"),
        (["empty", "empty"], "invalid Plan JSON twice"),
        (["truncated", "truncated"], "invalid Plan JSON twice"),
    ],
    ids=["500s", "429s", "drops", "timeouts", "bad-bodies", "empty", "truncated"],
)
def test_persistent_faults_fail_cleanly_and_resume(
    tmp_path: Path, faults: list[str], message: str
) -> None:
    with fault_server(scripts.rules()) as (url, server):
        server.faults = list(faults)
        workflow = str(_workflow(tmp_path, url))
        first = run_job(scripts.TASK, workflow=workflow)
        assert first.status == "error"
        assert message in (first.error or "")
        assert [row.node for row in job_history(first.thread_id)] == ["(start)"]  # intact

        again = resume_job(first.thread_id)
    assert again.status == "success", again.error
    assert server.answered.count("plan") >= 1
    assert [row.node for row in job_history(first.thread_id)][-4:] == [
        "plan",
        "code",
        "test",
        "review",
    ]


def test_garbage_from_the_coder_fails_the_node_cleanly(tmp_path: Path) -> None:
    rules = scripts.rules(code=["I would rather not write code today."])
    with fault_server(rules) as (url, _):
        result = run_job(scripts.TASK, workflow=str(_workflow(tmp_path, url)))
    assert result.status == "error"
    assert "no code block twice" in (result.error or "")
    assert result.plan is not None  # the planner's work is kept
