"""Run chosen tests of a repository in a sandbox and read each one's outcome.

Two runners, picked by a task's ``test_cmd`` (or, without one, by the tree):

- ``pytest`` (``python -m pytest ...`` or ``pytest ...``): ids are pytest node ids,
  ``tests/test_x.py::test_y`` or ``tests/test_x.py::TestC::test_y[param]``. A small
  plugin keeps only the chosen tests and records every test's outcome (a test
  passes when its setup, call and teardown all pass). Installed pytest plugins are
  not auto-loaded (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``).
- ``node`` (``node --test ...``): ids are ``FILE::NAME``, FILE relative to the
  repository root and NAME a top-level test's (or ``describe``'s) name; it passes
  when it and all its subtests pass. Whole files run; a custom reporter records
  the outcomes. Works on Node 18.19+ (the docker image's) and Node 20+.

The outcomes go to a file named with a fresh random token, from a plugin or
reporter that deletes its own source when loaded: the tests cannot cheaply print
or write a fake verdict. Code under test runs in the same processes, so this
closes the cheap fakes; it is not a boundary (the sandbox is).
"""

from __future__ import annotations

import json
import secrets
import shlex
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from codeagent.tools.errors import ConfigError
from codeagent.tools.sandbox import Sandbox

__all__ = [
    "NodeRunner",
    "PytestRunner",
    "Runner",
    "Selection",
    "TestRun",
    "detect_runner",
    "id_file",
    "run_tests",
    "runner_named",
]

_RESULTS = ".codeagent-results-{token}.json"


@dataclass(frozen=True)
class Selection:
    """What to run: these ids, and every test in these files."""

    ids: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    def targets(self, present: Collection[str]) -> list[str]:
        """The test files to hand the runner: those of the ids and files that exist."""
        wanted = {id_file(i) for i in self.ids} | set(self.files)
        return sorted(f for f in wanted if f in present)


@dataclass(frozen=True)
class TestRun:
    """Each test's outcome (``passed``, ``failed``, ``skipped``) by id, as the runner saw it.

    Attributes:
        outcomes: The tests that ran; an id absent here did not run (``missing``).
        detail: The tail of the output when the run went wrong (no results, setup).
        timed_out: The run was killed at its time limit.
    """

    outcomes: dict[str, str] = field(default_factory=dict)
    detail: str = ""
    timed_out: bool = False

    def outcome(self, test_id: str) -> str:
        """``passed``, ``failed``, ``skipped`` or ``missing``."""
        return self.outcomes.get(test_id, "missing")

    def not_passed(self, ids: Collection[str]) -> list[str]:
        """The ids among ``ids`` that did not pass, in order."""
        return [i for i in ids if self.outcome(i) != "passed"]

    def in_files(self, files: Collection[str]) -> list[str]:
        """The ids that ran in ``files``, sorted."""
        return sorted(i for i in self.outcomes if id_file(i) in files)


class Runner(Protocol):
    """How one test framework is run and read."""

    @property
    def name(self) -> str:
        """``pytest`` or ``node``."""
        ...

    @property
    def language(self) -> str:
        """The language adapter's name for its test files (``python``, ``javascript``)."""
        ...

    def program(self, selection: Selection, token: str) -> dict[str, str]:
        """Files the run needs besides the repository (a plugin, a reporter)."""
        ...

    def command(self, targets: list[str], token: str) -> list[str]:
        """The argv that runs ``targets`` (test files)."""
        ...


@dataclass(frozen=True)
class PytestRunner:
    """``python3 -m pytest`` with a recording plugin; ``extra`` arguments go after it."""

    extra: tuple[str, ...] = ()
    name: str = "pytest"
    language: str = "python"

    def program(self, selection: Selection, token: str) -> dict[str, str]:
        source = _PLUGIN.format(
            out=_RESULTS.format(token=token),
            token=token,
            ids=sorted(selection.ids),
            files=sorted(selection.files),
        )
        return {f"_codeagent_ids_{token}.py": source}

    def command(self, targets: list[str], token: str) -> list[str]:
        plugin = ["-p", f"_codeagent_ids_{token}", "-p", "no:cacheprovider"]
        plugin.append("--continue-on-collection-errors")  # one broken module fails its own ids
        # installed plugins are not loaded: the docker image has none, and the local
        # backend sees the host's environment, whose plugins would slow runs (by
        # seconds) and make them differ from one machine to the next
        env = ["env", "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1"]
        return [*env, "python3", "-m", "pytest", "-q", *plugin, *self.extra, *targets]


@dataclass(frozen=True)
class NodeRunner:
    """``node --test`` with a recording reporter; ``extra`` arguments go after ``--test``."""

    extra: tuple[str, ...] = ()
    name: str = "node"
    language: str = "javascript"

    def program(self, selection: Selection, token: str) -> dict[str, str]:
        source = _REPORTER.replace("@OUT@", _RESULTS.format(token=token))
        return {f".codeagent-reporter-{token}.mjs": source.replace("@TOKEN@", token)}

    def command(self, targets: list[str], token: str) -> list[str]:
        reporter = [
            f"--test-reporter=./.codeagent-reporter-{token}.mjs",
            "--test-reporter-destination=stdout",
        ]
        return ["node", "--test", *self.extra, *reporter, *targets]


def runner_named(test_cmd: str | None) -> Runner | None:
    """The runner a ``test_cmd`` asks for (None when there is none: see :func:`detect_runner`).

    Raises:
        ConfigError: For a command neither runner understands.
    """
    if test_cmd is None or not test_cmd.strip():
        return None
    try:
        argv = shlex.split(test_cmd)
    except ValueError as exc:
        raise ConfigError(f"test_cmd is not a command line: {exc}") from None
    if argv[:1] == ["pytest"]:
        return PytestRunner(tuple(argv[1:]))
    if len(argv) >= 3 and argv[0] in ("python", "python3") and argv[1:3] == ["-m", "pytest"]:
        return PytestRunner(tuple(argv[3:]))
    if argv[:2] == ["node", "--test"]:
        return NodeRunner(tuple(argv[2:]))
    raise ConfigError(
        f"test_cmd {test_cmd!r} is not one the scorer can read test by test",
        hint="use 'python -m pytest [args]', 'pytest [args]' or 'node --test [args]'",
    )


def detect_runner(files: Collection[str]) -> Runner:
    """``node`` for a JavaScript package (a package.json and no Python project files)."""
    python = {"pyproject.toml", "setup.py", "setup.cfg", "pytest.ini", "tox.ini"}
    if "package.json" in files and not python & set(files):
        return NodeRunner()
    return PytestRunner()


def id_file(test_id: str) -> str:
    """The file part of a test id (``tests/test_x.py::test_y`` -> ``tests/test_x.py``)."""
    return test_id.split("::", 1)[0]


def run_tests(
    runner: Runner,
    files: Mapping[str, str],
    selection: Selection,
    open_sandbox: Callable[[], Sandbox],
    *,
    timeout_s: float,
    setup: str | None = None,
) -> TestRun:
    """Run ``selection`` over the repository ``files`` in a fresh sandbox.

    Raises:
        SandboxError: When the sandbox itself fails (not when tests fail).
    """
    token = secrets.token_hex(12)
    targets = selection.targets(files)
    if not targets:
        return TestRun(detail="none of the tests' files exist")
    results = _RESULTS.format(token=token)
    with open_sandbox() as sandbox:
        sandbox.write_files({**files, **runner.program(selection, token)})
        if setup:
            prepared = sandbox.run(["sh", "-c", setup], timeout_s=timeout_s)
            if not prepared.ok:
                return TestRun(detail=f"setup failed: {_tail(prepared.stderr or prepared.stdout)}")
        ran = sandbox.run(runner.command(targets, token), timeout_s=timeout_s)
        report = sandbox.read_files([results]).get(results)
    outcomes = _outcomes(report, token)
    if outcomes is None:
        detail = "timed out" if ran.timed_out else _tail(ran.stdout + "\n" + ran.stderr)
        return TestRun(detail=f"no test results: {detail}", timed_out=ran.timed_out)
    detail = "" if ran.ok else _tail(ran.stdout + "\n" + ran.stderr)
    return TestRun(outcomes, detail, ran.timed_out)


def _outcomes(report: str | None, token: str) -> dict[str, str] | None:
    if report is None:
        return None
    try:
        data = json.loads(report)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("token") != token:
        return None
    results = data.get("results")
    if not isinstance(results, dict):
        return None
    return {str(k): str(v) for k, v in results.items()}


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-3:])[:300] or "no output"


_PLUGIN = """\
import json as _json
import os as _os

_os.unlink(__file__)  # the token below is not left on disk for the tests to read
_OUT, _TOKEN = {out!r}, {token!r}
_IDS, _FILES = set({ids!r}), set({files!r})
_RESULTS = {{}}


def pytest_collection_modifyitems(session, config, items):
    keep = [i for i in items if i.nodeid in _IDS or i.nodeid.split("::")[0] in _FILES]
    dropped = [i for i in items if i not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_runtest_logreport(report):
    seen = _RESULTS.get(report.nodeid)
    if report.failed:
        _RESULTS[report.nodeid] = "failed"
    elif seen == "failed":
        return
    elif report.skipped:
        _RESULTS[report.nodeid] = "skipped"
    elif report.when == "call":
        _RESULTS[report.nodeid] = "passed"
    elif seen is None:
        _RESULTS[report.nodeid] = "incomplete"


def pytest_sessionfinish(session):
    with open(_OUT, "w", encoding="utf-8") as handle:
        _json.dump({{"token": _TOKEN, "results": _RESULTS}}, handle)
"""

_REPORTER = """\
import { unlinkSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

try { unlinkSync(fileURLToPath(import.meta.url)); } catch {}

export default async function* reporter(source) {
  const results = {};
  for await (const event of source) {
    if ((event.type !== 'test:pass' && event.type !== 'test:fail') || event.data.nesting !== 0) {
      continue;
    }
    const file = event.data.file ? relative(process.cwd(), event.data.file) : '';
    const id = `${file.split('\\\\').join('/')}::${event.data.name}`;
    let outcome = event.type === 'test:fail' ? 'failed' : 'passed';
    if (outcome === 'passed' && (event.data.skip || event.data.todo)) {
      outcome = 'skipped';
    }
    if (results[id] !== 'failed') {
      results[id] = outcome;
    }
  }
  writeFileSync('@OUT@', JSON.stringify({ token: '@TOKEN@', results }));
}
"""
