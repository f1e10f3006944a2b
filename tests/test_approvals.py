"""Approval points: a job pauses after its plan and before its end; people decide."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from codeagent.graphs import job_history, resume_job, run_job
from codeagent.graphs.jobs.checkpoint import state_dir
from codeagent.tools.observability.audit import read_audit
from codeagent.tools.sandbox import LocalSandbox
from tests import scripts

pytestmark = pytest.mark.usefixtures("bwrap")
CLI = [sys.executable, "-m", "codeagent.graphs.cli"]


def _workflow(tmp_path: Path, approvals: list[str]) -> Path:
    path = scripts.write_workflow(tmp_path, log=True)
    data = yaml.safe_load(path.read_text())
    data["approvals"] = approvals
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_plan_and_final_approval_pause_and_continue(tmp_path: Path) -> None:
    model = scripts.model()
    wf = str(_workflow(tmp_path, ["plan", "final"]))
    first = run_job(scripts.TASK, workflow=wf, chat_model=model, sandbox_factory=LocalSandbox)
    assert first.status == "awaiting_approval"
    assert first.approval is not None and first.approval["kind"] == "plan"
    assert first.approval["plan"]["files"] == ["solution.py"]
    assert first.files == {}  # nothing written before the plan is approved

    edited = {**first.approval["plan"], "steps": ["use the + operator"]}
    second = resume_job(
        first.thread_id,
        chat_model=model,
        sandbox_factory=LocalSandbox,
        decision={"action": "approve", "plan": edited},
    )
    assert second.status == "awaiting_approval"
    assert second.approval is not None and second.approval["kind"] == "final"
    assert second.approval["tests"] == "4/4 passed"
    coder_prompt = next(p for p in model.prompts if "You are the coder" in p)
    assert "use the + operator" in coder_prompt  # the coder worked from the edited plan
    assert second.plan is not None and second.plan["version"] == 2 and second.plan["edited"]

    done = resume_job(first.thread_id, chat_model=model, decision={"action": "approve"})
    assert done.status == "success"
    # the pause re-ran no model call: one call per node, as without approvals
    assert Counter(p.split("\n")[0] for p in model.prompts).most_common(1)[0][1] == 1
    nodes = [row.node for row in job_history(first.thread_id)]
    assert nodes == ["(start)", "plan", "approve_plan", "code", "test", "review", "approve_final"]
    audit = read_audit(state_dir() / "runs" / first.thread_id / "audit.jsonl")
    gates = [(a["from"], a["to"], a["outcome"]) for a in audit if a["event"] == "transition"]
    assert ("approve_plan", "code", "approve") in gates
    assert ("approve_final", "END", "approve") in gates


def test_a_rejected_plan_ends_the_job(tmp_path: Path) -> None:
    model = scripts.model()
    wf = str(_workflow(tmp_path, ["plan"]))
    first = run_job(scripts.TASK, workflow=wf, chat_model=model)
    result = resume_job(
        first.thread_id, chat_model=model, decision={"action": "reject", "reason": "too vague"}
    )
    assert result.status == "rejected"
    assert not any("You are the coder" in p for p in model.prompts)
    audit = read_audit(state_dir() / "runs" / first.thread_id / "audit.jsonl")
    assert any(a.get("reason") == "rejected: too vague" for a in audit)


def test_approve_and_reject_from_the_cli(tmp_path: Path) -> None:
    wf = str(_workflow(tmp_path, ["plan"]))
    run = subprocess.run(
        [*CLI, "run", scripts.TASK, "-w", wf, "--json", "--thread-id", "ap-1"],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 3, run.stderr
    assert json.loads(run.stdout)["approval"]["kind"] == "plan"

    bad = tmp_path / "plan.json"
    bad.write_text("[1, 2]")
    refused = subprocess.run(
        [*CLI, "approve", "ap-1", "--edit", str(bad)], capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 2 and "must be a JSON object" in refused.stderr

    ok = subprocess.run(
        [*CLI, "approve", "ap-1", "--json"], capture_output=True, text=True, timeout=300
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["status"] == "success"

    again = subprocess.run(
        [*CLI, "run", scripts.TASK, "-w", wf, "--json", "--thread-id", "ap-2"],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert again.returncode == 3
    no = subprocess.run(
        [*CLI, "reject", "ap-2", "--reason", "not now", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert no.returncode == 1
    assert json.loads(no.stdout)["status"] == "rejected"


def test_a_plan_from_any_node_of_role_planner_waits_for_approval(tmp_path: Path) -> None:
    wf = _workflow(tmp_path, ["plan"])
    data = yaml.safe_load(wf.read_text())
    data["nodes"]["plan"] = {"kind": "tests.custom_nodes:outline"}
    wf.write_text(yaml.safe_dump(data, sort_keys=False))

    first = run_job(scripts.TASK, workflow=str(wf), chat_model=scripts.model())

    assert first.status == "awaiting_approval"
    assert first.approval is not None and first.approval["kind"] == "plan"
    assert first.files == {}
