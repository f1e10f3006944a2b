"""The coder node: plan + task (+ failing tests and review comments) -> source files."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from codeagent.nodes.context import NodeContext
from codeagent.nodes.kinds import node_kind
from codeagent.nodes.parsing import code_blocks, files_from_blocks, without_hooks
from codeagent.nodes.prompts import load_template, render
from codeagent.nodes.testfiles import solution_files, source_path
from codeagent.tools.errors import ModelError, SandboxError
from codeagent.tools.languages.base import source_analysis
from codeagent.tools.models.llm import Reply, ask_text, total_usage
from codeagent.tools.workspace import safe_relpath

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from codeagent.tools.contracts.state import AgentState

__all__ = [
    "coder",
    "coder_prompt",
    "failures_text",
    "feedback_text",
    "fresh_prompt",
    "hotter_call",
    "rollback_note",
    "source_files",
]


def feedback_text(state: AgentState, fence: str) -> str:
    """The retry section: the previous code, the exact test failures, review comments."""
    report = state.get("test_report")
    review = state.get("review")
    if not state.get("files") or (report is None and review is None):
        return ""
    code = "\n\n".join(f"{p}\n```{fence}\n{t.rstrip()}\n```" for p, t in state["files"].items())
    failures = failures_text(report)
    undone = rollback_note(state)
    if undone:
        failures = f"{failures}\n{undone}"
    review_text = ""
    if review and review.get("verdict") != "approve" and review.get("comments"):
        comments = "\n".join(f"- {c}" for c in review["comments"])
        review_text = f"\nThe reviewer requested changes:\n{comments}\n"
    template = load_template("coder_feedback")
    return render(template, current_code=code, failures=failures, review=review_text)[0][1]


def failures_text(report: dict[str, Any] | None) -> str:
    """What the last test run says: one line per failed check (expected vs got), then output.

    The lines are the report's ``failures``, which the tester took from the language
    adapter (:meth:`~codeagent.tools.languages.LanguageAdapter.failure_details`).
    """
    if not report or report.get("ok"):
        return "The tests passed."
    output = str(report.get("output", ""))
    summary = (
        f"{report.get('failed', 0)} tests failed, {report.get('errors', 0)} errors, "
        f"{report.get('passed', 0)} passed."
    )
    if report.get("vacuous"):
        summary += (
            f" {report['vacuous']} more passed even with every function stubbed out:"
            " they test nothing and do not count."
        )
    details = [str(d) for d in report.get("failures") or []][:6]
    if details:
        summary += "\nFailed checks:\n" + "\n".join(f"- {d}" for d in details)
    return f"{summary}\nTest output:\n{output}"


def rollback_note(state: AgentState) -> str:
    """For the coder's prompt: what the undone change broke (empty when nothing was undone)."""
    undone = state.get("rollback")
    if not undone or undone.get("attempt") != state.get("attempt"):
        return ""
    lines = "\n".join(f"- {line}" for line in undone.get("failures") or [])
    return (
        f"Your last change (attempt {undone['undone_attempt']}) made the tests fail, so it was "
        f"undone: the code above is attempt {undone['restored_attempt']}, which passed them."
        + (f"\nThe undone change broke:\n{lines}" if lines else "")
        + "\nMake the requested change again without breaking these checks."
    )


def coder_prompt(state: AgentState, ctx: NodeContext, kind: str = "coder") -> list[tuple[str, str]]:
    """The messages of a coder node of ``kind`` (its built-in template) for this state."""
    plan = state.get("plan") or {}
    files = solution_files(state, ctx.language)
    shown = {k: v for k, v in plan.items() if k not in ("version",)}
    plan_text = json.dumps(shown, indent=2)
    return render(
        load_template(kind, ctx.prompt_file),
        task=state["task"],
        plan=plan_text if plan else "(no plan: follow the task)",
        plan_note=f"\n\nPlan:\n{plan_text}" if plan else "",
        files_list=", ".join(files),
        source_file=files[0],
        language=ctx.language.name,
        fence=ctx.language.fence,
        feedback=feedback_text(state, ctx.language.fence),
    )


RETRY_TEMPERATURE = 0.8
FRESH_DRAWS = 2  # fresh versions drawn at most when a repair repeats the failing code


@node_kind(role="coder", capabilities={"calls_model", "writes_code"})
def coder(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Write (or rewrite) the solution files.

    Test files in the answer are dropped: tests are the tester's. When the answer
    has no usable code block the model is asked once more, then the node fails. A
    repair that returns the failing code unchanged is asked afresh (:func:`fresh_prompt`),
    hotter and with another seed (a seeded model at a low temperature repeats itself),
    up to :data:`FRESH_DRAWS` times while the job's model-call budget allows.
    """
    default = source_path(state, ctx.language)
    prompt = coder_prompt(state, ctx)
    failing = _failing_files(state)
    replies: list[Reply] = []
    no_block_asked = False
    fresh = 0
    call: dict[str, Any] = {}
    while True:
        reply = ask_text(ctx.chat, prompt, **call)
        replies.append(reply)
        files = source_files(reply.text, default, ctx, state["task"])
        if files and (
            files != failing or fresh == FRESH_DRAWS or not _can_ask(state, ctx, replies)
        ):
            return {
                "files": files,
                "attempt": state.get("attempt", 0) + 1,
                "usage": total_usage(replies),
            }
        if files:  # the failing code again: draw a fresh version
            fresh += 1
            seed_index = 100 * (state.get("attempt", 0) + 1) + fresh
            call = hotter_call(ctx.chat, RETRY_TEMPERATURE, seed_index)
            prompt = fresh_prompt(state, ctx)
            continue
        if no_block_asked:
            raise ModelError(
                "the coder's answers contained no code block twice", usage=total_usage(replies)
            )
        no_block_asked = True
        ask = f"I found no code block. Write {default} in a ```{ctx.language.fence} block."
        prompt = [*prompt, ("assistant", reply.text[:4000]), ("user", ask)]


def fresh_prompt(state: AgentState, ctx: NodeContext) -> list[tuple[str, str]]:
    """The coder's first prompt plus what the failing version got wrong, without its code.

    For a repair that repeated the failing code: shown that code again, a small model
    copies it again; asked afresh with the failed checks, it writes another version.
    """
    messages = coder_prompt({**state, "files": {}}, ctx)
    failed = failures_text(state.get("test_report")).split("\nTest output:", 1)[0]
    note = (
        f"\nAn earlier version failed the tests: {failed}\nIt has a mistake. Write the "
        "code anew, checking every step against the task and its examples."
    )
    role, text = messages[-1]
    return [*messages[:-1], (role, text + "\n" + note)]


def _failing_files(state: AgentState) -> dict[str, str] | None:
    """The files the last test run failed (what a repair must change), else ``None``."""
    report = state.get("test_report")
    if not state.get("files") or not report or report.get("ok"):
        return None
    return dict(state["files"])


def _can_ask(state: AgentState, ctx: NodeContext, replies: list[Reply]) -> bool:
    """True when the job's model-call budget allows one more call of this node."""
    if ctx.max_model_calls is None:
        return True
    spent = int((state.get("usage") or {}).get("calls", 0)) + len(replies)
    return spent < ctx.max_model_calls


def hotter_call(chat: BaseChatModel, temperature: float, index: int) -> dict[str, Any]:
    """Call settings for the ``index``-th extra answer of ``chat``: ``temperature``, and
    another seed when the model is seeded (a fixed seed would repeat the same answer)."""
    seed = getattr(chat, "seed", None)
    extra = {"seed": seed + index} if isinstance(seed, int) else {}
    return {"temperature": temperature, **extra}


def source_files(text: str, default: str, ctx: NodeContext, task: str = "") -> dict[str, str]:
    """The solution files in a coder's answer.

    Dropped: test files, unsafe paths, top-level self-checks (:func:`without_self_checks`),
    and start-up hooks (``conftest.py``,
    ``sitecustomize.py``, ``*.pth``) that ``task`` does not name
    (:func:`~codeagent.nodes.parsing.without_hooks`). This is where every model
    answer becomes solution files, so the filter sits here rather than in the
    test run, which also runs a repository's own, legitimate ``conftest.py``.
    """
    blocks = code_blocks(text)
    files = without_hooks(files_from_blocks(blocks, default, ctx.language.source_suffix), task)
    safe = {}
    for path, body in files.items():
        try:
            rel = safe_relpath(path)
        except SandboxError:
            continue  # a path outside the workspace is never written
        if not ctx.language.is_test_file(rel):
            safe[rel] = without_self_checks(body, ctx)
    return safe


def without_self_checks(body: str, ctx: NodeContext) -> str:
    """``body`` less the checks the model appended at top level (they run on import)."""
    analysis = source_analysis(ctx.language)
    return body if analysis is None else analysis.remove_self_checks(body)[0]
