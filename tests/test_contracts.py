"""The shared contracts: the job state's reducers, the plan and the history entry."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from codeagent.tools.contracts.history import history_entry
from codeagent.tools.contracts.plan import Plan, planned_files
from codeagent.tools.contracts.report import TestReport
from codeagent.tools.contracts.state import AgentState, initial_state, reduce_update
from codeagent.tools.languages import JavaScriptAdapter, PythonAdapter


def _update() -> dict[str, Any]:
    return {
        "files": {"solution.py": "x = 2\n"},
        "history": [{"attempt": 1}],
        "transitions": [{"from": "code", "to": "test"}],
        "usage": {"calls": 1, "input_tokens": 5},
        "node_runs": {"code": 1},
    }


def _before() -> AgentState:
    state = initial_state("task", "python", 0.0)
    state.update(
        files={"solution.py": "x = 1\n"},
        history=[{"attempt": 0}],  # type: ignore[list-item]
        usage={"calls": 2, "input_tokens": 7},
        node_runs={"code": 1},
    )
    return state


def test_an_update_is_applied_as_langgraph_applies_it() -> None:
    graph = StateGraph(AgentState)
    graph.add_node("node", lambda state: _update())
    graph.add_edge(START, "node")
    graph.add_edge("node", END)

    by_langgraph = graph.compile().invoke(_before())

    assert reduce_update(_before(), _update()) == by_langgraph
    assert by_langgraph["history"] == [{"attempt": 0}, {"attempt": 1}]
    assert by_langgraph["usage"] == {"calls": 3, "input_tokens": 12}
    assert by_langgraph["files"] == {"solution.py": "x = 2\n"}


def test_two_updates_merge_into_one() -> None:
    merged = reduce_update(_update(), {"usage": {"node_ms": 40}, "status": "running"})

    assert merged["usage"] == {"calls": 1, "input_tokens": 5, "node_ms": 40}
    assert merged["status"] == "running" and merged["history"] == [{"attempt": 1}]


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
