"""Line coverage of one module: the command (run for real) and its report."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from codeagent.tools.errors import ConfigError
from codeagent.tools.repo.line_coverage import (
    LineCoverage,
    coverage_command,
    coverage_path,
    parse_coverage,
)
from codeagent.tools.repo.outcomes import junit_outcomes, junit_path

MOD = "def sign(x):\n    if x < 0:\n        return -1\n    return 1\n"
TEST = "from pkg.mod import sign\n\n\ndef test_positive():\n    assert sign(3) == 1\n"
FAST = ["-p", "no:langsmith_plugin", "-p", "no:hypothesispytest"]  # plugins of this venv


def _script(argv: list[str]) -> str:
    assert argv[:2] == ["sh", "-c"] and len(argv) == 3
    return argv[2]


@pytest.mark.parametrize(
    ("command", "prefix"),
    [
        (["python", "-m", "pytest", "tests", "-x"], "-m pytest tests -x --junitxml="),
        (["pytest"], "-m pytest --junitxml="),
        ([".venv/bin/py.test", "-q"], "-m pytest -q --junitxml="),
        (["uv", "run", "pytest", "-k", "a b"], "-m pytest -k 'a b' --junitxml="),
    ],
)
def test_the_command_keeps_the_pytest_arguments(command: list[str], prefix: str) -> None:
    script = _script(coverage_command(command, "r1", "src/pkg/mod.py"))

    run, _, report = script.partition("; rc=$?; ")
    assert run.startswith(
        "python3 -m coverage run --rcfile=/dev/null --data-file=.codeagent-repo-coverage-r1.data"
        " --include=src/pkg/mod.py " + prefix + junit_path("r1")
    )
    assert report.startswith("python3 -m coverage json --rcfile=/dev/null")
    assert f"-o {coverage_path('r1')}" in report and report.endswith("exit $rc")


def test_a_command_that_is_not_pytest_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="not a pytest command") as caught:
        coverage_command(["make", "test"], "r1", "mod.py")
    assert caught.value.hint and "--test-cmd" in caught.value.hint


def test_the_command_measures_only_the_module(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("VALUE = 1\n")
    (tmp_path / "pkg" / "mod.py").write_text(MOD)
    (tmp_path / "test_mod.py").write_text(TEST)
    (tmp_path / ".coveragerc").write_text("[run]\nbranch = True\nomit = pkg/*\n")  # not read
    argv = coverage_command([sys.executable, "-m", "pytest", *FAST], "r2", "pkg/mod.py")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}

    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stdout + done.stderr
    outcomes = junit_outcomes((tmp_path / junit_path("r2")).read_text())
    assert outcomes == {"test_mod.py::test_positive": "passed"}
    report = (tmp_path / coverage_path("r2")).read_text()
    assert list(json.loads(report)["files"]) == ["pkg/mod.py"]
    coverage = parse_coverage(report, "pkg/mod.py")
    assert coverage == LineCoverage(
        percent=75.0, covered=3, statements=4, executed=(1, 2, 4), missing=(3,)
    )
    assert shlex.split(_script(argv))[0] == "python3"


def test_reading_reports() -> None:
    assert parse_coverage("", "m.py") == LineCoverage()  # no line of it ran: no report
    assert parse_coverage("not json", "m.py") is None
    assert parse_coverage('{"files": {}}', "m.py") is None
    full = LineCoverage(percent=100.0, covered=4, statements=4, executed=(1, 2, 3, 4))
    assert full.full and not LineCoverage().full
    assert LineCoverage.from_state(json.loads(json.dumps(full.to_state()))) == full
