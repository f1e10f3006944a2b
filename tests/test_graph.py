"""Graph logic with the scripted chat model and the real local sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeagent.graphs import run_job
from codeagent.graphs.workflow.spec import WorkflowSpec
from tests import scripts

pytestmark = pytest.mark.usefixtures("bwrap")


def _outcomes(result_thread: str, tmp_path: Path) -> list[tuple[str, str, str]]:
    from codeagent.graphs.jobs.checkpoint import open_checkpointer, state_dir

    with open_checkpointer(state_dir()) as saver:
        tup = saver.get_tuple({"configurable": {"thread_id": result_thread}})
    assert tup is not None
    transitions = tup.checkpoint["channel_values"]["transitions"]
    return [(t["from"], t["outcome"], t["to"]) for t in transitions]


def test_passes_first_time(tmp_path: Path) -> None:
    model = scripts.model()
    result = run_job(scripts.TASK, chat_model=model, out=tmp_path / "out")

    assert result.status == "success"
    assert result.attempts == 1
    assert result.test_report is not None
    # 3 generated tests + 1 test made from the task's own example
    assert (result.test_report["passed"], result.test_report["total"]) == (4, 4)
    assert result.test_report["coverage"] == 100.0
    assert "test_examples.py" in result.tests
    assert "add(2, 3)" in result.tests["test_examples.py"]
    assert (tmp_path / "out" / "solution.py").read_text() == result.files["solution.py"]
    assert (tmp_path / "out" / "test_solution.py").exists()
    assert result.usage["calls"] == 4
    assert _outcomes(result.thread_id, tmp_path) == [
        ("plan", "always", "code"),
        ("code", "always", "test"),
        ("test", "pass", "review"),
        ("review", "approve", "END"),
    ]


def test_fails_then_gets_fixed(tmp_path: Path) -> None:
    model = scripts.model(code=[scripts.BAD], fix=[scripts.GOOD])
    result = run_job(scripts.TASK, chat_model=model, out=tmp_path / "out")

    assert result.status == "success"
    assert result.attempts == 2
    assert "a + b" in result.files["solution.py"]
    fix_prompt = next(p for p in model.prompts if "Your previous version" in p)
    assert "a - b" in fix_prompt  # the coder sees its previous code
    assert "assert -1 == 3" in fix_prompt or "AssertionError" in fix_prompt  # exact failure
    assert _outcomes(result.thread_id, tmp_path)[2] == ("test", "fail", "code")


def test_reviewer_requests_a_change(tmp_path: Path) -> None:
    model = scripts.model(review=[scripts.CHANGES, scripts.APPROVE])
    result = run_job(scripts.TASK, chat_model=model, out=tmp_path / "out")

    assert result.status == "success"
    assert result.attempts == 2
    fix_prompt = next(p for p in model.prompts if "Your previous version" in p)
    assert "add a docstring" in fix_prompt
    assert ("review", "changes", "code") in _outcomes(result.thread_id, tmp_path)


def test_bound_reached_keeps_best_attempt(tmp_path: Path) -> None:
    # attempt 1 passes 3 of 4 (HALF), later attempts pass fewer (BAD): keep attempt 1
    model = scripts.model(code=[scripts.HALF], fix=[scripts.BAD])
    result = run_job(scripts.TASK, chat_model=model, out=tmp_path / "out")

    assert result.status == "failed"
    assert result.attempts == 4  # the first try + max 3 test-fix retries
    assert result.files["solution.py"] == scripts.HALF.split("```python\n")[1].split("```")[0]
    assert result.test_report is not None
    assert result.test_report["passed"] == 3
    assert (tmp_path / "out" / "solution.py").read_text() == result.files["solution.py"]
    last = _outcomes(result.thread_id, tmp_path)[-1]
    assert last == ("test", "fail", "END")


def test_review_rounds_bound_ends_failed(tmp_path: Path) -> None:
    model = scripts.model(review=[scripts.CHANGES])
    result = run_job(scripts.TASK, chat_model=model, out=tmp_path / "out")

    assert result.status == "failed"
    reviews = [o for o in _outcomes(result.thread_id, tmp_path) if o[0] == "review"]
    assert reviews == [
        ("review", "changes", "code"),
        ("review", "changes", "code"),
        ("review", "changes", "END"),
    ]


def test_model_call_budget_stops_the_job(tmp_path: Path) -> None:
    from codeagent.configs import workflow_path
    from codeagent.graphs.workflow.loader import load_workflow

    path = workflow_path("default")
    assert path is not None
    data = load_workflow(str(path))[0].model_dump(by_alias=True)
    data["budgets"]["max_model_calls"] = 3
    model = scripts.model(code=[scripts.BAD], fix=[scripts.BAD])
    result = run_job(scripts.TASK, workflow=WorkflowSpec.model_validate(data), chat_model=model)

    assert result.status == "budget_exceeded"
    assert result.usage["calls"] == 3  # plan, code, test; the retry coder run is refused
    assert "a - b" in result.files["solution.py"]  # the attempt so far is kept
    assert result.test_report is not None and result.test_report["passed"] == 1


def test_a_job_run_from_a_spec_object_resumes_under_the_same_graph(tmp_path: Path) -> None:
    """The record keeps the spec's node order: the first node is the entry (sorted keys
    once made ``code`` the entry of a resumed or listed API job)."""
    from codeagent.configs import workflow_path
    from codeagent.graphs import job_history, resume_job
    from codeagent.graphs.workflow.loader import load_workflow

    path = workflow_path("default")
    assert path is not None
    data = load_workflow(str(path))[0].model_dump(by_alias=True)
    data["budgets"]["max_model_calls"] = 1
    model = scripts.model()
    first = run_job(scripts.TASK, workflow=WorkflowSpec.model_validate(data), chat_model=model)
    assert first.status == "budget_exceeded"

    again = resume_job(first.thread_id, chat_model=model, budgets={"max_model_calls": 10})
    assert again.status == "success", again.error
    nodes = [row.node for row in job_history(first.thread_id)]
    assert nodes[:3] == ["(start)", "plan", "code"] and "review" in nodes


def test_quick_workflow_has_no_planner_or_reviewer(tmp_path: Path) -> None:
    model = scripts.model()
    result = run_job(scripts.TASK, workflow="quick", chat_model=model)

    assert result.status == "success"
    assert result.plan is None and result.review is None
    assert result.usage["calls"] == 2


def test_the_wall_time_budget_counts_time_spent_in_nodes_not_pauses() -> None:
    from codeagent.graphs.budgets import budget_spent
    from codeagent.graphs.workflow.spec import BudgetSpec
    from codeagent.tools.contracts.state import AgentState

    budgets = BudgetSpec(max_wall_s=60)
    a_day_ago = AgentState(started_at=0.0, usage={"node_ms": 59_000})  # e.g. paused overnight
    assert budget_spent(budgets, a_day_ago) is None
    spent = budget_spent(budgets, AgentState(usage={"node_ms": 61_000}))
    assert spent == "wall-time budget spent (61s of 60s)"
    assert budget_spent(BudgetSpec(max_model_calls=2), AgentState(usage={"calls": 2})) is not None


def test_a_repair_that_repeats_the_failing_code_is_asked_again(tmp_path: Path) -> None:
    model = scripts.model(code=[scripts.BAD, scripts.GOOD], fix=[scripts.BAD])
    result = run_job(scripts.TASK, workflow="quick", chat_model=model, out=tmp_path / "out")

    assert result.status == "success", result.error
    assert result.attempts == 2  # the re-ask is part of the repair, not another attempt
    again = [p for p in model.prompts if "An earlier version failed the tests" in p]
    assert len(again) == 1
    assert "return a - b" not in again[0]  # asked afresh: the failing code is not shown
    assert "add(2, 3) should be 5, but it returned -1" in again[0]
    assert "a + b" in result.files["solution.py"]
    assert result.usage["calls"] == 4  # code, tests, the repair and its re-ask
