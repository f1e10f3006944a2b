"""Budgets: a job that ended budget_exceeded goes on with a raised budget (scripted model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from codeagent.graphs import resume_job, run_job
from codeagent.graphs.jobs.checkpoint import state_dir
from codeagent.graphs.jobs.records import load_record
from codeagent.tools.errors import ConfigError
from codeagent.tools.observability.audit import read_audit
from tests import scripts
from tests.test_cli import codeagent

pytestmark = pytest.mark.usefixtures("bwrap")


def _budgeted(directory: Path, calls: int, **kwargs: list[str]) -> Path:
    workflow = scripts.write_workflow(directory, log=True, **kwargs)
    data = yaml.safe_load(workflow.read_text())
    data["budgets"]["max_model_calls"] = calls
    workflow.write_text(yaml.safe_dump(data, sort_keys=False))
    return workflow


def _calls(directory: Path) -> list[str]:
    lines = [json.loads(line) for line in (directory / "calls.jsonl").read_text().splitlines()]
    return [line["rule"] for line in lines if line["event"] == "done"]


def test_a_raised_budget_goes_on_where_the_job_stopped(tmp_path: Path) -> None:
    workflow = _budgeted(tmp_path, 3, code=[scripts.BAD], fix=[scripts.GOOD])
    stopped = run_job(scripts.TASK, workflow=workflow, out=tmp_path / "out")
    assert stopped.status == "budget_exceeded"
    assert _calls(tmp_path) == ["plan", "code", "test"]

    result = resume_job(stopped.thread_id, budgets={"max_model_calls": 10})

    assert result.status == "success"
    assert "a + b" in result.files["solution.py"]
    assert result.attempts == 2
    assert result.usage["calls"] == 5
    # nothing that ran is run again: the planner and tester were asked once
    assert _calls(tmp_path) == ["plan", "code", "test", "fix", "review"]
    record = load_record(state_dir(), stopped.thread_id)
    assert record.budgets == {"max_model_calls": 10}
    assert record.status == "success"
    audit = read_audit(state_dir() / "runs" / stopped.thread_id / "audit.jsonl")
    moves = sorted((a for a in audit if a["event"] == "transition"), key=lambda a: a["t"])
    steps = [(a["from"], a["outcome"], a["to"]) for a in moves]
    assert steps[-6:] == [
        ("test", "fail", "code"),
        ("code", "budget", "END"),
        ("code", "budget_raised", "code"),
        ("code", "always", "test"),
        ("test", "pass", "review"),
        ("review", "approve", "END"),
    ]
    raised = next(a for a in audit if a.get("outcome") == "budget_raised")
    assert raised["reason"] == "budgets raised: max_model_calls 3 -> 10"


def test_a_budget_still_spent_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    workflow = _budgeted(tmp_path, 3, code=[scripts.BAD], fix=[scripts.GOOD])
    stopped = run_job(scripts.TASK, workflow=workflow, out=tmp_path / "out")

    with pytest.raises(ConfigError, match=r"still spent: model-call budget spent \(3 of 3\)"):
        resume_job(stopped.thread_id, budgets={"max_model_calls": 3})
    with pytest.raises(ConfigError, match="budget max_model_calls: Input should be greater"):
        resume_job(stopped.thread_id, budgets={"max_model_calls": 0})

    record = load_record(state_dir(), stopped.thread_id)
    assert (record.status, record.budgets) == ("budget_exceeded", None)
    assert _calls(tmp_path) == ["plan", "code", "test"]
    # the job can still go on after the refusals
    assert resume_job(stopped.thread_id, budgets={"max_model_calls": 5}).status == "success"


def test_the_raised_budget_holds_for_later_resumes(tmp_path: Path) -> None:
    workflow = _budgeted(tmp_path, 3, code=[scripts.BAD], fix=[scripts.BAD])
    stopped = run_job(scripts.TASK, workflow=workflow, out=tmp_path / "out")

    again = resume_job(stopped.thread_id, budgets={"max_model_calls": 4})
    assert again.status == "budget_exceeded"  # one more fix, still failing, then spent
    assert again.usage["calls"] == 4
    final = resume_job(stopped.thread_id, budgets={"max_tokens": 10**6, "max_model_calls": 6})
    assert final.status == "budget_exceeded"
    assert final.usage["calls"] == 6
    record = load_record(state_dir(), stopped.thread_id)
    assert record.budgets == {"max_model_calls": 6, "max_tokens": 10**6}


def test_the_cli_says_how_to_raise_it_and_does(tmp_path: Path) -> None:
    workflow = _budgeted(tmp_path, 3, code=[scripts.BAD], fix=[scripts.GOOD])
    home = ["--home", str(tmp_path / "state")]
    run = codeagent("run", scripts.TASK, "--workflow", str(workflow), *home)
    assert run.returncode == 1, run.stderr
    assert "budget_exceeded" in run.stderr
    assert "--max-model-calls N" in run.stderr
    thread = next(line.split()[-1] for line in run.stderr.splitlines() if "thread" in line)

    refused = codeagent("resume", thread, "--max-model-calls", "2", *home)
    assert refused.returncode == 2
    assert "still spent" in refused.stderr and "Traceback" not in refused.stderr

    resumed = codeagent("resume", thread, "--max-model-calls", "8", "--json", *home)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "success"


def test_a_node_calling_no_model_runs_after_the_model_calls_are_spent(tmp_path: Path) -> None:
    data = {
        "name": "linted",
        "models": {"default": {"provider": "scripted", "script": "rules.yaml"}},
        "nodes": {
            "code": {"kind": "coder"},
            "lint": {"kind": "codeagent.configs.examples.lint:lint"},  # calls no model
        },
        "edges": [
            {"from": "code", "to": "lint"},
            {
                "from": "lint",
                "route": "codeagent.configs.examples.lint:lint_outcome",
                "branches": {"clean": "END", "issues": {"to": "code", "max": 1}},
            },
        ],
        "budgets": {"max_model_calls": 1},
    }
    rules = [r.model_dump(exclude_defaults=True) for r in scripts.rules()]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"rules": rules}))
    (tmp_path / "wf.yaml").write_text(yaml.safe_dump(data, sort_keys=False))

    result = run_job(scripts.TASK, workflow=tmp_path / "wf.yaml", out=tmp_path / "out")

    assert result.status == "success"
    assert result.usage["calls"] == 1
