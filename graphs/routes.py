"""Routes: pure functions that read the state and name an outcome; and the transition rule.

A route only says *what happened* (``pass``/``fail``, ``approve``/``changes``)
and why. Where each outcome leads, and how often a branch may be taken, comes
from the workflow spec, never from constants here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from codeagent.graphs.workflow.spec import END, WorkflowSpec
from codeagent.nodes.registry import load_object
from codeagent.tools.contracts.state import AgentState
from codeagent.tools.errors import ConfigError
from codeagent.tools.plugins import plugin_names

__all__ = [
    "ROUTES",
    "ROUTE_GROUP",
    "Route",
    "Transition",
    "decide",
    "get_route",
    "route",
    "route_names",
]

ROUTE_GROUP = "codeagent.routes"
RouteFn = Callable[[AgentState], tuple[str, str]]


@dataclass(frozen=True)
class Route:
    """A named route: the function, its outcomes, and which of them mean success.

    Calling a route runs its function and checks the outcome is one it declared.
    """

    fn: RouteFn
    outcomes: tuple[str, ...]
    success: frozenset[str]

    def __call__(self, state: AgentState) -> tuple[str, str]:
        """``(outcome, reason)`` for ``state``.

        Raises:
            ConfigError: When the function returns an outcome it did not declare.
        """
        outcome, reason = self.fn(state)
        if outcome not in self.outcomes:
            name = getattr(self.fn, "__qualname__", repr(self.fn))
            raise ConfigError(
                f"route {name} returned outcome {outcome!r}, not one of {list(self.outcomes)}",
                hint="declare every outcome in @route(...) and return only those",
            )
        return outcome, reason


def route(*outcomes: str, success: Iterable[str] = ()) -> Callable[[RouteFn], Route]:
    """Declare a custom route's outcomes, so a workflow's ``branches`` can be checked.

    Example::

        @route("clean", "issues", success={"clean"})
        def lint_outcome(state):
            return ("clean", "no findings") if ... else ("issues", "3 findings")

    Args:
        outcomes: Every outcome the function may return.
        success: Outcomes that end the job as ``success`` when their branch leads to END.
    """
    if not outcomes:
        raise ValueError("a route needs at least one outcome")
    wins = frozenset(success)
    if not wins <= set(outcomes):
        raise ValueError(f"success outcomes {sorted(wins - set(outcomes))} are not outcomes")

    def declare(fn: RouteFn) -> Route:
        return Route(fn, tuple(outcomes), wins)

    return declare


def tests_outcome(state: AgentState) -> tuple[str, str]:
    """``pass`` when the last test run is green, else ``fail``."""
    report = state.get("test_report") or {}
    summary = f"{report.get('passed', 0)}/{report.get('total', 0)} tests passed"
    if report.get("vacuous"):
        summary += f" ({report['vacuous']} vacuous: they pass against a stub of the code too)"
    if report.get("ok"):
        return "pass", summary
    if report.get("guardrail"):
        return "fail", f"guardrail: {report['guardrail'][0]}"
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


def route_names() -> list[str]:
    """Names a workflow may use for ``route:`` (built-ins and plugins)."""
    return plugin_names(ROUTE_GROUP, ROUTES)


@cache
def get_route(name: str) -> Route:
    """The route called ``name``: a built-in, an import path or a plugin.

    ``package.module:attr`` must name a :class:`Route` (use the :func:`route`
    decorator); plugins are looked up in the entry-point group ``codeagent.routes``.

    Raises:
        ConfigError: When the route is unknown, cannot be imported or declares no outcomes.
    """
    builtin = ROUTES.get(name)
    if builtin is not None:
        return builtin
    if ":" not in name and name not in plugin_names(ROUTE_GROUP):
        raise ConfigError(
            f"unknown route {name!r}",
            hint=f"use one of: {', '.join(route_names())}, or an import path 'package.module:name'",
        )
    found = load_object(name, group=ROUTE_GROUP, what="route")
    if not isinstance(found, Route):
        raise ConfigError(
            f"route {name!r} does not declare its outcomes",
            hint="decorate the function with @graphs.routes.route('ok', 'bad', success={'ok'})",
        )
    return found


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


def event_attributes(transition: dict[str, Any]) -> dict[str, Any]:
    """The attributes of a ``codeagent.transition`` span event (the audit log reads them)."""
    attributes = {
        "codeagent.from": transition["from"],
        "codeagent.to": transition["to"],
        "codeagent.outcome": transition["outcome"],
        "codeagent.reason": transition["reason"][:500],
    }
    if transition.get("status"):
        attributes["codeagent.status"] = transition["status"]
    return attributes


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
    chosen = get_route(edge.route)
    outcome, reason = chosen(state)
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
        status = "success" if outcome in chosen.success else "failed"
        return Transition(node, END, outcome, reason, status)
    return Transition(node, target.to, outcome, reason)


def _plain_end_status(state: AgentState) -> str:
    report = state.get("test_report")
    return "success" if report is None or report.get("ok") else "failed"
