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
from codeagent.tools.models.llm import Reply, ask_text, total_usage
from codeagent.tools.workspace import safe_relpath

if TYPE_CHECKING:
    from codeagent.tools.contracts.state import AgentState

__all__ = [
    "coder",
    "coder_prompt",
    "failures_text",
    "feedback_text",
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


def coder_prompt(state: AgentState, ctx: NodeContext) -> list[tuple[str, str]]:
    """The coder's messages for this state."""
    plan = state.get("plan") or {}
    files = solution_files(state, ctx.language)
    shown = {k: v for k, v in plan.items() if k not in ("version",)}
    return render(
        load_template("coder", ctx.prompt_file),
        task=state["task"],
        plan=json.dumps(shown, indent=2) if plan else "(no plan: follow the task)",
        files_list=", ".join(files),
        source_file=files[0],
        language=ctx.language.name,
        fence=ctx.language.fence,
        feedback=feedback_text(state, ctx.language.fence),
    )


@node_kind(role="coder", capabilities={"calls_model", "writes_code"})
def coder(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Write (or rewrite) the solution files.

    Test files in the answer are dropped: tests are the tester's. When the answer
    has no usable code block the model is asked once more, then the node fails.
    """
    default = source_path(state, ctx.language)
    prompt = coder_prompt(state, ctx)
    replies: list[Reply] = []
    for _ in range(2):
        reply = ask_text(ctx.chat, prompt)
        replies.append(reply)
        files = source_files(reply.text, default, ctx, state["task"])
        if files:
            return {
                "files": files,
                "attempt": state.get("attempt", 0) + 1,
                "usage": total_usage(replies),
            }
        prompt = [
            *prompt,
            ("assistant", reply.text[:4000]),
            ("user", f"I found no code block. Write {default} in a ```{ctx.language.fence} block."),
        ]
    raise ModelError("the coder's answers contained no code block twice")


def source_files(text: str, default: str, ctx: NodeContext, task: str = "") -> dict[str, str]:
    """The solution files in a coder's answer.

    Dropped: test files, unsafe paths, and start-up hooks (``conftest.py``,
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
            safe[rel] = body
    return safe
