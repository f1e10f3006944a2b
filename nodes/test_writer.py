"""The test-writer node: tests first, from the task alone, without running them.

Used by test-first workflows (``configs/tdd.yaml``): the tests are written before any
code, kept for every attempt (the ``tester`` node runs them and never rewrites them),
and quoted in the plan's ``test_cases`` so the coder sees what it must pass.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from codeagent.nodes.context import NodeContext
from codeagent.nodes.kinds import node_kind
from codeagent.nodes.prompts import load_template, render
from codeagent.nodes.tester import example_tests, write_tests
from codeagent.nodes.testfiles import solution_module, source_path
from codeagent.tools.languages import LanguageAdapter
from codeagent.tools.models.llm import total_usage

if TYPE_CHECKING:
    from codeagent.tools.contracts.state import AgentState

__all__ = ["test_cases", "test_writer", "test_writer_prompt"]


def test_writer_prompt(state: AgentState, ctx: NodeContext) -> list[tuple[str, str]]:
    """The test writer's messages for this state."""
    plan = state.get("plan") or {}
    shown = {k: v for k, v in plan.items() if k != "version"}
    return render(
        load_template("test_writer", ctx.prompt_file),
        task=state["task"],
        plan=json.dumps(shown, indent=2) if plan else "(no plan: follow the task)",
        module=solution_module(state, ctx.language),
        test_file=ctx.language.default_test_path(),
        fence=ctx.language.fence,
        language=ctx.language.name,
    )


def test_cases(tests: dict[str, str], language: LanguageAdapter, limit: int = 40) -> list[str]:
    """The import and assertion lines of ``tests``: what the coder must satisfy (pure).

    Which lines those are is the language's
    :meth:`~codeagent.tools.languages.LanguageAdapter.test_checks`.
    """
    lines = [line for text in tests.values() for line in language.test_checks(text)]
    return list(dict.fromkeys(lines))[:limit]


@node_kind(role="tester", capabilities={"calls_model", "writes_tests"})
def test_writer(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Write the tests for the task; they are not run here.

    Idempotent: when tests already exist (a resumed job), nothing is asked again.
    There is no code yet, so the tests must import the plan's module: a file that
    does not is asked for once more, then dropped with a note
    (:func:`~codeagent.nodes.tester.write_tests`).

    Returns:
        ``tests``, ``test_notes``, ``plan`` (the current plan, or a minimal one) with
        the tests' assertions as ``test_cases``, ``plan_version`` and ``usage``.
    """
    if state.get("tests"):
        return {}
    tests, notes, replies = write_tests(state, ctx, test_writer_prompt(state, ctx))
    tests.update(example_tests(state, ctx.language))
    plan = dict(state.get("plan") or {})
    version = state.get("plan_version", 0)
    if not plan:
        version += 1
        test_file = ctx.language.default_test_path()
        plan = {
            "summary": state["task"].strip().splitlines()[0][:200],
            "files": [source_path(state, ctx.language)],
            "steps": [f"write code that makes the tests in {test_file} pass"],
            "version": version,
        }
    plan["test_cases"] = test_cases(tests, ctx.language)
    return {
        "tests": tests,
        "test_notes": notes,
        "plan": plan,
        "plan_version": version,
        "usage": total_usage(replies),
    }
