"""Per-test outcomes of a repository's own test run, and the verdict against its baseline (pure).

A repo job is judged by the repository's tests, run before any edit (the baseline)
and after: it succeeds only when the tests the task names (and the tests the agent
wrote) pass and nothing that passed before fails. For pytest the outcomes come from
a JUnit report written under a per-run name (code under test cannot forge it ahead)
in the ``xunit1`` family, whose ``file`` attribute gives pytest node ids back; for
``node --test`` from its TAP output. Any other command is one check: its exit status.
"""

from __future__ import annotations

import re
import shlex
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

__all__ = [
    "Verdict",
    "instrumented_command",
    "judge",
    "junit_outcomes",
    "junit_path",
    "matches",
    "runner_of",
    "tap_failures",
    "tap_outcomes",
    "tests_of",
    "whole_run_id",
]

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
_BAD = (FAILED, ERROR)
_SUBTEST = re.compile(r"^(\s*)# Subtest: (.+)$")
_TAP_SUMMARY = re.compile(r"^# (?:tests|suites|pass|fail|cancelled|skipped|todo) \d+$")
_TAP = re.compile(r"^(\s*)(not ok|ok) \d+ - (.+?)(?:\s+#\s*(SKIP|TODO)\b.*)?$", re.IGNORECASE)


def junit_path(run_id: str) -> str:
    """The workspace-relative JUnit report of run ``run_id``."""
    return f".codeagent-repo-junit-{run_id}.xml"


def runner_of(command: Sequence[str]) -> str:
    """``pytest``, ``node`` (``node --test`` / ``npm test`` on a node package) or ``other``."""
    words = [PurePosixPath(w).name for w in command]
    if "pytest" in words or "py.test" in words:
        return "pytest"
    if ("node" in words and "--test" in command) or words[:2] == ["npm", "test"]:
        return "node"
    return "other"


def whole_run_id(command: Sequence[str]) -> str:
    """The one check a run of an ``other`` command is."""
    return f"$ {shlex.join(command)}"


def instrumented_command(
    command: Sequence[str], run_id: str, targets: Sequence[str] = ()
) -> list[str]:
    """``command`` with what lets the outcomes be read, and ``targets`` (pytest node ids).

    For pytest: a per-run JUnit report with file names (``xunit1``), no cache
    written into the repo, and the targets (none: the whole suite). Other runners
    get no targets (they run everything). ``python`` is run as ``python3``: the
    sandboxes have only that name, and READMEs say ``python -m pytest``.
    """
    command = ["python3", *command[1:]] if command[:1] == ["python"] else list(command)
    if runner_of(command) != "pytest":
        return command
    return [
        *command,
        f"--junitxml={junit_path(run_id)}",
        "-o",
        "junit_family=xunit1",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rfE",
        *targets,
    ]


def junit_outcomes(text: str) -> dict[str, str] | None:
    """pytest node id -> outcome, from an ``xunit1`` JUnit report; ``None``: unreadable."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    outcomes: dict[str, str] = {}
    for case in root.iter("testcase"):
        outcomes[_node_id(case)] = _outcome(case)
    return outcomes


def _node_id(case: ET.Element) -> str:
    name = case.get("name", "")
    classname = case.get("classname", "")
    file = case.get("file")
    if not file:  # a collection error: pytest names the module in ``name``
        return name if "/" in name or not name else name.replace(".", "/") + ".py"
    module = file.removesuffix(".py").replace("/", ".")
    inner = classname[len(module) + 1 :] if classname.startswith(module + ".") else ""
    parts = [file, *[p for p in inner.split(".") if p], name]
    return "::".join(parts)


def _outcome(case: ET.Element) -> str:
    tags = {child.tag for child in case}
    if "failure" in tags:
        return FAILED
    if "error" in tags:
        return ERROR
    if "skipped" in tags:
        return SKIPPED
    return PASSED


def tap_outcomes(output: str) -> dict[str, str]:
    """Test name -> outcome from TAP output (``node --test``); subtests named ``parent > child``.

    Node's TAP announces a subtest (``# Subtest: name``) before its result, and a
    parent's result line comes after its children's; only leaves are kept.
    """
    outcomes: dict[str, str] = {}
    open_tests: list[tuple[int, str]] = []  # (indent, name) of the announced subtests
    for line in output.splitlines():
        announced = _SUBTEST.match(line)
        if announced:
            indent = len(announced.group(1))
            open_tests = [t for t in open_tests if t[0] < indent]
            open_tests.append((indent, announced.group(2).strip()))
            continue
        found = _TAP.match(line)
        if not found:
            continue
        indent, status, name, directive = (
            len(found.group(1)),
            found.group(2),
            found.group(3).strip(),
            found.group(4),
        )
        parents = [n for i, n in open_tests if i < indent]
        open_tests = [t for t in open_tests if t[0] < indent]
        full = " > ".join([*parents, name])
        outcomes[full] = SKIPPED if directive else (PASSED if status.lower() == "ok" else FAILED)
    return {k: v for k, v in outcomes.items() if not any(o.startswith(k + " > ") for o in outcomes)}


def tap_failures(output: str) -> str:
    """What TAP output (``node --test``) says of its failing tests: each ``not ok`` line
    with the block under it (the error, expected and actual, the stack), then the
    summary's ``# tests`` / ``# pass`` / ``# fail`` lines; the passing tests' lines
    are left out. Empty when no test failed."""
    kept: list[str] = []
    inside: int | None = None  # the indent of the failing test whose block is being kept
    for line in output.splitlines():
        indent = len(line) - len(line.lstrip())
        if inside is not None and line.strip() and indent <= inside:
            inside = None
        found = _TAP.match(line)
        if found and found.group(2).lower() == "not ok" and not found.group(4):
            inside = len(found.group(1))
            kept.append(line)
        elif inside is not None:
            kept.append(line)
    if not kept:
        return ""
    summary = [line for line in output.splitlines() if _TAP_SUMMARY.match(line)]
    return "\n".join([*kept, *summary])


@dataclass(frozen=True)
class Verdict:
    """What a test run says about the change, compared with the baseline.

    Attributes:
        ok: The targets and the new tests pass and nothing that passed before fails.
        regressions: Tests that passed in the baseline and fail now (or no longer run).
        targets_failing: Targets (named by the task) that do not pass now, or match no test.
        new_failing: Tests in files the agent wrote or changed that do not pass.
        fixed: Tests that failed in the baseline and pass now.
        verified: Some test checks the change (a target passed, a new test passed, or a
            test failing in the baseline passes now); a run with none of these only
            shows that nothing broke.
        passed: Tests passing now.
        failed: Tests failing or erroring now.
    """

    ok: bool
    regressions: list[str] = field(default_factory=list)
    targets_failing: list[str] = field(default_factory=list)
    new_failing: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    verified: bool = False
    passed: int = 0
    failed: int = 0


def matches(test_id: str, target: str) -> bool:
    """``test_id`` is ``target`` or one of its tests (``target::...``, ``target[...]``)."""
    return (
        test_id == target or test_id.startswith(target + "::") or test_id.startswith(target + "[")
    )


def tests_of(test_ids: Iterable[str], files: Sequence[str]) -> list[str]:
    """The ids of ``test_ids`` that belong to one of ``files`` (``f`` or ``f::...``)."""
    return [t for t in test_ids if any(t == f or t.startswith(f + "::") for f in files)]


def judge(
    baseline: Mapping[str, str],
    now: Mapping[str, str],
    *,
    targets: Sequence[str] = (),
    new_test_files: Sequence[str] = (),
    full_run: bool = True,
) -> Verdict:
    """The verdict on ``now`` (id -> outcome) against ``baseline``.

    ``targets`` are test ids or files the task names: every test they match must pass,
    and each must match at least one. ``new_test_files`` are test files the agent
    wrote or changed: their tests must pass. With ``full_run`` a test of the baseline
    that no longer runs is a regression too (a deleted or broken test file).
    """
    regressions = sorted(
        t
        for t, before in baseline.items()
        if before == PASSED and (now.get(t) in _BAD or (full_run and t not in now))
    )
    targets_failing = []
    for target in targets:
        hits = [o for t, o in now.items() if matches(t, target)]
        if not hits or any(o != PASSED for o in hits):
            targets_failing.append(target)
    new = tests_of(now, new_test_files)
    new_failing = sorted(t for t in new if now[t] != PASSED)
    target_passed = bool(targets) and not targets_failing
    new_passed = any(now[t] == PASSED for t in new)
    fixed = sorted(t for t, before in baseline.items() if before in _BAD and now.get(t) == PASSED)
    ok = not regressions and not targets_failing and not new_failing
    return Verdict(
        ok=ok,
        regressions=regressions,
        targets_failing=targets_failing,
        new_failing=new_failing,
        fixed=fixed,
        verified=ok and (target_passed or new_passed or bool(fixed)),
        passed=sum(1 for o in now.values() if o == PASSED),
        failed=sum(1 for o in now.values() if o in _BAD),
    )
