"""The language-adapter seam: naming, test command and report parsing per language."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

from codeagent.tools.contracts.report import TestReport
from codeagent.tools.sandbox.protocol import ExecResult

__all__ = [
    "PROBE_MARK",
    "ImportLinking",
    "LanguageAdapter",
    "ProbeProgram",
    "SourceAnalysis",
    "TestReport",
    "cross_checked",
    "import_linking",
    "missing_members",
    "source_analysis",
]

PROBE_MARK = "@@codeagent-probe@@"
"""Starts the line on which a probe program prints its outcomes (a JSON list)."""


@dataclass(frozen=True)
class ProbeProgram:
    """A program that calls the solution on probe inputs and prints what each call did.

    Its last line starting with :data:`PROBE_MARK` holds a JSON list with one
    outcome (a string) per call, in order: the result's ``repr``, ``!ErrorName``
    when the call raised, or ``!Timeout``. See :mod:`codeagent.nodes.probes`.

    Attributes:
        files: Workspace files to write next to the solution (the program itself).
        command: argv that runs the program in the sandbox.
        count: How many outcomes it prints (one per call).
    """

    files: dict[str, str] = field(hash=False)
    command: tuple[str, ...]
    count: int


class LanguageAdapter(Protocol):
    """What the graph needs to know about one language; nodes ask it, never a language's name.

    Attributes:
        name: The name a workflow's ``sandbox.language`` uses.
        source_suffix: File suffix of source files (``.py``).
        fence: The info string of a fenced code block in this language (``python``).
        runs_examples: True when the task's worked examples, which are Python-syntax
            ``(call, expected)`` pairs (:mod:`codeagent.nodes.examples`), can run as tests
            in this language (:meth:`examples_to_tests`). False: only written tests run.
        harness_files: Workspace files the adapter writes itself (probe scripts):
            codeagent's harness, never the job's code. Report files are named per run
            (:meth:`report_paths`), so they are not listed here.
    """

    name: str
    source_suffix: str
    fence: str
    runs_examples: bool
    harness_files: frozenset[str]

    def default_source_path(self) -> str:
        """File name for a single-file solution."""
        ...

    def default_test_path(self) -> str:
        """File name for the generated tests."""
        ...

    def examples_test_path(self) -> str:
        """File name for the tests made from the task's own examples."""
        ...

    def is_test_file(self, path: str) -> bool:
        """True when ``path`` is a test file by this language's convention."""
        ...

    def test_command(self, run_id: str) -> list[str]:
        """argv that runs all tests with coverage and leaves the report files.

        ``run_id`` is fresh and random per run (``secrets.token_hex``): the report
        files carry it in their names, so code under test cannot know in advance
        which file to forge.
        """
        ...

    def report_paths(self, run_id: str) -> list[str]:
        """Workspace files the test command of run ``run_id`` leaves for :meth:`parse_report`."""
        ...

    def parse_report(self, result: ExecResult, reports: dict[str, str]) -> TestReport:
        """Turn the command result and this run's report files into a :class:`TestReport`.

        The report must agree with the exit status (:func:`cross_checked`).
        """
        ...

    def examples_to_tests(
        self,
        examples: list[tuple[str, str]],
        module: str,
        *,
        entry_points: Collection[str] = (),
    ) -> str:
        """Test-file text asserting each ``(expression, expected)`` example.

        ``entry_points`` are the functions the task itself defines (the code must too):
        an example failing on its own, e.g. on an undefined name that is none of them, is
        a broken example, not a failure of the code (languages that can tell may skip it,
        saying why).
        """
        ...

    def syntax_error(self, path: str, source: str) -> str | None:
        """Why ``source`` cannot even be parsed (an answer cut off mid-code), else ``None``.

        Only a check that needs no tool run; ``None`` when the language has none.
        """
        ...

    def has_tests(self, source: str) -> bool:
        """True when test-file text defines at least one test (``def test_...`` in pytest).

        Used to cut a test file the model left unfinished back to its complete tests.
        """
        ...

    def test_checks(self, source: str) -> list[str]:
        """The lines of a test file that say what the code must do (imports, assertions).

        Test-first workflows quote them to the coder as the plan's ``test_cases``.
        """
        ...

    def failure_details(self, output: str, limit: int = 6) -> list[str]:
        """One line per failed test in the test command's output: the check and what happened.

        E.g. ``test_add: add(2, 3) should be 5, but it returned -1``. At most ``limit``
        lines; ``[]`` when the output names no failure this adapter can read.
        """
        ...

    def probe_program(
        self, module: str, calls: Sequence[str], per_call_s: float = 1.0
    ) -> ProbeProgram | None:
        """The program that runs ``calls`` against the solution ``module``, else ``None``.

        ``calls`` are Python-syntax call expressions varied from the task's examples
        (:func:`codeagent.nodes.probes.probe_calls`). ``None`` when this language cannot
        run them; the sampling coder then chooses among candidates without probes.
        """
        ...


def cross_checked(report: TestReport, result: ExecResult, reported: bool) -> TestReport:
    """``report``, counted as a failed run when it and the runner's exit status disagree.

    A run passes only when the report file exists, says every test passed, and the
    runner exited 0. No report, a green report with a non-zero exit (code that
    rewrote the report), or failures in the report with exit 0 (code that forced the
    exit status) each add an error and a line saying why to the output.

    Args:
        report: The counts as parsed from the report file (or the output).
        result: The test command's result.
        reported: Whether the run's report file was there to read.
    """
    if result.timed_out:
        return report
    green = report.total > 0 and report.failed == 0 and report.errors == 0
    if not reported:
        why = "it left no report file"
    elif green and result.exit_code != 0:
        why = f"its report says all passed, but it exited with status {result.exit_code}"
    elif not green and report.total > 0 and result.exit_code == 0:
        why = "its report has failures, but it exited with status 0"
    else:
        return report
    note = f"\n[codeagent] the test run counts as failed: {why}"
    return replace(report, errors=max(report.errors, 1), output=(report.output + note).strip())


@runtime_checkable
class SourceAnalysis(Protocol):
    """Optional part of an adapter: reading sources so that tests must test the code.

    An adapter without it (a plugin written before it) keeps its model-written tests
    as they are and finds no vacuous tests.
    """

    def defined_names(self, source: str) -> set[str]:
        """The top-level names (functions, classes, bindings) ``source`` defines."""
        ...

    def imports_module(self, source: str, module: str) -> bool:
        """True when ``source`` imports the solution ``module`` (``solution``, ``pkg.mod``)."""
        ...

    def remove_definitions(self, source: str, names: Collection[str]) -> tuple[str, list[str]]:
        """``source`` without its top-level definitions of ``names``; and the names removed."""
        ...

    def remove_self_checks(self, source: str) -> tuple[str, int]:
        """``source`` without the top-level checks that run on import; and how many."""
        ...

    def stub_source(self, source: str) -> str | None:
        """``source`` with every function body raising; ``None``: cannot (or no function)."""
        ...

    def passing_tests(self, result: ExecResult, reports: dict[str, str]) -> set[str] | None:
        """The ids of the tests one run shows passing; ``None`` when it names none."""
        ...


def source_analysis(adapter: object) -> SourceAnalysis | None:
    """``adapter`` as a :class:`SourceAnalysis` when it implements one, else ``None``."""
    return adapter if isinstance(adapter, SourceAnalysis) else None


@runtime_checkable
class ImportLinking(Protocol):
    """Optional part of an adapter: linking a test file to the solution it forgot to import.

    Without it, a model-written test file that never imports the solution is asked for
    again (see :func:`~codeagent.nodes.tester.write_tests`).
    """

    def import_used(
        self, source: str, module: str, names: Collection[str]
    ) -> tuple[str, list[str]]:
        """``source`` importing from ``module`` those of ``names`` it uses but never
        defines or imports; and the names imported (``[]``: unchanged)."""
        ...


def import_linking(adapter: object) -> ImportLinking | None:
    """``adapter`` as an :class:`ImportLinking` when it implements one, else ``None``."""
    return adapter if isinstance(adapter, ImportLinking) else None


def missing_members(adapter: object) -> list[str]:
    """The :class:`LanguageAdapter` attributes and methods ``adapter`` lacks (``[]``: none)."""
    members = set(LanguageAdapter.__annotations__) | {
        name
        for name, value in vars(LanguageAdapter).items()
        if callable(value) and not name.startswith("_")
    }
    return sorted(name for name in members if not hasattr(adapter, name))
