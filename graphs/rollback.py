"""The rollback quality gate (``rollback: last_passing`` in a workflow), pure.

When the tests gate fails on a version after an earlier version of the job passed
all of them (say a review change broke the code), the files go back to the last
passing version before the ``fail`` branch is taken. The coder then redoes the
change from that version, told which checks the undone change broke. The undo is
a ``rollback`` transition in the state, the trace and the audit log; the
note to the coder is ``codeagent.nodes.coder.rollback_note``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codeagent.graphs.routes import Transition
from codeagent.graphs.workflow.spec import END, WorkflowSpec
from codeagent.tools.contracts.state import AgentState

__all__ = ["rollback_update"]


def rollback_update(
    spec: WorkflowSpec, node_id: str, state: AgentState, transition: Transition
) -> tuple[dict[str, Any], Transition] | None:
    """The update that restores the last passing version, with its transition; or None.

    ``state`` is the state after the node ran; ``transition`` the one it decided.
    Only a ``fail`` of a ``tests`` route that leads on to another node rolls back.
    """
    edge = spec.edges_from(node_id)
    if spec.rollback != "last_passing" or edge is None or edge.route != "tests":
        return None
    if transition.outcome != "fail" or transition.to == END:
        return None
    history = state.get("history") or []
    files = state.get("files") or {}
    passing = next((h for h in reversed(history[:-1]) if (h.get("report") or {}).get("ok")), None)
    if passing is None or passing["files"] == files:
        return None
    broken: Mapping[str, Any] = history[-1] if history else {}
    attempt = int(state.get("attempt", 0))
    reason = (
        f"attempt {broken.get('attempt', attempt)} failed the tests; back to attempt "
        f"{passing.get('attempt', 0)}, the last version that passed them"
    )
    update = {
        "files": passing["files"],
        "test_report": passing["report"],
        "rollback": {
            "attempt": attempt,
            "undone_attempt": broken.get("attempt", attempt),
            "restored_attempt": passing.get("attempt", 0),
            "failures": _failure_lines(state.get("test_report")),
        },
    }
    return update, Transition(node_id, node_id, "rollback", reason)


def _failure_lines(report: dict[str, Any] | None, limit: int = 6) -> list[str]:
    if not report:
        return []
    details = [str(d) for d in report.get("failures") or []][:limit]
    if details:
        return details
    failed, errors = report.get("failed", 0), report.get("errors", 0)
    return [f"{failed} tests failed, {errors} errors"]
