"""The planner node: task -> a structured, versioned JSON plan."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codeagent.nodes.context import NodeContext
from codeagent.nodes.kinds import node_kind
from codeagent.nodes.prompts import load_template, render
from codeagent.nodes.stated import StatedNames, bind_plan, function_step, stated_names
from codeagent.tools.contracts.plan import Plan
from codeagent.tools.models.llm import ask_json

if TYPE_CHECKING:
    from codeagent.tools.contracts.state import AgentState

__all__ = ["Plan", "planner", "planner_prompt"]


def planner_prompt(state: AgentState, ctx: NodeContext) -> list[tuple[str, str]]:
    """The planner's messages for this state (pure apart from reading the template)."""
    stated = stated_names(state["task"], ctx.language)
    return render(
        load_template("planner", ctx.prompt_file),
        task=state["task"],
        language=ctx.language.name,
        source_file=stated.files[0] if stated.files else ctx.language.default_source_path(),
        stated_names=_stated_text(stated),
    )


def _stated_text(stated: StatedNames) -> str:
    """The prompt's line binding the names the task states ('' when it states none)."""
    parts = []
    if stated.files:
        parts.append("files " + ", ".join(stated.files))
    if stated.functions:
        parts.append("functions " + ", ".join(stated.functions))
    if not parts:
        return ""
    return "The task names these, so use exactly these names: " + "; ".join(parts) + ".\n\n"


@node_kind(role="planner", capabilities={"calls_model"})
def planner(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Write a new plan version.

    The file and function names the task states bind the plan: a plan that drops
    them gets them back (stated files first, see :func:`codeagent.nodes.stated.bind_plan`).

    Returns:
        ``plan`` (with its ``version``), ``plan_version`` and ``usage``.
    """
    plan, reply = ask_json(ctx.chat, planner_prompt(state, ctx), Plan, structured=ctx.structured)
    stated = stated_names(state["task"], ctx.language)
    files = [f for f in plan.files if not ctx.language.is_test_file(f)]
    default = ctx.language.default_source_path()
    files = bind_plan(files, stated, default) or [default]
    steps = function_step(plan.model_dump(), stated)
    version = state.get("plan_version", 0) + 1
    data = plan.model_copy(update={"files": files, "steps": steps}).model_dump()
    data["version"] = version
    return {"plan": data, "plan_version": version, "usage": reply.usage()}
