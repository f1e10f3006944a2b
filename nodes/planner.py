"""The planner node: task -> a structured, versioned JSON plan."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codeagent.nodes.context import NodeContext
from codeagent.nodes.kinds import node_kind
from codeagent.nodes.prompts import load_template, render
from codeagent.tools.contracts.plan import Plan
from codeagent.tools.models.llm import ask_json

if TYPE_CHECKING:
    from codeagent.tools.contracts.state import AgentState

__all__ = ["Plan", "planner", "planner_prompt"]


def planner_prompt(state: AgentState, ctx: NodeContext) -> list[tuple[str, str]]:
    """The planner's messages for this state (pure apart from reading the template)."""
    return render(
        load_template("planner", ctx.prompt_file),
        task=state["task"],
        language=ctx.language.name,
        source_file=ctx.language.default_source_path(),
    )


@node_kind(role="planner", capabilities={"calls_model"})
def planner(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Write a new plan version.

    Returns:
        ``plan`` (with its ``version``), ``plan_version`` and ``usage``.
    """
    plan, reply = ask_json(ctx.chat, planner_prompt(state, ctx), Plan, structured=ctx.structured)
    files = [f for f in plan.files if not ctx.language.is_test_file(f)]
    files = files or [ctx.language.default_source_path()]
    version = state.get("plan_version", 0) + 1
    data = plan.model_copy(update={"files": files}).model_dump()
    data["version"] = version
    return {"plan": data, "plan_version": version, "usage": reply.usage()}
