"""Approval points: the job pauses (a LangGraph interrupt) until a person decides.

``approvals: [plan]`` pauses after every plan; ``approvals: [final]`` pauses
before a job would end successfully. The decision resumes the job:
``{"action": "approve"}`` (for a plan optionally with an edited ``plan``) or
``{"action": "reject", "reason": "..."}``, which ends it with status ``rejected``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from langgraph.types import interrupt
from pydantic import BaseModel, ConfigDict, ValidationError

from codeagent.graphs.routes import Transition
from codeagent.graphs.workflow.spec import END
from codeagent.tools.contracts.state import AgentState
from codeagent.tools.errors import ConfigError

__all__ = ["APPROVAL_NODES", "Decision", "approval_node", "approval_request"]

APPROVAL_NODES = {"plan": "approve_plan", "final": "approve_final"}


class Decision(BaseModel):
    """A person's answer to an approval request."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["approve", "reject"]
    reason: str = ""
    plan: dict[str, Any] | None = None


def approval_request(kind: str, state: AgentState) -> dict[str, Any]:
    """What the person is asked to approve (pure; JSON-serialisable)."""
    request: dict[str, Any] = {"kind": kind, "task": state.get("task", "")}
    if kind == "plan":
        request["plan"] = state.get("plan")
    else:
        report = state.get("test_report") or {}
        request["files"] = sorted(state.get("files") or {})
        request["tests"] = f"{report.get('passed', 0)}/{report.get('total', 0)} passed"
        request["review"] = state.get("review")
        if state.get("repo"):  # a repo job: the person approves the diff itself
            request["patch"] = state.get("patch") or ""
    return request


def approval_node(kind: str) -> Callable[[AgentState], dict[str, Any]]:
    """The node that asks for approval of ``kind`` and applies the decision.

    It is idempotent: on resume LangGraph re-runs it from the start and
    ``interrupt`` returns the decision instead of pausing.
    """
    node_id = APPROVAL_NODES[kind]

    def node(state: AgentState) -> dict[str, Any]:
        raw = interrupt(approval_request(kind, state))
        try:
            decision = Decision.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(
                f"invalid approval decision: {exc.errors()[0]['msg']}",
                hint="codeagent approve THREAD [--edit plan.json] or reject THREAD --reason ...",
            ) from None
        update: dict[str, Any] = {"last_node": node_id}
        if decision.action == "reject":
            t = Transition(node_id, END, "reject", f"rejected: {decision.reason}", "rejected")
            update["status"] = "rejected"
        else:
            to = state.get("resume_to") or END
            t = Transition(node_id, to, "approve", decision.reason or "approved", None)
            if to == END:
                update["status"] = "success"
                t = Transition(node_id, END, "approve", t.reason, "success")
            if kind == "plan" and decision.plan is not None:
                version = state.get("plan_version", 0) + 1
                update["plan"] = {**decision.plan, "version": version, "edited": True}
                update["plan_version"] = version
        update["transitions"] = [t.to_state()]
        update["next"] = t.to
        return update

    node.__name__ = node_id
    return node
