"""The coder of a repo job: edits to the repository, applied whole or not at all.

The model writes edits in the node's ``edit_format`` (``focus``: the one function the
agent chose, rewritten (:mod:`codeagent.nodes.repo_focus`); ``symbol``: the new version
of whole functions/classes, spliced in at their place; ``whole``: whole files;
``search_replace``: SEARCH/REPLACE blocks). They apply to the repository as the job
sees it (snapshot + the changes so far) in memory; an edit that cannot apply is asked
for again with the precise reason, and nothing of it is kept. The node's ``files``
are all the job's changes against the snapshot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from codeagent.nodes.coder import hotter_call
from codeagent.nodes.context import NodeContext
from codeagent.nodes.kinds import node_kind
from codeagent.nodes.prompts import load_template, render
from codeagent.nodes.repo_context import failing_now, task_query
from codeagent.nodes.repo_focus import focus_prompt, focus_target
from codeagent.nodes.repo_run import changed_files, repo_texts, snapshot_of
from codeagent.tools.errors import ModelError
from codeagent.tools.models.llm import Reply, ask_text, total_usage
from codeagent.tools.repo.edits import EditError, apply_edits, format_instructions, parse_edits
from codeagent.tools.repo.focus import focus_edits
from codeagent.tools.repo.reading import render_opened
from codeagent.tools.repo.repomap import rank_files, repo_map
from codeagent.tools.repo.testcmd import agents_instructions

if TYPE_CHECKING:
    from codeagent.tools.contracts.state import AgentState

__all__ = ["RepoCoderOptions", "repo_coder", "repo_coder_prompt", "repo_feedback"]


class RepoCoderOptions(BaseModel):
    """The ``options`` of a ``repo_coder`` node."""

    model_config = ConfigDict(extra="forbid")

    edit_format: Literal["focus", "symbol", "whole", "search_replace"] = Field(
        default="symbol",
        description=(
            "How the model writes edits: focus (the agent picks the one function the task"
            " and the failing tests point at; the model rewrites it: for small models),"
            " symbol (new versions of whole functions/classes, labelled path::Name), whole"
            " (whole files), search_replace (SEARCH/REPLACE blocks, for strong models)."
        ),
    )
    reasks: int = Field(default=2, ge=0, le=5, description="Re-asks for edits that cannot apply.")
    reask_temperature: float = Field(
        default=0.7,
        ge=0,
        le=2,
        description=(
            "Temperature of a re-ask (with its own seed when the model is seeded): asked"
            " again at the first call's, a small model tends to repeat the same answer."
        ),
    )
    open_chars: int = Field(default=9000, ge=500, description="Size of the opened code shown.")
    map_chars: int = Field(default=1500, ge=200, description="Size of the repo map shown.")


_REMINDERS = {
    "symbol": "Each block: `path::Name` alone on the line before it, then the whole new "
    "definition. Change the code the task is about; leave existing tests as they are.",
    "whole": "Each block: the file's path alone on the line before it, then the whole file.",
    "search_replace": "Each block: the file's path alone on the line before it; SEARCH "
    "copies lines of the file exactly.",
}
"""The format in one line, repeated at the end of the prompt (small models follow the
last instruction they read)."""


def repo_feedback(state: AgentState) -> str:
    """The retry section: the diff so far, what the tests say, the reviewer's comments."""
    report = state.get("test_report")
    review = state.get("review")
    if report is None and review is None:
        return ""
    failures = "\n".join(f"- {f}" for f in (report or {}).get("failures") or []) or (
        "The tests passed." if (report or {}).get("ok") else "The tests failed."
    )
    review_text = ""
    if review and review.get("verdict") != "approve" and review.get("comments"):
        comments = "\n".join(f"- {c}" for c in review["comments"])
        review_text = f"\nThe reviewer requested changes:\n{comments}\n"
    return render(
        load_template("repo_coder_feedback"),
        changes=str(state.get("patch") or "(none yet)")[-4000:],
        failures=failures,
        output=str((report or {}).get("output") or "")[-3000:],
        review=review_text,
    )[0][1]


def repo_coder_prompt(
    state: AgentState, ctx: NodeContext, texts: dict[str, str]
) -> list[tuple[str, str]]:
    """The repo coder's messages (pure given ``texts``, the repository as it is now)."""
    options = RepoCoderOptions.model_validate(dict(ctx.options))
    query = task_query(state)
    opened = list((state.get("context") or {}).get("open") or [])
    if not opened:  # no read step (or it found nothing): the best-ranked files
        opened = [path for path, _ in rank_files(texts, query)[:2]]
    shown, _, missing = render_opened(texts, opened, options.open_chars)
    if missing:
        shown += "\n(not found: " + ", ".join(missing) + ")"
    instructions = agents_instructions(texts)
    # before any change of ours, what the named tests say (a retry shows its own run)
    failing = "" if state.get("test_report") else failing_now(state)
    return render(
        load_template("repo_coder", ctx.prompt_file),
        task=state["task"],
        instructions=f"\nThe repository's instructions:\n{instructions}\n" if instructions else "",
        failing=f"\nThe tests the task names fail now:\n{failing}\n" if failing else "",
        context=shown,
        repo_map=repo_map(texts, query, budget_chars=options.map_chars),
        format=format_instructions(options.edit_format),
        feedback=repo_feedback(state),
        reminder=_REMINDERS[options.edit_format],
    )


@node_kind(role="coder", capabilities={"calls_model", "writes_code"}, options=RepoCoderOptions)
def repo_coder(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Edit the repository; re-ask (with the reason) for edits that cannot apply.

    Raises:
        ModelError: When no answer's edits applied after ``reasks`` re-asks.
    """
    options = RepoCoderOptions.model_validate(dict(ctx.options))
    base = snapshot_of(state, ctx).texts()
    texts = repo_texts(state, ctx)
    earlier = dict(state.get("files") or {})
    target = focus_target(state, texts, base) if options.edit_format == "focus" else None
    if target is not None:  # each attempt: one function rewritten on the snapshot
        prompt = focus_prompt(state, ctx, base, texts, target)
        start, carried = base, {}
        name = target.short_name
        unchanged = (
            f"Your `{name}` is the same as the code shown, and that code is what is wrong."
            f" Write a corrected `{name}`."
        )
        repeated = (
            f"That is your last version of `{name}` again, and the tests failed on it."
            " Write a different, corrected version."
        )
    else:  # edits on the repository as it is now, the earlier changes kept
        prompt = repo_coder_prompt(state, ctx, texts)
        start, carried = texts, earlier
        unchanged = (
            "the edits change nothing: the code already reads like that. Write edits that"
            " change what the task and the tests need."
        )
        repeated = ""
    first = prompt
    replies: list[Reply] = []
    reason = ""
    for index in range(options.reasks + 1):
        again = hotter_call(ctx.chat, options.reask_temperature, index) if index else {}
        reply = ask_text(ctx.chat, prompt, **again)
        replies.append(reply)
        try:
            edits = (
                focus_edits(reply.text, target, base)
                if target is not None
                else parse_edits(reply.text, options.edit_format, texts)
            )
            edited = apply_edits(start, edits, task=state["task"])
        except EditError as exc:
            reason = exc.message
            ask = f"Your edits could not be applied, so none was: {reason}\nWrite them again."
            prompt = _asked_again(first, prompt, reply.text, ask, fresh=target is not None)
            continue
        files = changed_files(base, {**carried, **edited})
        if not edited or (target is not None and files == earlier):
            reason = "the edits change nothing" if not edited else "the same as the last attempt"
            ask = unchanged if not edited else repeated
            prompt = _asked_again(first, prompt, reply.text, ask, fresh=target is not None)
            continue
        return {
            "files": files,
            "attempt": state.get("attempt", 0) + 1,
            "usage": total_usage(replies),
        }
    raise ModelError(
        f"the coder's edits could not be applied {len(replies)} times; last: {reason}",
        usage=total_usage(replies),
    )


def _asked_again(
    first: list[tuple[str, str]],
    prompt: list[tuple[str, str]],
    answer: str,
    ask: str,
    *,
    fresh: bool,
) -> list[tuple[str, str]]:
    """The messages of a re-ask: the conversation so far, the answer and ``ask``; or, when
    ``fresh``, the first prompt with ``ask`` as a note at its end (shown its own answer
    again, a small model copies it once more)."""
    if not fresh:
        return [*prompt, ("assistant", answer[:6000]), ("user", ask)]
    *head, (role, text) = first
    return [*head, (role, f"{text}\n\nNote: {ask}")]
