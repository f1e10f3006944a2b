"""Line coverage of one module under a repository's pytest suite: the command and its report (pure).

``coverage run --include=MODULE -m pytest ...`` measures only the module under test;
the repository's own coverage configuration is not read (``--rcfile=/dev/null``), so
its ``source``/``omit`` settings or branch mode cannot change what is measured. The
data file and the JSON report are named per run, like the JUnit report, so that code
under test cannot forge them ahead.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from codeagent.tools.errors import ConfigError
from codeagent.tools.repo.outcomes import instrumented_command, runner_of

__all__ = [
    "LineCoverage",
    "coverage_command",
    "coverage_path",
    "parse_coverage",
    "require_pytest",
]


@dataclass(frozen=True)
class LineCoverage:
    """How much of one module a test run executed.

    Attributes:
        percent: Statements executed, in percent (one decimal).
        covered: Statements executed.
        statements: Statements in the module (0 when no line of it ran: coverage.py
            then reports no data at all).
        executed: The executed lines, 1-based, sorted.
        missing: The statements' lines that did not run, 1-based, sorted.
    """

    percent: float = 0.0
    covered: int = 0
    statements: int = 0
    executed: tuple[int, ...] = field(default_factory=tuple)
    missing: tuple[int, ...] = field(default_factory=tuple)

    @property
    def full(self) -> bool:
        """Every statement of the module ran: there is nothing left to cover."""
        return self.statements > 0 and self.covered >= self.statements

    def to_state(self) -> dict[str, Any]:
        """JSON-ready, for the job state."""
        return {
            "percent": self.percent,
            "covered": self.covered,
            "statements": self.statements,
            "executed": list(self.executed),
            "missing": list(self.missing),
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> LineCoverage:
        """The inverse of :meth:`to_state`."""
        return cls(
            percent=float(data.get("percent", 0.0)),
            covered=int(data.get("covered", 0)),
            statements=int(data.get("statements", 0)),
            executed=tuple(int(n) for n in data.get("executed") or ()),
            missing=tuple(int(n) for n in data.get("missing") or ()),
        )


def coverage_path(run_id: str) -> str:
    """The workspace-relative JSON coverage report of run ``run_id``."""
    return f".codeagent-repo-coverage-{run_id}.json"


def coverage_command(
    command: Sequence[str], run_id: str, module: str, targets: Sequence[str] = ()
) -> list[str]:
    """The shell command that runs the pytest ``command`` under coverage of ``module``.

    The pytest arguments (the repository's own, then the per-run JUnit report of
    :func:`~codeagent.tools.repo.outcomes.instrumented_command`, then ``targets``) are kept;
    what ran pytest (``python3 -m``, ``pytest``, ``uv run``) becomes
    ``python3 -m coverage run ... -m pytest``. The command's exit status is pytest's.

    Raises:
        ConfigError: When ``command`` is not a pytest command.
    """
    require_pytest(command)
    argv = instrumented_command(command, run_id, targets)
    names = [PurePosixPath(word).name for word in argv]
    at = next(i for i, name in enumerate(names) if name in ("pytest", "py.test"))
    data = f".codeagent-repo-coverage-{run_id}.data"
    common = ["--rcfile=/dev/null", f"--data-file={data}"]
    run = ["python3", "-m", "coverage", "run", *common, f"--include={module}"]
    report = ["python3", "-m", "coverage", "json", *common, "-q", "-o", coverage_path(run_id)]
    script = (
        f"{shlex.join([*run, '-m', 'pytest', *argv[at + 1 :]])}; rc=$?; "
        f"{shlex.join(report)} >/dev/null 2>&1; exit $rc"
    )
    return ["sh", "-c", script]


def require_pytest(command: Sequence[str]) -> None:
    """Nothing when ``command`` runs pytest.

    Raises:
        ConfigError: When it does not: line coverage is measured with pytest.
    """
    if runner_of(command) != "pytest":
        raise ConfigError(
            f"line coverage is measured with pytest; the test command `{shlex.join(command)}`"
            " is not a pytest command",
            hint="pass --test-cmd 'python3 -m pytest' (with the arguments the suite needs)",
        )


def parse_coverage(text: str, module: str) -> LineCoverage | None:
    """The coverage of ``module`` from a ``coverage json`` report.

    An empty ``text`` (coverage.py writes no report when no line of the module ran)
    is no coverage; ``None`` when ``text`` is not such a report.
    """
    if not text.strip():
        return LineCoverage()
    try:
        data = json.loads(text)
        files: dict[str, Any] = data["files"]
        totals = data["totals"]
        entry: dict[str, Any] = files.get(module) or next(
            (v for k, v in files.items() if k.endswith("/" + module) or module.endswith("/" + k)),
            {},
        )
        return LineCoverage(
            percent=round(float(totals["percent_covered"]), 1),
            covered=int(totals["covered_lines"]),
            statements=int(totals["num_statements"]),
            executed=tuple(sorted(int(n) for n in entry.get("executed_lines", []))),
            missing=tuple(sorted(int(n) for n in entry.get("missing_lines", []))),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
