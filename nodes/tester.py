"""The tester node: write tests for the task (examples included) and run them in the sandbox."""

from __future__ import annotations

import json
import secrets
import time
from typing import TYPE_CHECKING, Any

from codeagent.nodes.context import NodeContext
from codeagent.nodes.examples import task_examples
from codeagent.nodes.kinds import node_kind
from codeagent.nodes.probes import parse_probe_output
from codeagent.nodes.prompts import load_template, render
from codeagent.nodes.testfiles import solution_module, tests_from_answer
from codeagent.tools.contracts.history import history_entry
from codeagent.tools.languages import LanguageAdapter, ProbeProgram
from codeagent.tools.models.llm import ask_text

if TYPE_CHECKING:
    from codeagent.tools.contracts.state import AgentState

__all__ = ["example_tester", "example_tests", "run_tests", "tester", "tester_prompt"]

_TESTER = node_kind(role="tester", capabilities={"calls_model", "runs_code", "writes_tests"})


def tester_prompt(state: AgentState, ctx: NodeContext) -> list[tuple[str, str]]:
    """The tester's messages for this state."""
    plan = state.get("plan") or {}
    shown = {k: v for k, v in plan.items() if k != "version"}
    return render(
        load_template("tester", ctx.prompt_file),
        task=state["task"],
        plan=json.dumps(shown, indent=2) if plan else "(no plan)",
        module=solution_module(state, ctx.language),
        test_file=ctx.language.default_test_path(),
        fence=ctx.language.fence,
        language=ctx.language.name,
    )


def example_tests(state: AgentState, language: LanguageAdapter) -> dict[str, str]:
    """A test file asserting every example the task text gives (deterministic).

    Empty when the task gives none, or the language cannot run them
    (:attr:`~codeagent.tools.languages.LanguageAdapter.runs_examples`).
    """
    if not language.runs_examples:
        return {}
    examples = task_examples(state["task"])
    if not examples:
        return {}
    return {
        language.examples_test_path(): language.examples_to_tests(
            examples, solution_module(state, language)
        )
    }


def run_tests(
    ctx: NodeContext,
    files: dict[str, str],
    tests: dict[str, str],
    probe: ProbeProgram | None = None,
) -> dict[str, Any]:
    """Run ``tests`` against ``files`` in a fresh sandbox; the report as stored in state.

    The report's ``failures`` are the language's one-line summaries of the failed
    tests (:meth:`~codeagent.tools.languages.LanguageAdapter.failure_details`). With
    ``probe`` (the language's probe program), the same sandbox then runs it too, and
    the report's ``probe`` holds the outcomes (``None`` when it did not finish).
    """
    adapter = ctx.language
    run_id = secrets.token_hex(8)  # report files named per run: code cannot forge them ahead
    with ctx.open_sandbox() as sandbox:
        sandbox.write_files({**files, **tests})
        result = sandbox.run(adapter.test_command(run_id), timeout_s=ctx.test_timeout_s)
        reports = sandbox.read_files(adapter.report_paths(run_id))
        if probe:
            sandbox.write_files(probe.files)
            ran = sandbox.run(list(probe.command), timeout_s=ctx.test_timeout_s)
    report = adapter.parse_report(result, reports).to_state()
    report["failures"] = adapter.failure_details(report["output"])
    if probe:
        report["probe"] = parse_probe_output(ran.stdout, probe.count)
    return report


@_TESTER
def tester(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Write the tests once (they are kept across attempts, so attempts compare), then run them.

    Returns:
        ``tests``, ``test_report``, one ``history`` entry and ``usage``.
    """
    tests = dict(state.get("tests") or {})
    usage: dict[str, int] = {}
    if not tests:
        reply = ask_text(ctx.chat, tester_prompt(state, ctx))
        usage = reply.usage()
        tests = tests_from_answer(reply.text, ctx.language)
        tests.update(example_tests(state, ctx.language))
    return _run_and_record(state, ctx, tests, usage)


@_TESTER
def example_tester(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Like :func:`tester`, but the task's own examples are the tests when it gives any.

    Small models often write tests with wrong expected values, which then push
    the coder away from correct code; the examples in the task are ground truth.
    Without examples the model writes the tests, as in :func:`tester`.
    """
    if state.get("tests"):
        return tester(state, ctx)
    examples = example_tests(state, ctx.language)
    if not examples:
        return tester(state, ctx)
    return _run_and_record(state, ctx, examples, {})


def _run_and_record(
    state: AgentState, ctx: NodeContext, tests: dict[str, str], usage: dict[str, int]
) -> dict[str, Any]:
    started = time.monotonic()
    report = run_tests(ctx, state.get("files") or {}, tests)
    entry = history_entry(state, tests, report, time.monotonic() - started)
    return {"tests": tests, "test_report": report, "history": [entry], "usage": usage}
