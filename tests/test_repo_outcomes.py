"""Per-test outcomes of a repository's test run, and the verdict against the baseline."""

from __future__ import annotations

from codeagent.tools.repo.outcomes import (
    instrumented_command,
    judge,
    junit_outcomes,
    junit_path,
    runner_of,
    tap_failures,
    tap_outcomes,
    whole_run_id,
)

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5">
<testcase classname="tests.test_cli" file="tests/test_cli.py" line="3" name="test_json"/>
<testcase classname="tests.test_cli.TestReport" file="tests/test_cli.py" line="9"
  name="test_rows[2-3]"><failure message="assert 1 == 2">boom</failure></testcase>
<testcase classname="tests.test_cli" file="tests/test_cli.py" line="20" name="test_later">
  <skipped message="todo"/></testcase>
<testcase classname="" name="tests.test_broken"><error message="collection failure"/></testcase>
<testcase classname="src.pkg.mod" file="src/pkg/mod.py" line="1" name="test_inline"/>
</testsuite></testsuites>"""

TAP = """TAP version 13
# Subtest: words
    # Subtest: splits on spaces
    ok 1 - splits on spaces
    # Subtest: keeps case
    not ok 2 - keeps case
    1..2
not ok 1 - words
ok 2 - top level
ok 3 - later # SKIP not yet
1..3
"""


def test_junit_reports_give_pytest_node_ids_back() -> None:
    assert junit_outcomes(JUNIT) == {
        "tests/test_cli.py::test_json": "passed",
        "tests/test_cli.py::TestReport::test_rows[2-3]": "failed",
        "tests/test_cli.py::test_later": "skipped",
        "tests/test_broken.py": "error",
        "src/pkg/mod.py::test_inline": "passed",
    }
    assert junit_outcomes("not xml <") is None


def test_tap_output_gives_leaf_test_names() -> None:
    assert tap_outcomes(TAP) == {
        "words > splits on spaces": "passed",
        "words > keeps case": "failed",
        "top level": "passed",
        "later": "skipped",
    }


NODE_RUN = """TAP version 13
# Subtest: splits words at spaces
ok 1 - splits words at spaces
  ---
  duration_ms: 0.5
  ...
# Subtest: splits at the end of an acronym
not ok 2 - splits at the end of an acronym
  ---
  location: '/workspace/test/case.test.js:13:1'
  error: |-
    Expected values to be strictly deep-equal:

    + 'XMLHttp'
    - 'XML'
  stack: |-
    TestContext.<anonymous> (/workspace/test/case.test.js:14:10)
  ...
# Subtest: camelCase
ok 3 - camelCase
  ---
  duration_ms: 0.2
  ...
# Subtest: later
not ok 4 - later # TODO not yet
1..4
# tests 4
# pass 2
# fail 1
"""


def test_tap_failures_keep_the_failing_tests_blocks_and_the_summary() -> None:
    report = tap_failures(NODE_RUN)

    assert report.splitlines()[0] == "not ok 2 - splits at the end of an acronym"
    assert "+ 'XMLHttp'" in report and "case.test.js:14:10" in report
    assert report.splitlines()[-3:] == ["# tests 4", "# pass 2", "# fail 1"]
    # the passing tests and a TODO test are left out; no failure: nothing
    assert "camelCase" not in report and "later" not in report and "duration" not in report
    assert tap_failures(NODE_RUN.replace("not ok 2", "ok 2")) == ""


def test_the_command_gets_a_per_run_report_and_the_targets() -> None:
    argv = instrumented_command(["python", "-m", "pytest"], "r1", ["tests/test_a.py::test_b"])
    assert argv[:3] == ["python3", "-m", "pytest"]  # the sandboxes have python3 only
    assert f"--junitxml={junit_path('r1')}" in argv and argv[-1] == "tests/test_a.py::test_b"
    assert "junit_family=xunit1" in argv
    assert instrumented_command(["npm", "test"], "r1", ["x"]) == ["npm", "test"]  # runs all
    assert runner_of(["npm", "test", "--silent"]) == "node"
    assert runner_of(["node", "--test"]) == "node" and runner_of(["make", "test"]) == "other"
    assert whole_run_id(["make", "test"]) == "$ make test"


BASE = {"t::a": "passed", "t::b": "failed", "t::c": "passed", "t::d": "skipped"}


def test_a_test_that_passed_before_and_fails_now_is_a_regression() -> None:
    now = {"t::a": "failed", "t::b": "passed", "t::d": "skipped"}

    verdict = judge(BASE, now)

    assert verdict.regressions == ["t::a", "t::c"]  # t::c no longer runs at all
    assert not verdict.ok and not verdict.verified
    assert judge(BASE, now, full_run=False).regressions == ["t::a"]  # a targeted run


def test_targets_must_all_pass_and_match_a_test() -> None:
    now = {"t::a": "passed", "t::b": "passed", "t::c": "passed", "t::e[1]": "failed"}

    assert judge(BASE, now, targets=["t::b"]).verified
    assert judge(BASE, now, targets=["t::e"]).targets_failing == ["t::e"]  # parametrised
    assert judge(BASE, now, targets=["t::zzz"]).targets_failing == ["t::zzz"]  # no such test


def test_the_change_is_checked_by_a_new_test_or_a_fixed_one() -> None:
    fixed = {"t::a": "passed", "t::b": "passed", "t::c": "passed"}
    unchanged = {"t::a": "passed", "t::b": "failed", "t::c": "passed"}
    with_new = {**unchanged, "tests/test_new.py::test_x": "passed"}
    new_failing = {**unchanged, "tests/test_new.py::test_x": "failed"}

    assert judge(BASE, fixed).verified and judge(BASE, fixed).fixed == ["t::b"]
    assert judge(BASE, unchanged).ok and not judge(BASE, unchanged).verified
    assert judge(BASE, with_new, new_test_files=["tests/test_new.py"]).verified
    verdict = judge(BASE, new_failing, new_test_files=["tests/test_new.py"])
    assert not verdict.ok and verdict.new_failing == ["tests/test_new.py::test_x"]
