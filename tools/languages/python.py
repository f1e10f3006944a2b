"""Python: pytest for tests, coverage.py for line coverage."""

from __future__ import annotations

import ast
import json
import re
import xml.etree.ElementTree as ET
from pathlib import PurePosixPath

from codeagent.tools.languages.base import TestReport
from codeagent.tools.sandbox.protocol import ExecResult

__all__ = ["PythonAdapter"]

_JUNIT = ".codeagent-junit.xml"
_COVERAGE = ".codeagent-coverage.json"
_OUTPUT_LIMIT = 6000


class PythonAdapter:
    """Language adapter for Python (pytest + coverage)."""

    name = "python"
    source_suffix = ".py"
    fence = "python"

    def default_source_path(self) -> str:
        return "solution.py"

    def default_test_path(self) -> str:
        return "test_solution.py"

    def examples_test_path(self) -> str:
        return "test_examples.py"

    def is_test_file(self, path: str) -> bool:
        name = PurePosixPath(path).name
        return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"

    def test_command(self) -> list[str]:
        script = (
            "python3 -m coverage run --source=. "
            "--omit='test_*.py,*/test_*.py,*_test.py,conftest.py,*/conftest.py' "
            "-m pytest -q --tb=short -p no:cacheprovider "
            f"--junitxml={_JUNIT} -o junit_family=xunit1; rc=$?; "
            f"python3 -m coverage json -q -o {_COVERAGE} >/dev/null 2>&1; exit $rc"
        )
        return ["sh", "-c", script]

    def report_paths(self) -> list[str]:
        return [_JUNIT, _COVERAGE]

    def parse_report(self, result: ExecResult, reports: dict[str, str]) -> TestReport:
        passed, failed, errors, total = _parse_junit(reports.get(_JUNIT, ""))
        if result.timed_out and total == 0:
            errors = max(errors, 1)
        elif total == 0 and result.exit_code not in (0, 5):
            errors = max(errors, 1)  # collection error, syntax error, crash
        output = (result.stdout + ("\n" + result.stderr if result.stderr.strip() else "")).strip()
        if result.timed_out:
            output += "\n[codeagent] the test run was killed: it exceeded its time limit"
        return TestReport(
            passed=passed,
            failed=failed,
            errors=errors,
            total=total,
            coverage=_parse_coverage(reports.get(_COVERAGE, "")),
            output=_trim(output),
            exit_code=result.exit_code,
            timed_out=result.timed_out,
        )

    def examples_to_tests(self, examples: list[tuple[str, str]], module: str) -> str:
        lines = [
            '"""Tests made from the examples in the task text."""',
            "",
            f"from {module} import *  # noqa: F403",
            "",
        ]
        for i, (expr, expected) in enumerate(examples, start=1):
            lines += [
                "",
                f"def test_example_{i}():",
                f"    assert ({expr}) == ({expected})",
                "",
            ]
        return "\n".join(lines).rstrip() + "\n"

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
    """Keep the head and the tail, where pytest puts the failures and the summary."""
    text = re.sub(r"\n{3,}", "\n\n", text)
    if len(text) <= _OUTPUT_LIMIT:
        return text
    head = text[: _OUTPUT_LIMIT // 3]
    tail = text[-(2 * _OUTPUT_LIMIT) // 3 :]
    return f"{head}\n[... {len(text) - len(head) - len(tail)} characters cut ...]\n{tail}"
