"""Python: pytest for tests, coverage.py for line coverage, a Python script for probes."""

from __future__ import annotations

import ast
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Sequence
from pathlib import PurePosixPath

from codeagent.tools.languages import python_source
from codeagent.tools.languages.base import PROBE_MARK, ProbeProgram, TestReport, cross_checked
from codeagent.tools.sandbox.protocol import ExecResult

__all__ = ["EXAMPLE_WATCH", "PROBE_PATH", "PythonAdapter", "failure_details", "probe_script"]

PROBE_PATH = "codeagent_probe.py"
_JUNIT = ".codeagent-junit-{run_id}.xml"  # named per run: see LanguageAdapter.test_command
_COVERAGE = ".codeagent-coverage-{run_id}.json"
_OUTPUT_LIMIT = 6000
_TEST_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+test", re.M)
_CHECKS = ("assert", "from ", "import ", "with pytest.raises")


EXAMPLE_WATCH = '''
import pytest as _pytest


class _Broken:
    """Skips an example that fails on its own, not in the code: its expected value cannot
    be computed, or it calls a name nobody defines while the code defines the function
    it tests (a helper the task text uses but never gives)."""

    def __init__(self, part, called=(), task_names=()):
        self.part = part
        self.called = set(called)
        self.task_names = set(task_names)

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if error is None or isinstance(error, AssertionError):
            return False
        while tb.tb_next is not None:
            tb = tb.tb_next
        if tb.tb_frame.f_code.co_filename != __file__:
            return False  # raised inside the code under test: the code's failure
        if self.part == "example":
            missing = getattr(error, "name", None) if isinstance(error, NameError) else None
            provided = {n for n in self.called - {missing} if n in globals()}
            if missing is None or missing in self.task_names or not provided:
                return False  # e.g. the code does not define what the example tests
        _pytest.skip(
            f"broken example: its {self.part} fails before the code is to blame "
            f"({type(error).__name__}: {error})"
        )
'''
"""The watch every example test runs under (see :meth:`PythonAdapter.examples_to_tests`)."""


_TEST_SCRIPT = """\
import contextlib, io, os, sys
os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
from coverage.cmdline import main
junit, report = sys.argv[1:3]  # (running pytest replaces sys.argv)
rc = main([
    "run", "--source=.",
    "--omit=test_*.py,*/test_*.py,*_test.py,conftest.py,*/conftest.py",
    "-m", "pytest", "-q", "-rs", "--tb=short", "-p", "no:cacheprovider",
    "--junitxml=" + junit, "-o", "junit_family=xunit1",
])
sys.stdout.flush()
sys.stderr.flush()
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        main(["json", "-q", "-o", report])
    except BaseException:
        pass
sys.exit(rc)
"""
"""What :meth:`PythonAdapter.test_command` runs: the tests under coverage (exit status:
pytest's), then coverage's JSON report (quietly, whatever it finds)."""


class PythonAdapter:
    """Language adapter for Python (pytest + coverage)."""

    name = "python"
    source_suffix = ".py"
    harness_files = frozenset({PROBE_PATH})
    fence = "python"
    runs_examples = True

    def default_source_path(self) -> str:
        return "solution.py"

    def default_test_path(self) -> str:
        return "test_solution.py"

    def examples_test_path(self) -> str:
        return "test_examples.py"

    def is_test_file(self, path: str) -> bool:
        name = PurePosixPath(path).name
        return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"

    def test_command(self, run_id: str) -> list[str]:
        junit, coverage = self.report_paths(run_id)
        # No pytest plugins but pytest's own: every backend runs the tests as the sandbox
        # image does (pytest and coverage), and the local backend, on codeagent's own
        # interpreter, does not spend seconds importing the plugins installed with it.
        # One interpreter runs the tests under coverage, then writes the JSON report: a
        # plain ``python3 -c`` command, which the docker sandbox's resident runner runs on
        # an interpreter that has pytest and coverage imported already.
        return ["python3", "-c", _TEST_SCRIPT, junit, coverage]

    def report_paths(self, run_id: str) -> list[str]:
        return [_JUNIT.format(run_id=run_id), _COVERAGE.format(run_id=run_id)]

    def parse_report(self, result: ExecResult, reports: dict[str, str]) -> TestReport:
        junit = next((t for p, t in reports.items() if p.endswith(".xml")), None)
        coverage = next((t for p, t in reports.items() if p.endswith(".json")), "")
        passed, failed, errors, total = _parse_junit(junit or "")
        if result.timed_out and total == 0:
            errors = max(errors, 1)
        elif total == 0 and result.exit_code not in (0, 5):
            errors = max(errors, 1)  # collection error, syntax error, crash
        output = (result.stdout + ("\n" + result.stderr if result.stderr.strip() else "")).strip()
        if result.timed_out:
            output += "\n[codeagent] the test run was killed: it exceeded its time limit"
        report = TestReport(
            passed=passed,
            failed=failed,
            errors=errors,
            total=total,
            coverage=_parse_coverage(coverage),
            output=_trim(output),
            exit_code=result.exit_code,
            timed_out=result.timed_out,
        )
        return cross_checked(report, result, reported=junit is not None)

    def examples_to_tests(
        self,
        examples: list[tuple[str, str]],
        module: str,
        *,
        entry_points: Collection[str] = (),
    ) -> str:
        """One test per example, run as written, its expected value computed once first.

        An example that fails on its own is a broken test, skipped with the reason and
        never counted against the code (:data:`EXAMPLE_WATCH`): its expected value cannot
        be computed, or it calls a name nobody defines (not one of ``entry_points``, the
        task's own functions) while the code defines the other functions it calls.
        """
        used = sorted(python_source.module_names_used([e for pair in examples for e in pair]))
        task_names = sorted(entry_points)
        lines = [
            '"""Tests made from the examples in the task text."""',
            "",
            *(f"import {name}" for name in used),
            f"from {module} import *  # noqa: F403",
            EXAMPLE_WATCH,
        ]
        for i, (expr, expected) in enumerate(examples, start=1):
            called = sorted(python_source.called_names(expr))
            lines += [
                "",
                f"def test_example_{i}():",
                '    with _Broken("expected value"):  # first: its own error is not the code\'s',
                f"        ({expected})",
                f'    with _Broken("example", {called!r}, {task_names!r}):',
                f"        assert ({expr}) == ({expected})",
                "",
            ]
        return "\n".join(lines).rstrip() + "\n"

    def has_tests(self, source: str) -> bool:
        return bool(_TEST_DEF.search(source))

    def test_checks(self, source: str) -> list[str]:
        return [line.strip() for line in source.splitlines() if line.strip().startswith(_CHECKS)]

    def failure_details(self, output: str, limit: int = 6) -> list[str]:
        return failure_details(output, limit)

    def probe_program(
        self, module: str, calls: Sequence[str], per_call_s: float = 1.0
    ) -> ProbeProgram | None:
        script = probe_script(module, calls, per_call_s)
        return ProbeProgram({PROBE_PATH: script}, ("python3", PROBE_PATH), len(calls))

    def defined_names(self, source: str) -> set[str]:
        return python_source.defined_names(source)

    def imports_module(self, source: str, module: str) -> bool:
        return python_source.imports_module(source, module)

    def remove_definitions(self, source: str, names: Collection[str]) -> tuple[str, list[str]]:
        return python_source.remove_definitions(source, names)

    def import_used(
        self, source: str, module: str, names: Collection[str]
    ) -> tuple[str, list[str]]:
        return python_source.import_used(source, module, names)

    def remove_self_checks(self, source: str) -> tuple[str, int]:
        return python_source.remove_self_checks(source)

    def stub_source(self, source: str) -> str | None:
        return python_source.stub_source(source)

    def passing_tests(self, result: ExecResult, reports: dict[str, str]) -> set[str] | None:
        junit = next((text for path, text in reports.items() if path.endswith(".xml")), "")
        return python_source.junit_passing(junit) if junit.strip() else None

    def syntax_error(self, path: str, source: str) -> str | None:
        if not path.endswith(self.source_suffix):
            return None
        try:
            ast.parse(source, filename=path)
        except SyntaxError as exc:
            return f"{path}:{exc.lineno}: {exc.msg}"
        except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, deep nesting
            return f"{path}: {exc}"
        return None


_SECTION = re.compile(r"^_{3,} (\S+) _{3,}$")
_JUNIT_LINE = re.compile(r"^-+ generated xml file: .*$\n?", re.MULTILINE)
_DURATION = re.compile(r"(?<=[a-z]) in \d+(?:\.\d+)?s(?: \([0-9:]+\))?(?=(?: =+)?$)", re.MULTILINE)
_GOT = re.compile(r"^(?:AssertionError: )?assert (.+?) == ")


def failure_details(output: str, limit: int = 6) -> list[str]:
    """One line per failed test in pytest ``--tb=short`` output: the check and what happened.

    A failed equality reads ``f(2) should be 5, but it returned -1``; an
    exception reads ``f([1]) raised IndexError: list index out of range``.
    """
    details: list[str] = []
    for name, body in _sections(output):
        check = next((b.strip() for b in body if b.strip().startswith("assert ")), "")
        errors = [b[1:].strip() for b in body if b.startswith("E ")]
        if not errors:
            continue
        compare = _comparison(check)
        got = next(filter(None, (_GOT.match(e) for e in errors)), None)
        if compare and got:
            details.append(
                f"{name}: {compare[0]} should be {compare[1]}, but it returned {got.group(1)}"
            )
        elif compare:
            details.append(f"{name}: {compare[0]} raised {errors[-1]}")
        else:
            details.append(f"{name}: {check or 'the test'} failed: {errors[-1]}")
        if len(details) == limit:
            break
    return details


def _comparison(check: str) -> tuple[str, str] | None:
    """``(call, expected)`` of an ``assert call == expected`` line, as written; else ``None``."""
    try:
        tree = ast.parse(check.strip())
    except (SyntaxError, ValueError, RecursionError):
        return None
    statement = tree.body[0] if len(tree.body) == 1 else None
    if not isinstance(statement, ast.Assert) or not isinstance(statement.test, ast.Compare):
        return None
    test = statement.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return None
    text = check.strip()
    left = ast.get_source_segment(text, test.left)
    right = ast.get_source_segment(text, test.comparators[0])
    return (left, right) if left and right else None


def _sections(output: str) -> list[tuple[str, list[str]]]:
    sections: list[tuple[str, list[str]]] = []
    for line in output.splitlines():
        match = _SECTION.match(line.strip())
        if match:
            sections.append((match.group(1), []))
        elif line.startswith("=") and sections:
            break  # the short summary after the last failure
        elif sections:
            sections[-1][1].append(line)
    return sections


def probe_script(module: str, calls: Sequence[str], per_call_s: float = 1.0) -> str:
    """A script that runs ``calls`` against ``module`` and prints one line of outcomes.

    The line is :data:`~codeagent.tools.languages.base.PROBE_MARK` and a JSON list: per
    call the result's ``repr`` (floats rounded to 6 places, dict items and set members
    in a fixed order, as ``==`` ignores theirs; cut at 300 characters),
    ``!ErrorName`` when the call raised, or ``!Timeout`` after ``per_call_s`` seconds.
    """
    return _PROBE_SCRIPT.format(
        module=module, calls=json.dumps(list(calls)), per_call_s=per_call_s, mark=PROBE_MARK
    )


def _parse_junit(text: str) -> tuple[int, int, int, int]:
    if not text.strip():
        return 0, 0, 0, 0
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return 0, 0, 1, 0
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = failed = errors = skipped = 0
    for suite in suites:
        total += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0))
        errors += int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    ran = total - skipped
    return ran - failed - errors, failed, errors, ran


def _parse_coverage(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        data = json.loads(text)
        return round(float(data["totals"]["percent_covered"]), 1)
    except (ValueError, KeyError, TypeError):
        return None


def _trim(text: str) -> str:
    """Keep the head and the tail, where pytest puts the failures and the summary.

    The lines that differ from run to run for the same code (the per-run report's
    name, the duration) are dropped: the output goes into the coder's prompt, and a
    seeded model should see the same prompt for the same failure.
    """
    text = _JUNIT_LINE.sub("", text)
    text = _DURATION.sub("", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    if len(text) <= _OUTPUT_LIMIT:
        return text
    head = text[: _OUTPUT_LIMIT // 3]
    tail = text[-(2 * _OUTPUT_LIMIT) // 3 :]
    return f"{head}\n[... {len(text) - len(head) - len(tail)} characters cut ...]\n{tail}"


_PROBE_SCRIPT = """\
import importlib, json, signal, sys

class _Timeout(Exception):
    pass

def _alarm(signum, frame):
    raise _Timeout()

class _Text:
    def __init__(self, text):
        self.text = text
    def __repr__(self):
        return self.text

def _round(value):
    # one text per value: floats rounded, dicts and sets in a fixed order (two right
    # answers may build them in different orders; equality ignores it)
    if isinstance(value, float):
        return round(value, 6)
    if type(value) in (list, tuple):
        return type(value)(_round(v) for v in value)
    if type(value) is dict:
        return dict(sorted(((k, _round(v)) for k, v in value.items()), key=lambda kv: repr(kv[0])))
    if type(value) in (set, frozenset):
        items = ", ".join(sorted(repr(_round(v)) for v in value))
        return _Text(type(value).__name__ + "({{" + items + "}})")
    return value

signal.signal(signal.SIGALRM, _alarm)
sys.setrecursionlimit(3000)
names = vars(importlib.import_module("{module}"))

outcomes = []
for source in {calls}:
    signal.setitimer(signal.ITIMER_REAL, {per_call_s})
    try:
        outcome = repr(_round(eval(source, dict(names))))[:300]
    except _Timeout:
        outcome = "!Timeout"
    except BaseException as exc:
        outcome = "!" + type(exc).__name__
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    outcomes.append(outcome)
print()
print("{mark}" + json.dumps(outcomes))
"""
