"""The shared contracts: the job state's records."""

from __future__ import annotations

from codeagent.tools.contracts.history import history_entry
from codeagent.tools.contracts.plan import Plan, planned_files
from codeagent.tools.contracts.report import TestReport
from codeagent.tools.contracts.state import AgentState, initial_state
from codeagent.tools.languages import JavaScriptAdapter, PythonAdapter


def _before() -> AgentState:
    state = initial_state("task", "python", 0.0)
    state.update(
        files={"solution.py": "x = 1\n"},
        history=[{"attempt": 0}],  # type: ignore[list-item]
        usage={"calls": 2, "input_tokens": 7},
        node_runs={"code": 1},
    )
    return state


def test_the_plans_first_file_is_the_main_one_else_the_languages_default() -> None:
    plan = Plan(summary="add", files=["calc.py", "util.py"]).model_dump()

    assert planned_files(plan, PythonAdapter()) == ["calc.py", "util.py"]
    assert planned_files({"summary": "add", "files": []}, PythonAdapter()) == ["solution.py"]
    assert planned_files(None, JavaScriptAdapter()) == ["solution.js"]


def test_a_history_entry_keeps_the_run_without_its_output() -> None:
    state = _before()
    state.update(attempt=2, plan_version=1)
    report = TestReport(2, 1, 0, 3, 80.0, "long pytest output", 1).to_state()

    entry = history_entry(state, {"test_solution.py": "..."}, report, seconds=1.23456)

    assert entry["attempt"] == 2 and entry["plan_version"] == 1
    assert entry["files"] == {"solution.py": "x = 1\n"}
    assert entry["report"] == {k: v for k, v in report.items() if k != "output"}
    assert entry["report"]["ok"] is False and entry["seconds"] == 1.235
