"""Routes: pure functions that read the state and name an outcome; and the transition rule.

A route only says *what happened* (``pass``/``fail``, ``approve``/``changes``)
and why. Where each outcome leads, and how often a branch may be taken, comes
from the workflow spec, never from constants here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphs.spec import END, WorkflowSpec
from graphs.state import AgentState

__all__ = ["ROUTES", "Route", "Transition", "decide"]


@dataclass(frozen=True)
class Route:
    """A named route: the function, its outcomes, and which of them mean success."""

    fn: Callable[[AgentState], tuple[str, str]]
    outcomes: tuple[str, ...]
    success: frozenset[str]


def tests_outcome(state: AgentState) -> tuple[str, str]:
    """``pass`` when the last test run is green, else ``fail``."""
    report = state.get("test_report") or {}
    summary = f"{report.get('passed', 0)}/{report.get('total', 0)} tests passed"
    if report.get("ok"):
        return "pass", summary
    if report.get("timed_out"):
        return "fail", f"{summary}; the test run timed out"
    if report.get("total", 0) == 0:
        return "fail", "no test ran (collection error or crash)"
    return "fail", f"{summary}, {report.get('failed', 0)} failed, {report.get('errors', 0)} errors"


def review_outcome(state: AgentState) -> tuple[str, str]:
    """``approve`` when the reviewer approved, else ``changes``."""
    review = state.get("review") or {}
    if review.get("verdict") == "approve":
        return "approve", "the reviewer approved"
    comments = review.get("comments") or []
    first = comments[0] if comments else "no comment given"
    return "changes", f"the reviewer requested changes: {str(first)[:200]}"


ROUTES: dict[str, Route] = {
    "tests": Route(tests_outcome, ("pass", "fail"), frozenset({"pass"})),
    "review": Route(review_outcome, ("approve", "changes"), frozenset({"approve"})),
}


@dataclass(frozen=True)
class Transition:
    """One edge taken: recorded in the state, the audit log and the trace."""

    source: str
    to: str
    outcome: str
    reason: str
    status: str | None = None  # set when the edge ends the job

    def to_state(self) -> dict[str, Any]:
        """The JSON form kept in ``AgentState.transitions``."""
        return {
            "from": self.source,
            "to": self.to,
            "outcome": self.outcome,
            "reason": self.reason,
            "status": self.status,
        }


def decide(spec: WorkflowSpec, node: str, state: AgentState) -> Transition:
    """The transition out of ``node`` given the state after it ran (pure).

    A bounded branch (``max: N``) is taken at most N times per job; after that
    the job ends ``failed``.
    """
    edge = spec.edges_from(node)
    if edge is None:  # the loader forbids this; kept total for hand-built specs
        return Transition(node, END, "end", "no outgoing edge", _plain_end_status(state))
    if edge.to is not None:
        status = _plain_end_status(state) if edge.to == END else None
        return Transition(node, edge.to, "always", "plain edge", status)
    assert edge.route is not None
    route = ROUTES[edge.route]
    outcome, reason = route.fn(state)
    target = edge.branches[outcome]
    if target.max is not None:
        taken = sum(
            1
            for t in state.get("transitions", [])
            if t["from"] == node and t["outcome"] == outcome and t["to"] == target.to
        )
        if taken >= target.max:
            why = f"{reason}; the '{outcome}' branch is spent ({target.max} of {target.max})"
            return Transition(node, END, outcome, why, "failed")
    if target.to == END:
        status = "success" if outcome in route.success else "failed"
        return Transition(node, END, outcome, reason, status)
    return Transition(node, target.to, outcome, reason)


def _plain_end_status(state: AgentState) -> str:
    report = state.get("test_report")
    return "success" if report is None or report.get("ok") else "failed"
