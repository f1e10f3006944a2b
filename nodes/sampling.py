"""The sampling coder: several candidates, each run against the task's own examples.

Small models often get a function right on the second or third draw when the
first is wrong. This node asks for up to ``candidates`` answers (the first at the
node's temperature, later ones hotter, so they differ), runs each against the
tests made from the examples in the task text (never the hidden or the tester's
tests) and keeps the first that passes them all, else the one passing most.
With no examples in the task it behaves like the plain coder (one call).

Use it in a workflow in place of ``coder``::

    nodes:
      code: {kind: sampling_coder, options: {candidates: 3}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from nodes.coder import coder_prompt, source_files
from nodes.context import NodeContext
from nodes.tester import example_tests, run_tests
from tools.errors import ModelError
from tools.llm import ask_text

if TYPE_CHECKING:
    from graphs.state import AgentState

__all__ = [
    "DEFAULT_CANDIDATES",
    "RETRY_TEMPERATURE",
    "SamplingOptions",
    "candidate_key",
    "sampling_coder",
]

DEFAULT_CANDIDATES = 3
RETRY_TEMPERATURE = 0.8


class SamplingOptions(BaseModel):
    """The ``options`` a workflow may give a ``sampling_coder`` node."""

    model_config = ConfigDict(extra="forbid")

    candidates: int = Field(
        default=DEFAULT_CANDIDATES, ge=1, le=10, description="Answers drawn at most per attempt."
    )
    retry_temperature: float = Field(
        default=RETRY_TEMPERATURE, ge=0, le=2, description="Temperature of the 2nd+ candidates."
    )


def candidate_key(report: dict[str, Any]) -> tuple[int, int, int]:
    """How good a candidate's example run is: all green, then passed, then fewest errors."""
    return (
        int(bool(report.get("ok"))),
        int(report.get("passed", 0)),
        -int(report.get("errors", 0)),
    )


def sampling_coder(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Write the solution files, choosing among up to N candidates by the task's examples.

    ``N`` is the node's ``options.candidates`` (:class:`SamplingOptions`).
    Returns ``files``, ``attempt`` and ``usage``.

    Raises:
        ModelError: When no answer had a usable code block.
    """
    plan_files = (state.get("plan") or {}).get("files") or []
    default = plan_files[0] if plan_files else ctx.language.default_source_path()
    prompt = coder_prompt(state, ctx)
    examples = example_tests(state, ctx.language)
    usage = {"calls": 0, "input_tokens": 0, "output_tokens": 0}
    options = SamplingOptions.model_validate(dict(ctx.options))
    best: tuple[tuple[int, int, int], dict[str, str]] | None = None
    for index in range(options.candidates):
        kwargs = {"temperature": options.retry_temperature} if index else {}
        reply = ask_text(ctx.chat, prompt, **kwargs)
        usage = {k: usage[k] + v for k, v in reply.usage().items()}
        files = source_files(reply.text, default, ctx)
        if not files:
            continue
        if not examples:
            best = ((1, 0, 0), files)
            break
        key = candidate_key(run_tests(ctx, files, examples))
        if best is None or key > best[0]:
            best = (key, files)
        if key[0]:
            break
    if best is None:
        raise ModelError("no candidate answer of the coder contained a code block")
    return {"files": best[1], "attempt": state.get("attempt", 0) + 1, "usage": usage}


sampling_coder.options_model = SamplingOptions  # type: ignore[attr-defined]
