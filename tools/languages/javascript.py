"""JavaScript: Node's built-in test runner (``node --test``) and its built-in coverage.

Works on Node 18.15+ (Debian bookworm ships 18.19+) and Node 20+: both accept
``--experimental-test-coverage`` and ``--test-reporter``/``--test-reporter-destination``.
The run writes a TAP report file, named per run (parsed for counts and the
coverage table), and prints the human-readable ``spec`` report for the model to
read. When the TAP file is missing, the counts shown are taken from the output
(TAP ``# pass 3`` or spec ``ℹ pass 3`` summary lines, whichever the Node version
printed), but the run counts as failed (:func:`~codeagent.tools.languages.base.cross_checked`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Sequence
from pathlib import PurePosixPath

from codeagent.tools.languages import javascript_source
from codeagent.tools.languages.base import ProbeProgram, TestReport, cross_checked
from codeagent.tools.languages.python import _trim
from codeagent.tools.sandbox.protocol import ExecResult

__all__ = ["JavaScriptAdapter", "failure_details", "parse_counts", "parse_coverage"]

_TAP = ".codeagent-report-{run_id}.tap"  # named per run: see LanguageAdapter.test_command
_TEST_NAME = re.compile(r"(^test[-_.].*|.*[._-]test\.[cm]?js$|^test\.[cm]?js$)")
_COUNT = re.compile(
    r"^[ \t]*[#ℹ][ \t]*(tests|pass|fail|cancelled|skipped|todo)[ \t]+(\d+)[ \t]*$", re.M
)
_COVER_ROW = re.compile(r"^[ \t]*#[ \t]*([^|\s][^|\n]*?)[ \t]*\|[ \t]*([\d.]+)[ \t]*\|", re.M)
_TEST_CALL = re.compile(r"\b(?:test|it)(?:\.only|\.skip|\.todo)?\s*\(")
_CHECKS = ("assert", "expect(", "const ", "import ", "require(")
_FAILED = re.compile(r"^([ \t]*)✖ (.+?)(?: \([\d.]+m?s\))?[ \t]*$")
_FIELD = re.compile(r"^[ \t]*(actual|expected|operator): (.+?),?[ \t]*$")
_EQUAL = {"strictEqual", "deepStrictEqual", "equal", "deepEqual"}
_CRASH = re.compile(r"^\w*Error(?: \[\w+\])?: .+$")  # e.g. a test file that does not load


class JavaScriptAdapter:
    """Language adapter for JavaScript (CommonJS modules, ``node --test``)."""

    name = "javascript"
    source_suffix = ".js"
    fence = "javascript"
    # The task's examples are Python expressions (True, None, tuples), not JavaScript.
    runs_examples = False
    harness_files: frozenset[str] = frozenset()

    def default_source_path(self) -> str:
        return "solution.js"

    def default_test_path(self) -> str:
        return "solution.test.js"

    def examples_test_path(self) -> str:
        return "examples.test.js"

    def is_test_file(self, path: str) -> bool:
        posix = PurePosixPath(path)
        return bool(_TEST_NAME.match(posix.name)) or "test" in posix.parts[:-1]

    def test_command(self, run_id: str) -> list[str]:
        return [
            "node",
            "--test",
            "--experimental-test-coverage",
            "--test-reporter=tap",
            f"--test-reporter-destination={_TAP.format(run_id=run_id)}",
            "--test-reporter=spec",
            "--test-reporter-destination=stdout",
        ]

    def report_paths(self, run_id: str) -> list[str]:
        return [_TAP.format(run_id=run_id)]

    def syntax_error(self, path: str, source: str) -> str | None:
        return None  # parsing JavaScript needs node; the test run reports it

    def defined_names(self, source: str) -> set[str]:
        return javascript_source.defined_names(source)

    def imports_module(self, source: str, module: str) -> bool:
        return javascript_source.imports_module(source, module)

    def remove_definitions(self, source: str, names: Collection[str]) -> tuple[str, list[str]]:
        return javascript_source.remove_definitions(source, names)

    def remove_self_checks(self, source: str) -> tuple[str, int]:
        return javascript_source.remove_self_checks(source)

    def stub_source(self, source: str) -> str | None:
        return None  # not supported: see codeagent.tools.languages.javascript_source

    def passing_tests(self, result: ExecResult, reports: dict[str, str]) -> set[str] | None:
        return None  # no stub run (stub_source), so no per-test comparison

    def has_tests(self, source: str) -> bool:
        return bool(_TEST_CALL.search(source))

    def test_checks(self, source: str) -> list[str]:
        return [line.strip() for line in source.splitlines() if line.strip().startswith(_CHECKS)]

    def failure_details(self, output: str, limit: int = 6) -> list[str]:
        return failure_details(output, limit)

    def probe_program(
        self, module: str, calls: Sequence[str], per_call_s: float = 1.0
    ) -> ProbeProgram | None:
        return None  # the probe calls are Python expressions

    def parse_report(self, result: ExecResult, reports: dict[str, str]) -> TestReport:
        tap = next((t for p, t in reports.items() if p.endswith(".tap")), None)
        passed, failed, errors = parse_counts(tap or result.stdout)
        total = passed + failed + errors
        if total == 0 and (result.timed_out or result.exit_code != 0):
            errors = 1  # nothing ran: a crash, a syntax error or the time limit
        output = (result.stdout + ("\n" + result.stderr if result.stderr.strip() else "")).strip()
        if result.timed_out:
            output += "\n[codeagent] the test run was killed: it exceeded its time limit"
        report = TestReport(
            passed=passed,
            failed=failed,
            errors=errors,
            total=total,
            coverage=parse_coverage(tap or result.stdout, self.is_test_file),
            output=_trim(output),
            exit_code=result.exit_code,
            timed_out=result.timed_out,
        )
        return cross_checked(report, result, reported=tap is not None)

    def examples_to_tests(
        self,
        examples: list[tuple[str, str]],
        module: str,
        *,
        entry_points: Collection[str] = (),
    ) -> str:
        lines = [
            "// Tests made from the examples in the task text.",
            "const test = require('node:test');",
            "const assert = require('node:assert');",
            f"Object.assign(globalThis, require({json.dumps('./' + module)}));",
        ]
        for i, (expr, expected) in enumerate(examples, start=1):
            lines += [
                "",
                f"test('example {i}', () => {{",
                f"  assert.deepStrictEqual({expr}, {expected});",
                "});",
            ]
        return "\n".join(lines) + "\n"


def parse_counts(text: str) -> tuple[int, int, int]:
    """``(passed, failed, errors)`` from a TAP report or the runner's output.

    Cancelled tests (e.g. a file that failed to load) count as errors. The last
    summary in the text wins (reporters print one at the end).
    """
    counts: dict[str, int] = {}
    for key, value in _COUNT.findall(text):
        counts[key] = int(value)
    return counts.get("pass", 0), counts.get("fail", 0), counts.get("cancelled", 0)


def parse_coverage(text: str, is_test_file: Callable[[str], bool] | None = None) -> float | None:
    """Mean line coverage (percent) of the non-test files in Node's coverage table.

    Args:
        text: TAP report or output holding the ``start of coverage report`` table.
        is_test_file: A ``path -> bool`` predicate for files to leave out.

    Returns:
        The mean of the per-file ``line %`` values, or ``None`` when there is no table.
    """
    start = text.find("start of coverage report")
    if start < 0:
        return None
    table = text[start : text.find("end of coverage report", start)]
    values = []
    for name, line_pct in _COVER_ROW.findall(table):
        if name in ("file", "all files") or set(name) <= {"-"}:
            continue
        if is_test_file is not None and is_test_file(name):
            continue
        values.append(float(line_pct))
    return round(sum(values) / len(values), 1) if values else None


def failure_details(output: str, limit: int = 6) -> list[str]:
    """One line per failed test in ``node --test``'s spec output: the check and what happened.

    A failed equality reads ``adds: expected 3, but got -1``; anything else reads
    ``name: TypeError: Cannot read properties of undefined (reading 'x')``; a test
    file that did not load reads as the error node printed before it. Suites (a
    ``✖`` line without an error of its own) and the summary repeating the failures
    at the end are left out.
    """
    details: list[str] = []
    lines = output.splitlines()
    crash = ""
    for i, line in enumerate(lines):
        if line.strip() == "✖ failing tests:":
            break  # the summary repeats every failure
        if _CRASH.match(line):
            crash = line
        head = _FAILED.match(line)
        if head is None:
            continue
        block = _error_block(lines, i + 1, len(head.group(1)))
        if block[:1] == ["'test failed'"] and crash:
            block = [crash]
        detail = _failure(head.group(2), block)
        if detail is not None:
            details.append(detail)
            if len(details) == limit:
                break
    return details


def _error_block(lines: list[str], start: int, indent: int) -> list[str]:
    """The lines indented under a ``✖`` line: its error, message and stack."""
    block = []
    for line in lines[start:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line.strip())
    return block


def _failure(name: str, block: list[str]) -> str | None:
    text = [line for line in block if line]
    if not text or text[0].startswith(("✖", "✔", "▶", "﹣")):
        return None  # a suite: its failed tests have their own lines
    fields: dict[str, str] = {}
    for line in text:
        if found := _FIELD.match(line):
            fields[found.group(1)] = found.group(2)
    if fields.get("operator", "").strip("'") in _EQUAL and "actual" in fields:
        return f"{name}: expected {fields.get('expected', '?')}, but got {fields['actual']}"
    message = re.sub(r" \[[A-Za-z_]+\]:", ":", text[0], count=1)
    if message.endswith(":") and len(text) > 1 and not text[1].startswith("at "):
        message = f"{message} {text[1]}"
    return f"{name}: {message}"
