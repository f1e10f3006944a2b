"""A third-party language in one file: POSIX shell, where a test is a ``test_*`` function.

Nothing in codeagent knows this language. The tests register it the way a plugin
package would in its ``pyproject.toml``::

    [project.entry-points."codeagent.languages"]
    shell = "tests.shell_language:ShellAdapter"
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from pathlib import PurePosixPath

from codeagent.tools.languages import ProbeProgram, TestReport
from codeagent.tools.sandbox import ExecResult

# Each test_* function of each test_*.sh file runs in a subshell that sourced its file;
# one line per test, the last line a test printed is why it failed.
_RUNNER = r"""
pass=0; fail=0
for file in test_*.sh; do
  [ -f "$file" ] || continue
  for name in $(grep -o '^test_[A-Za-z0-9_]*' "$file"); do
    if out=$( (. "./$file"; "$name") 2>&1 ); then
      pass=$((pass + 1)); echo "PASS $name"
    else
      fail=$((fail + 1)); echo "FAIL $name: $(printf '%s\n' "$out" | tail -n 1)"
    fi
  done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
"""
_FAIL = re.compile(r"^FAIL (\w+): (.*)$", re.M)
_TEST = re.compile(r"^test_\w+[ \t]*\(\)", re.M)


class ShellAdapter:
    """Language adapter for POSIX shell scripts tested by ``test_*`` shell functions."""

    name = "shell"
    source_suffix = ".sh"
    fence = "sh"
    runs_examples = False
    harness_files: frozenset[str] = frozenset()

    def default_source_path(self) -> str:
        return "solution.sh"

    def default_test_path(self) -> str:
        return "test_solution.sh"

    def examples_test_path(self) -> str:
        return "test_examples.sh"

    def is_test_file(self, path: str) -> bool:
        name = PurePosixPath(path).name
        return name.startswith("test_") and name.endswith(".sh")

    def test_command(self, run_id: str) -> list[str]:
        return ["sh", "-c", _RUNNER]

    def report_paths(self, run_id: str) -> list[str]:
        return []

    def parse_report(self, result: ExecResult, reports: dict[str, str]) -> TestReport:
        output = (result.stdout + "\n" + result.stderr).strip()
        passed = len(re.findall(r"^PASS ", result.stdout, re.M))
        failed = len(_FAIL.findall(result.stdout))
        errors = int(passed + failed == 0 and not result.ok)
        return TestReport(passed, failed, errors, passed + failed, None, output, result.exit_code)

    def examples_to_tests(
        self, examples: list[tuple[str, str]], module: str, *, entry_points: Collection[str] = ()
    ) -> str:
        return ""

    def syntax_error(self, path: str, source: str) -> str | None:
        return None

    def has_tests(self, source: str) -> bool:
        return bool(_TEST.search(source))

    def test_checks(self, source: str) -> list[str]:
        return [line.strip() for line in source.splitlines() if line.strip().startswith("[")]

    def failure_details(self, output: str, limit: int = 6) -> list[str]:
        return [f"{name}: {why}" for name, why in _FAIL.findall(output)][:limit]

    def probe_program(
        self, module: str, calls: Sequence[str], per_call_s: float = 1.0
    ) -> ProbeProgram | None:
        return None
