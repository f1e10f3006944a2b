"""The reviewer node: a structured verdict (approve / request changes) with comments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from codeagent.nodes.context import NodeContext
from codeagent.nodes.kinds import node_kind
from codeagent.nodes.prompts import load_template, render
from codeagent.tools.models.llm import ask_json

if TYPE_CHECKING:
    from codeagent.tools.contracts.state import AgentState

__all__ = ["Review", "reviewer", "reviewer_prompt"]

_APPROVE = {"approve", "approved", "accept", "accepted", "lgtm", "pass", "ok"}


class Review(BaseModel):
    """A reviewer's verdict (validated model output)."""

    model_config = ConfigDict(extra="ignore")

    verdict: str
    comments: list[str] = Field(
        default_factory=list,  # bounded in the schema only, as for the plan
        json_schema_extra={"maxItems": 5, "items": {"type": "string", "maxLength": 300}},
    )

    @field_validator("verdict")
    @classmethod
    def _normalise(cls, value: str) -> str:
        word = value.strip().lower().replace("-", "_").replace(" ", "_")
        if word in _APPROVE:
            return "approve"
        if word in {"request_changes", "changes", "changes_requested", "reject", "rejected"}:
            return "request_changes"
        raise ValueError("verdict must be 'approve' or 'request_changes'")

    @field_validator("comments", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value] if value.strip() else []
        return [str(v) for v in value] if isinstance(value, list) else value


def reviewer_prompt(state: AgentState, ctx: NodeContext) -> list[tuple[str, str]]:
    """The reviewer's messages for this state."""
    fence = ctx.language.fence
    code = "\n\n".join(
        f"{path}\n```{fence}\n{text.rstrip()}\n```"
        for path, text in (state.get("files") or {}).items()
    )
    if state.get("repo"):  # a repo job: review the change, not whole files
        diff = state.get("patch") or ""
        code = f"The change, as a diff against the repository:\n```diff\n{diff}\n```"
    report = state.get("test_report") or {}
    summary = f"{report.get('passed', 0)} of {report.get('total', 0)} tests passed"
    if report.get("coverage") is not None:
        summary += f", line coverage {report['coverage']}%"
    return render(
        load_template("reviewer", ctx.prompt_file),
        task=state["task"],
        plan=str((state.get("plan") or {}).get("summary", "")),
        code=code,
        test_summary=summary,
    )


@node_kind(role="reviewer", capabilities={"calls_model"})
def reviewer(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Review the current files; returns ``review`` and ``usage``."""
    review, reply = ask_json(
        ctx.chat, reviewer_prompt(state, ctx), Review, structured=ctx.structured
    )
    data = review.model_dump()
    data["round"] = sum(1 for t in state.get("transitions", []) if t.get("from") == ctx.node_id) + 1
    return {"review": data, "usage": reply.usage()}
