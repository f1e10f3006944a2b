"""The tester node: write tests for the task (examples included) and run them in the sandbox."""

from __future__ import annotations

import json
import secrets
import time
from typing import TYPE_CHECKING, Any

from codeagent.nodes.context import NodeContext
from codeagent.nodes.examples import task_examples, task_functions
from codeagent.nodes.kinds import node_kind
from codeagent.nodes.probes import parse_probe_output
from codeagent.nodes.prompts import load_template, render
from codeagent.nodes.stated import stated_names
from codeagent.nodes.testfiles import (
    Screened,
    screen_tests,
    solution_module,
    solution_modules,
    tests_from_answer,
)
from codeagent.tools.contracts.history import history_entry
from codeagent.tools.contracts.report import discount_vacuous, dispute_failures
from codeagent.tools.contracts.state import files_fingerprint
from codeagent.tools.errors import PolicyViolation
from codeagent.tools.languages import LanguageAdapter, ProbeProgram, source_analysis
from codeagent.tools.models.llm import Reply, ask_text, total_usage
from codeagent.tools.sandbox import ExecResult, Sandbox

if TYPE_CHECKING:
    from codeagent.tools.contracts.state import AgentState

__all__ = [
    "example_tester",
    "example_tests",
    "reask_prompt",
    "run_probe",
    "run_tests",
    "tester",
    "tester_prompt",
    "unlinked_reason",
    "unparsed_reason",
    "write_tests",
]

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
            examples,
            solution_module(state, language),
            entry_points=sorted(task_functions(state["task"])),
        )
    }


def run_tests(
    ctx: NodeContext,
    files: dict[str, str],
    tests: dict[str, str],
    probe: ProbeProgram | None = None,
    *,
    stub_check: bool = False,
    passing: bool = False,
) -> dict[str, Any]:
    """Run ``tests`` against ``files`` in a fresh sandbox; the report as stored in state.

    The report's ``failures`` are the language's one-line summaries of the failed
    tests (:meth:`~codeagent.tools.languages.LanguageAdapter.failure_details`). With
    ``probe`` (the language's probe program), the same sandbox then runs it too, and
    the report's ``probe`` holds the outcomes (``None`` when it did not finish).
    With ``stub_check``, when some tests passed, the same sandbox runs them once more
    against a stub of ``files`` (every function body raising); the tests that pass
    again are vacuous and not counted as passed
    (:func:`~codeagent.tools.contracts.report.discount_vacuous`). With ``passing``,
    ``passing_tests`` lists the ids of the tests that passed (``None``: the run names
    none).
    """
    adapter = ctx.language
    run_id = secrets.token_hex(8)  # report files named per run: code cannot forge them ahead
    vacuous: list[str] | None = None
    with ctx.open_sandbox() as sandbox:
        sandbox.write_files({**files, **tests})
        result = sandbox.run(adapter.test_command(run_id), timeout_s=ctx.test_timeout_s)
        reports = sandbox.read_files(adapter.report_paths(run_id))
        analysis = source_analysis(adapter) if passing else None
        ids = analysis.passing_tests(result, reports) if analysis else None
        if stub_check:
            vacuous = _stub_run(ctx, sandbox, files, result, reports)
        outcomes = _probe_in(ctx, sandbox, probe) if probe else None
    report = adapter.parse_report(result, reports).to_state()
    report["failures"] = adapter.failure_details(report["output"])
    if vacuous is not None:
        report = discount_vacuous(report, vacuous)
    if probe:
        report["probe"] = outcomes
    if passing:
        report["passing_tests"] = sorted(ids) if ids is not None else None
    return report


def run_probe(ctx: NodeContext, files: dict[str, str], probe: ProbeProgram) -> list[str] | None:
    """Run the probe program against ``files`` in a fresh sandbox: the outcomes of its
    calls (``None`` when it did not finish)."""
    with ctx.open_sandbox() as sandbox:
        sandbox.write_files(files)
        return _probe_in(ctx, sandbox, probe)


def _probe_in(ctx: NodeContext, sandbox: Sandbox, probe: ProbeProgram) -> list[str] | None:
    sandbox.write_files(probe.files)
    ran = sandbox.run(list(probe.command), timeout_s=ctx.test_timeout_s)
    return parse_probe_output(ran.stdout, probe.count)


def _stub_run(
    ctx: NodeContext,
    sandbox: Sandbox,
    files: dict[str, str],
    result: ExecResult,
    reports: dict[str, str],
) -> list[str] | None:
    """The tests that passed and pass again against a stub of ``files``; ``None``: not run.

    Not run when the language cannot stub or name tests, no named test passed,
    or no file has a function to stub.
    """
    analysis = source_analysis(ctx.language)
    passing = analysis.passing_tests(result, reports) if analysis else None
    if analysis is None or not passing:
        return None
    adapter = ctx.language
    stubs = {
        path: analysis.stub_source(text)
        for path, text in files.items()
        if path.endswith(adapter.source_suffix) and not adapter.is_test_file(path)
    }
    written = {path: text for path, text in stubs.items() if text is not None}
    if not written:
        return None
    # A run id of its own: the stub run's reports cannot be mistaken for the real run's.
    run_id = secrets.token_hex(8)
    sandbox.write_files(written)
    try:
        ran = sandbox.run(adapter.test_command(run_id), timeout_s=ctx.test_timeout_s)
    except PolicyViolation:  # the stub is checked like the code; no verdict then
        return None
    again = analysis.passing_tests(ran, sandbox.read_files(adapter.report_paths(run_id)))
    return sorted(passing & (again or set()))


def reask_prompt(
    prompt: list[tuple[str, str]], answer: str, reasons: list[str]
) -> list[tuple[str, str]]:
    """``prompt`` and ``answer``, then why the answer's tests cannot be used (pure)."""
    reason = " ".join([*reasons, "Write the test file again, complete."])
    return [*prompt, ("assistant", answer), ("user", reason)]


def unlinked_reason(unlinked: list[str], modules: list[str]) -> str:
    """Why test files that import none of ``modules`` test nothing (pure)."""
    names = " or ".join(f"`{m}`" for m in modules)
    return (
        f"Your test file(s) {', '.join(unlinked)} do not import the code under test from "
        f"{names}. Tests must import the functions they test from that module and must "
        "not define their own copies."
    )


def unparsed_reason(errors: list[str], finish: str) -> str:
    """Why test files that do not parse cannot run, and how to avoid it (pure).

    ``errors`` are the files' syntax errors; ``finish`` is how the answer ended
    (:attr:`~codeagent.tools.models.llm.Reply.finish`): an answer stopped early
    leaves its last test unfinished.
    """
    why = {
        "loop": "end mid-statement: the answer was stopped because it repeated itself",
        "length": "end mid-statement: the answer reached its length limit",
    }.get(finish, "do not parse")
    return (
        f"Your test file(s) {why} ({'; '.join(errors)}), so not one test in them can run. "
        "Keep the file short: at most 10 checks, each different, no long lists."
    )


def _syntax_errors(tests: dict[str, str], language: LanguageAdapter) -> dict[str, str]:
    """The test files that do not parse (cut off before any complete test), with why."""
    return {
        path: error for path, text in tests.items() if (error := language.syntax_error(path, text))
    }


def _unusable(got: Screened, errors: dict[str, str], modules: list[str]) -> dict[str, str]:
    """The screened test files that cannot test the solution, each with why (pure)."""
    why = {p: f"its tests do not import {' or '.join(modules)}" for p in got.unlinked}
    why.update({path: f"it does not parse ({error})" for path, error in errors.items()})
    return why


def write_tests(
    state: AgentState, ctx: NodeContext, prompt: list[tuple[str, str]]
) -> tuple[dict[str, str], list[str], list[Reply]]:
    """Ask for tests that test the solution: ``(tests, notes, replies)``.

    Copies of the solution's definitions are removed from them, and a file calling the
    solution's functions without importing them gets the import
    (:func:`~codeagent.nodes.testfiles.screen_tests`); a file cut off mid-statement
    keeps its complete tests (:func:`~codeagent.nodes.testfiles.complete_prefix`). A
    file that still does not import the solution, or does not parse (cut off before
    its first complete test), is asked for once more with the reason, then dropped
    with a note.
    """
    language, modules = ctx.language, solution_modules(state, ctx.language)
    solution = state.get("files") or {}
    stated = stated_names(state["task"], language).functions

    def screened(reply: Reply) -> tuple[Screened, dict[str, str]]:
        written = tests_from_answer(reply.text, language)
        got = screen_tests(written, language, solution, modules, stated)
        return got, _syntax_errors(got.tests, language)

    replies = [ask_text(ctx.chat, prompt)]
    first, errors = screened(replies[0])
    tests, notes = first.tests, list(first.notes)
    bad = _unusable(first, errors, modules)
    if bad:
        unlinked = [path for path in first.unlinked if path not in errors]
        reasons = [unlinked_reason(unlinked, modules)] if unlinked else []
        reasons += [unparsed_reason(list(errors.values()), replies[0].finish)] if errors else []
        replies.append(ask_text(ctx.chat, reask_prompt(prompt, replies[0].text, reasons)))
        again, again_errors = screened(replies[1])
        worse = _unusable(again, again_errors, modules)
        tests = {p: t for p, t in tests.items() if p not in bad}
        tests.update({p: t for p, t in again.tests.items() if p not in worse})
        notes += again.notes
        for path in sorted(set(bad) - set(tests) | set(worse)):
            notes.append(f"{path} dropped: {worse.get(path) or bad[path]}")
    return tests, notes, replies


@_TESTER
def tester(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Write the tests once (they are kept across attempts, so attempts compare), then run them.

    The written tests must test the solution (:func:`write_tests`), and the run checks
    them against a stub of it: tests passing there too are vacuous and not counted.

    Returns:
        ``tests``, ``test_report``, one ``history`` entry and ``usage``; ``test_notes``
        when the tests were written now.
    """
    tests = dict(state.get("tests") or {})
    if tests or state.get("test_notes"):  # written before (perhaps all dropped): not again
        return _run_and_record(state, ctx, tests, {})
    tests, notes, replies = write_tests(state, ctx, tester_prompt(state, ctx))
    tests.update(example_tests(state, ctx.language))
    out = _run_and_record(state, ctx, tests, total_usage(replies), notes)
    return {**out, "test_notes": notes}


@_TESTER
def example_tester(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Like :func:`tester`, but the task's own examples are the tests when it gives any.

    Small models often write tests with wrong expected values, which then push
    the coder away from correct code; the examples in the task are ground truth.
    Without examples the model writes the tests, as in :func:`tester`; so it does when
    every example is broken (it fails before the code runs: see
    :meth:`~codeagent.tools.languages.python.PythonAdapter.examples_to_tests`).
    """
    if state.get("tests"):
        return tester(state, ctx)
    examples = example_tests(state, ctx.language)
    if not examples:
        return tester(state, ctx)
    update = _run_and_record(state, ctx, examples, {})
    if all_examples_broken(update["test_report"]):  # none reached the code: not a test
        return tester(state, ctx)
    return update


def all_examples_broken(report: dict[str, Any]) -> bool:
    """True when no example test counted: each failed before the code ran (a broken
    example, skipped with its reason) and nothing crashed."""
    return not report.get("total") and not report.get("errors") and not report.get("timed_out")


def _run_and_record(
    state: AgentState,
    ctx: NodeContext,
    tests: dict[str, str],
    usage: dict[str, int],
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """Run the tests (with the stub check) and record the run; notes on the tests go along.

    Model-written tests that the code and its peers all fail alike are set aside as
    disputed (:func:`_disputed`).
    """
    started = time.monotonic()
    files = state.get("files") or {}
    peers = _peers(state, ctx, tests)
    report = run_tests(ctx, files, tests, stub_check=True, passing=bool(peers))
    notes = list(state.get("test_notes") or [] if notes is None else notes)
    if peers and _disputed(ctx, report, files, peers, tests):
        report = dispute_failures(report, len(peers))
        notes.append(
            f"{report['disputed']} model-written test(s) disputed, not counted: the code and "
            f"{len(peers)} other candidate(s) that behave as it does on the probe inputs "
            "all fail them alike"
        )
    report.pop("passing_tests", None)
    if notes:
        report["notes"] = notes
    entry = history_entry(state, tests, report, time.monotonic() - started)
    return {"tests": tests, "test_report": report, "history": [entry], "usage": usage}


def _peers(state: AgentState, ctx: NodeContext, tests: dict[str, str]) -> list[dict[str, str]]:
    """The sampling coder's candidates agreeing with the current files, when the tests
    are the model's alone (the task's examples are ground truth: never disputed)."""
    peers = state.get("peers") or {}
    if ctx.language.examples_test_path() in tests:
        return []
    if peers.get("of") != files_fingerprint(state.get("files") or {}):
        return []  # they agreed with files an earlier attempt wrote
    return list(peers.get("files") or [])


def _disputed(
    ctx: NodeContext,
    report: dict[str, Any],
    files: dict[str, str],
    peers: list[dict[str, str]],
    tests: dict[str, str],
) -> bool:
    """True when tests failed (assertions only: nothing crashed or timed out) and every
    peer passes exactly the tests the code passes: the failures are the tests' own.

    A peer whose code is the same text as ``files`` (two draws gave the same answer)
    counts without being run again."""
    mine = report.get("passing_tests")
    if not report.get("failed") or report.get("errors") or report.get("timed_out"):
        return False
    if mine is None:
        return False
    return all(
        peer == files or run_tests(ctx, peer, tests, passing=True)["passing_tests"] == mine
        for peer in peers
    )
