"""The planner node: task -> a structured, versioned JSON plan."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from codeagent.nodes.context import NodeContext
from codeagent.nodes.kinds import node_kind
from codeagent.nodes.prompts import load_template, render
from codeagent.tools.models.llm import ask_json

if TYPE_CHECKING:
    from codeagent.tools.contracts.state import AgentState

__all__ = ["Plan", "planner", "planner_prompt"]


def _bounded(items: int, chars: int) -> dict[str, Any]:
    """JSON-schema bounds for a list of strings (see ``Plan``)."""
    return {"maxItems": items, "items": {"type": "string", "maxLength": chars}}


class Plan(BaseModel):
    """The plan a planner writes (validated model output)."""

    model_config = ConfigDict(extra="ignore")

    # The bounds are hints in the JSON schema only (not enforced when validating): a
    # grammar-constrained small model otherwise keeps appending items until max_tokens.
    summary: str = Field(min_length=1, json_schema_extra={"maxLength": 300})
    files: list[str] = Field(default_factory=list, json_schema_extra=_bounded(5, 80))
    steps: list[str] = Field(default_factory=list, json_schema_extra=_bounded(6, 200))
    test_cases: list[str] = Field(default_factory=list, json_schema_extra=_bounded(6, 200))

    @field_validator("files", "steps", "test_cases", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [v if isinstance(v, str) else str(v) for v in value]
        return value


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
