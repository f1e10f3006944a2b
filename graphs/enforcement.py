"""Enforcing a workflow's guardrails around node runs (see :mod:`codeagent.tools.guardrails`)."""

from __future__ import annotations

from typing import Any

from codeagent.graphs.routes import Transition
from codeagent.graphs.workflow.spec import END, WorkflowSpec
from codeagent.nodes.context import NodeContext
from codeagent.nodes.registry import NodeFn
from codeagent.tools.contracts.history import history_entry
from codeagent.tools.contracts.state import AgentState
from codeagent.tools.guardrails import Policy, check_code, check_plan

__all__ = ["guarded"]


def guarded(
    spec: WorkflowSpec, node_id: str, fn: NodeFn, ctx: NodeContext, state: AgentState
) -> tuple[dict[str, Any], Transition | None]:
    """Run the node under the workflow's guardrails.

    Code is checked before a tester runs it: a violation becomes a failed test run
    whose output says why (so the tests route sends it back, as an attempt), or
    stops the job. A plan is checked after the planner; a violation stops the job.
    """
    rails = spec.guardrails
    policy = Policy(
        tuple(rails.forbidden_imports),
        tuple(rails.forbidden_calls),
        rails.max_files,
        rails.max_file_bytes,
    )
    kind = spec.nodes[node_id].kind
    if kind == "tester":
        problems = check_code(state.get("files") or {}, policy)
        if problems and rails.on_violation == "stop":
            return {}, _blocked(node_id, problems)
        if problems:
            return _violation(state, problems), None
    update = fn(state, ctx)
    if kind == "planner":
        problems = check_plan((update.get("plan") or {}).get("files", []), policy)
        if problems:
            return update, _blocked(node_id, problems)
    return update, None


def _blocked(node_id: str, problems: list[str]) -> Transition:
    return Transition(node_id, END, "guardrail", "; ".join(problems)[:500], "blocked")


def _violation(state: AgentState, problems: list[str]) -> dict[str, Any]:
    """A failed test run that never ran: the code broke the policy."""
    report = {
        "passed": 0,
        "failed": 0,
        "errors": 1,
        "total": 0,
        "coverage": None,
        "output": "The code was not run: it breaks the workflow's policy:\n"
        + "\n".join(f"- {p}" for p in problems),
        "exit_code": -1,
        "timed_out": False,
        "ok": False,
        "guardrail": problems,
    }
    entry = history_entry(state, state.get("tests") or {}, report)
    return {"test_report": report, "history": [entry]}
