"""The read step of a repo job: rank the repository against the task, then open what matters.

The model sees a repo map (files with their classes and functions, ranked against
the task and the baseline's failing tests) and names at most ``max_open`` files or
symbols to read; the files the task or a traceback names are opened first whatever it
answers. Only the names go into the state (``context``): the coder renders them from
the repository as it is at that moment, so its view never goes stale after an edit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from codeagent.nodes.context import NodeContext
from codeagent.nodes.kinds import node_kind
from codeagent.nodes.prompts import load_template, render
from codeagent.nodes.repo_run import repo_texts
from codeagent.tools.models.llm import ask_text
from codeagent.tools.repo.reading import parse_open_requests
from codeagent.tools.repo.repomap import is_test_file, referenced_paths, repo_map

if TYPE_CHECKING:
    from codeagent.tools.contracts.state import AgentState

__all__ = [
    "RepoContextOptions",
    "context_prompt",
    "failing_now",
    "named_requests",
    "repo_context",
    "task_query",
]


class RepoContextOptions(BaseModel):
    """The ``options`` of a ``repo_context`` node (sized for an 8k-token model by default)."""

    model_config = ConfigDict(extra="forbid")

    max_open: int = Field(default=4, ge=1, le=20, description="Files or symbols opened at most.")
    map_chars: int = Field(default=2500, ge=200, description="Size of the repo map shown.")
    max_tokens: int = Field(
        default=256,
        ge=32,
        description=(
            "Most tokens of the answer: a few names need far fewer; the embedded 1.5B"
            " model once listed names until the model's own cap (2,048 tokens, ~100 s)."
        ),
    )


def task_query(state: AgentState) -> str:
    """What the repository is ranked against: the task and the baseline's failing tests."""
    baseline = state.get("baseline") or {}
    targets = (state.get("repo") or {}).get("targets") or []
    failing = [t for t in baseline.get("failing") or [] if any(t.startswith(x) for x in targets)]
    output = str(baseline.get("output") or "") if failing else ""
    return "\n".join([state["task"], *failing, output])


def failing_now(state: AgentState, limit: int = 2000) -> str:
    """The baseline's failing tests the task names, and the end of that run's output
    (empty: none fails, or the task names none)."""
    return task_query(state)[len(state["task"]) :].strip()[-limit:]


def named_requests(query: str, texts: Mapping[str, str]) -> list[str]:
    """What the task and the failing tests name, to open first: each file, except that a
    Python test file named by node ids (``tests/test_x.py::test_y``) opens as those tests
    only, so the code under test keeps the room; code before tests (pure)."""
    requests: list[str] = []
    for path in referenced_paths(query, texts):
        if path not in texts:
            continue
        tests = []
        if path.endswith(".py"):
            for found in re.finditer(re.escape(path) + r"::([\w:]+)", query):
                name = found.group(1).replace("::", ".")
                if name not in tests:
                    tests.append(name)
        requests.extend([f"{path}::{name}" for name in tests] or [path])
    # the code under test first: a small model tends to rewrite the first thing it reads
    return sorted(requests, key=lambda r: is_test_file(r.partition("::")[0]))


def context_prompt(
    state: AgentState, ctx: NodeContext, texts: dict[str, str]
) -> list[tuple[str, str]]:
    """The read step's messages (pure given ``texts``)."""
    options = RepoContextOptions.model_validate(dict(ctx.options))
    query = task_query(state)
    failing = failing_now(state)
    return render(
        load_template("repo_context", ctx.prompt_file),
        task=state["task"],
        failing=f"\nFailing now:\n{failing}\n" if failing else "",
        repo_map=repo_map(texts, query, budget_chars=options.map_chars),
        limit=str(options.max_open),
    )


@node_kind(role="other", capabilities={"calls_model"}, options=RepoContextOptions)
def repo_context(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Choose what the coder reads: the named files first, then what the model asks for."""
    options = RepoContextOptions.model_validate(dict(ctx.options))
    texts = repo_texts(state, ctx)
    named = named_requests(task_query(state), texts)
    # a cut answer still yields its names (parse_open_requests reads line by line then)
    reply = ask_text(
        ctx.chat, context_prompt(state, ctx, texts), max_completion_tokens=options.max_tokens
    )
    asked = parse_open_requests(reply.text, options.max_open)
    opened: list[str] = []
    for request in [*named, *asked]:
        if request not in opened and len(opened) < options.max_open:
            opened.append(request)
    return {"context": {"open": opened, "named": named, "asked": asked}, "usage": reply.usage()}
