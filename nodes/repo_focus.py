"""The repo coder's ``focus`` format: one function, chosen by the agent, rewritten by the model.

For small models (see :mod:`codeagent.tools.repo.focus`): the prompt shows the task, the
failing tests and their output, the signatures of the target's file, and the target
function; the answer is that function, corrected, which is spliced in at its place.
"""

from __future__ import annotations

import textwrap
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from codeagent.nodes.context import NodeContext
from codeagent.nodes.prompts import load_template, render
from codeagent.nodes.repo_context import failing_now
from codeagent.tools.errors import ModelError
from codeagent.tools.repo.focus import (
    FocusTarget,
    focus_targets,
    pointed_test_source,
    source_of,
    symbol_source,
)
from codeagent.tools.repo.symbols import JS_SUFFIXES, Symbol, file_symbols
from codeagent.tools.repo.testcmd import agents_instructions

if TYPE_CHECKING:
    from codeagent.tools.contracts.state import AgentState

__all__ = ["focus_prompt", "focus_target", "named_tests_source"]

_TESTS_CHARS = 2500
_OUTPUT_CHARS = 2000


def named_tests_source(state: AgentState, texts: dict[str, str]) -> str:
    """The source of the tests the task names, within a budget: a pytest node id's
    function; for tests named by their names alone (``node --test``), the test lines
    the baseline's failure points at."""
    targets = list((state.get("repo") or {}).get("targets") or [])
    parts: list[str] = []
    for node_id in targets:
        path, _, name = node_id.partition("::")
        text = texts.get(path)
        if text is None or not name:
            continue
        symbol = _symbol(texts, path, name.split("[")[0].replace("::", "."))
        if symbol is not None:
            parts.append(f"# {node_id}\n" + textwrap.dedent(symbol_source(text, symbol)))
    if any("::" not in t and t not in texts for t in targets):
        pointed = pointed_test_source(failing_now(state, limit=6000), texts)
        parts += [pointed] if pointed else []
    return "\n\n".join(parts)[:_TESTS_CHARS]


def focus_target(state: AgentState, texts: dict[str, str], base: dict[str, str]) -> FocusTarget:
    """The function the coder shows: the best match for the task and the latest run
    (read on ``texts``, the repository as the last attempt left it) among the functions
    the snapshot (``base``) has; its symbol as the snapshot has it.

    Raises:
        ModelError: The repository has no function or method the task points at.
    """
    report = state.get("test_report") or {}
    output = str(report.get("output") or "") or failing_now(state, limit=6000)
    asked = list((state.get("context") or {}).get("open") or [])
    found = focus_targets(
        texts, state["task"], output, named_tests_source(state, texts), asked=asked
    )
    for target in found:
        original = _symbol(base, target.path, target.symbol.name)
        if original is not None:
            return FocusTarget(target.path, original, target.score)
    raise ModelError(
        "the focus coder found no function the task or the failing tests point at",
        hint="name the function or the failing test in the task, or use edit_format: symbol",
    )


def _symbol(files: dict[str, str], path: str, name: str) -> Symbol | None:
    text = files.get(path)
    found = [s for s in file_symbols(path, text) if s.name == name] if text else []
    return found[0] if found else None


def focus_prompt(
    state: AgentState,
    ctx: NodeContext,
    base: dict[str, str],
    texts: dict[str, str],
    target: FocusTarget,
) -> list[tuple[str, str]]:
    """The focus coder's messages (pure given the files): the target as the snapshot
    (``base``) has it; after a failed attempt, that attempt's version (from ``texts``)
    and what the tests said."""
    suffix = PurePosixPath(target.path).suffix.lower()
    language = "javascript" if suffix in JS_SUFFIXES else "python"
    instructions = agents_instructions(base)
    report = state.get("test_report")
    failing = "" if report else failing_now(state, limit=_OUTPUT_CHARS)
    tests = named_tests_source(state, base)
    symbol = target.symbol
    owner = symbol.name.rsplit(".", 1)[0] if "." in symbol.name else ""
    where = f"The code to change: `{symbol.name}`" + (
        f", a method of class `{owner}`," if owner else ""
    )
    where += f" in {target.path}:"
    return render(
        load_template("repo_focus", ctx.prompt_file),
        task=state["task"],
        instructions=f"\nThe repository's instructions:\n{instructions}\n" if instructions else "",
        failing=f"\nThe tests the task names fail now:\n{failing}\n" if failing else "",
        tests=f"\nThe tests:\n```{language}\n{tests}\n```\n" if tests else "",
        outline=_outline(target, base),
        where=where,
        language=language,
        code=textwrap.dedent(source_of(base, target)),
        feedback=_feedback(state, _last_version(target, base, texts), language),
        name=target.short_name,
    )


def _last_version(target: FocusTarget, base: dict[str, str], texts: dict[str, str]) -> str:
    """The target as the last attempt left it, when that differs from the snapshot's."""
    if texts.get(target.path) == base.get(target.path):
        return ""
    now = _symbol(texts, target.path, target.symbol.name)
    if now is None:
        return ""
    last = textwrap.dedent(symbol_source(texts[target.path], now))
    return "" if last == textwrap.dedent(source_of(base, target)) else last


def _outline(target: FocusTarget, texts: dict[str, str]) -> str:
    """The other definitions of the target's file, one signature a line."""
    lines = [
        ("    " if s.kind == "method" else "") + s.signature
        for s in file_symbols(target.path, texts[target.path])
        if s.name != target.symbol.name
    ]
    if not lines:
        return ""
    shown = "\n".join(lines[:40]) + (f"\n... {len(lines) - 40} more" if len(lines) > 40 else "")
    return f"Also in {target.path} (signatures):\n{shown}\n"


def _feedback(state: AgentState, last: str, language: str) -> str:
    """After a test run: the attempt's version of the target (``last``), what failed, and
    the end of the output."""
    report = state.get("test_report")
    review = state.get("review")
    if report is None and review is None:
        return ""
    parts = [""]
    if last:
        parts.append(f"Your last version was wrong:\n```{language}\n{last}\n```")
    failures = [str(f) for f in (report or {}).get("failures") or []]
    if failures:
        parts.append("What the tests said:\n" + "\n".join(f"- {f}" for f in failures[:8]))
    output = str((report or {}).get("output") or "").strip()
    if output:
        parts.append("Test output:\n" + _tail(output, _OUTPUT_CHARS))
    if review and review.get("verdict") != "approve" and review.get("comments"):
        comments = "\n".join(f"- {c}" for c in review["comments"])
        parts.append("The reviewer requested changes:\n" + comments)
    return "\n".join(parts) + "\n"


def _tail(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    return "[...]\n" + cut[cut.find("\n") + 1 :] if "\n" in cut else cut
