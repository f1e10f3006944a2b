"""The JavaScript adapter: pure parsing, and real ``node --test`` runs (local and docker)."""

from __future__ import annotations

from typing import Any

import pytest

from codeagent.tools.languages import get_adapter, language_names
from codeagent.tools.languages.javascript import JavaScriptAdapter, parse_counts, parse_coverage
from codeagent.tools.sandbox import LocalSandbox, SandboxLimits
from codeagent.tools.sandbox.docker import DockerSandbox
from codeagent.tools.sandbox.protocol import ExecResult
from tests.docker_support import require_docker
from tests.host_support import require_node

TAP = """TAP version 13
# Subtest: adds
ok 1 - adds
# Subtest: fails
not ok 2 - fails
1..2
# tests 2
# suites 0
# pass 1
# fail 1
# cancelled 0
# skipped 0
# todo 0
# duration_ms 158.4
# start of coverage report
# -----------------------------------------------------------------
# file             | line % | branch % | funcs % | uncovered lines
# -----------------------------------------------------------------
# lib/util.js      |  50.00 |   100.00 |   50.00 | 3-4
# solution.js      |  66.67 |   100.00 |   50.00 | 2
# solution.test.js | 100.00 |   100.00 |  100.00 |
# -----------------------------------------------------------------
# all files        |  87.50 |   100.00 |   75.00 |
# -----------------------------------------------------------------
# end of coverage report
"""
SPEC_FAILURES = """\
▶ math
  ✖ adds (2.8ms)
    AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:

    -1 !== 3

        at TestContext.<anonymous> (/w/solution.test.js:5:29) {
      generatedMessage: true,
      code: 'ERR_ASSERTION',
      actual: -1,
      expected: 3,
      operator: 'strictEqual'
    }

  ✖ crash (0.3ms)
    TypeError [Error]: Cannot read properties of undefined (reading 'x')
        at first (/w/solution.js:2:35)
  ✖ truthy (0.5ms)
    AssertionError [ERR_ASSERTION]: The expression evaluated to a falsy value:

      assert.ok(add(2, 2) === 1)

        at TestContext.<anonymous> (/w/solution.test.js:7:31)
✖ math (29.0ms)
/w/broken.test.js:1
syntax error here(
       ^^^^^

SyntaxError: Unexpected identifier 'error'
    at wrapSafe (node:internal/modules/cjs/loader:1464:18)
✖ /w/broken.test.js (224.1ms)
  'test failed'

ℹ tests 4
ℹ fail 4

✖ failing tests:

✖ adds (2.8ms)
  AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:
"""
SPEC_SUMMARY = "ℹ tests 3\nℹ suites 0\nℹ pass 3\nℹ fail 0\nℹ cancelled 0\n"


def test_registered() -> None:
    assert "javascript" in language_names()
    assert isinstance(get_adapter("javascript"), JavaScriptAdapter)


def test_parse_counts_from_tap_and_spec() -> None:
    assert parse_counts(TAP) == (1, 1, 0)
    assert parse_counts(SPEC_SUMMARY) == (3, 0, 0)
    assert parse_counts("") == (0, 0, 0)


def test_parse_coverage_skips_test_files_and_totals() -> None:
    adapter = JavaScriptAdapter()
    assert parse_coverage(TAP, adapter.is_test_file) == 58.3  # mean of 50.00 and 66.67
    assert parse_coverage("no table here") is None


def test_test_file_naming() -> None:
    adapter = JavaScriptAdapter()
    for name in ("solution.test.js", "a_test.js", "test-x.js", "test.mjs", "test/helpers.js"):
        assert adapter.is_test_file(name), name
    assert not adapter.is_test_file("solution.js")
    assert not adapter.is_test_file("contest.js")


def test_parse_report_nothing_ran_is_an_error() -> None:
    result = ExecResult(
        exit_code=1, stdout="SyntaxError: Unexpected token", stderr="", duration_s=0.1
    )
    report = JavaScriptAdapter().parse_report(result, {})
    assert report.errors == 1 and not report.ok


def test_examples_to_tests() -> None:
    text = JavaScriptAdapter().examples_to_tests([("add(1, 2)", "3")], "solution")
    assert 'require("./solution")' in text
    assert "assert.deepStrictEqual(add(1, 2), 3);" in text


def test_failure_details_from_the_spec_report() -> None:
    adapter = JavaScriptAdapter()

    assert adapter.failure_details(SPEC_FAILURES) == [
        "adds: expected 3, but got -1",
        "crash: TypeError: Cannot read properties of undefined (reading 'x')",
        "truthy: AssertionError: The expression evaluated to a falsy value: "
        "assert.ok(add(2, 2) === 1)",
        "/w/broken.test.js: SyntaxError: Unexpected identifier 'error'",
    ]
    assert len(adapter.failure_details(SPEC_FAILURES, limit=2)) == 2
    assert adapter.failure_details(SPEC_SUMMARY) == []


def test_has_tests_finds_test_calls() -> None:
    adapter = JavaScriptAdapter()

    assert adapter.has_tests("const test = require('node:test');\ntest('adds', () => {});\n")
    assert adapter.has_tests("describe('math', () => {\n  it('adds', () => {});\n});\n")
    assert not adapter.has_tests("const { add } = require('./solution');\nfunction attest() {}\n")


def test_test_checks_and_what_it_cannot_run() -> None:
    adapter = JavaScriptAdapter()
    source = (
        "const assert = require('node:assert');\n"
        "test('adds', () => {\n  const x = add(1, 2);\n  assert.strictEqual(x, 3);\n});\n"
    )

    assert adapter.test_checks(source) == [
        "const assert = require('node:assert');",
        "const x = add(1, 2);",
        "assert.strictEqual(x, 3);",
    ]
    assert not adapter.runs_examples  # the task's examples are Python expressions
    assert adapter.probe_program("solution", ["add(1, 2)"]) is None


FILES = {
    "solution.js": "function add(a, b) { return a + b; }\n"
    "function unused(x) { if (x) { return 1; } return 2; }\n"
    "module.exports = { add, unused };\n",
    "solution.test.js": "const test = require('node:test');\n"
    "const assert = require('node:assert');\n"
    "const { add } = require('./solution');\n"
    "test('adds', () => { assert.strictEqual(add(1, 2), 3); });\n"
    "test('fails', () => { assert.strictEqual(add(1, 2), 4); });\n",
}


@pytest.mark.usefixtures("bwrap")
def test_real_run_in_the_local_sandbox() -> None:
    require_node()
    adapter = get_adapter("javascript")
    with LocalSandbox() as sandbox:
        sandbox.write_files(FILES)
        result = sandbox.run(adapter.test_command("r1"), timeout_s=60)
        report = adapter.parse_report(result, sandbox.read_files(adapter.report_paths("r1")))
    assert (report.passed, report.failed, report.total) == (1, 1, 2), report
    assert adapter.failure_details(report.output) == ["fails: expected 4, but got 3"]


@pytest.mark.docker
def test_real_run_in_docker() -> None:
    client, image = require_docker()
    adapter: Any = get_adapter("javascript")
    files = {
        **FILES,
        "examples.test.js": adapter.examples_to_tests([("add(2, 2)", "4")], "solution"),
    }
    with DockerSandbox(SandboxLimits(), image, client=client) as sandbox:
        sandbox.write_files(files)
        result = sandbox.run(adapter.test_command("r1"), timeout_s=60)
        report = adapter.parse_report(result, sandbox.read_files(adapter.report_paths("r1")))
    assert (report.passed, report.failed, report.errors, report.total) == (2, 1, 0, 3), report
    assert report.coverage is not None and 50 <= report.coverage < 100
    assert not report.ok and "fails" in report.output
    assert adapter.failure_details(report.output) == ["fails: expected 4, but got 3"]


SHADOWING_JS = """\
const test = require('node:test');
const assert = require('node:assert');
const { isPalindrome } = require('./solution');

function isPalindrome(s) {
  if (s === '') {
    return true;
  }
  return s === [...s].reverse().join('');
}
const helper = (x) => x;

test('palindrome', () => { assert.ok(isPalindrome('aba')); });
"""


def test_javascript_reads_definitions_and_imports_by_convention() -> None:
    js = JavaScriptAdapter()

    assert js.defined_names(SHADOWING_JS) == {"isPalindrome", "helper"}  # not the require
    assert js.imports_module(SHADOWING_JS, "solution")
    assert js.imports_module("import { f } from './solution.js';\n", "solution")
    assert not js.imports_module("const s = require('./solutions');\n", "solution")
    text, removed = js.remove_definitions(SHADOWING_JS, {"isPalindrome"})
    assert removed == ["isPalindrome"]
    assert "reverse" not in text and "return true" not in text
    assert "require('./solution')" in text and "test('palindrome'" in text
    assert js.stub_source("function f() { return 1; }\n") is None  # documented: no stubs
    checks = "function f() {\n  assert(1);\n}\nconsole.assert(f() === 1);\nassert.equal(f(), 1);\n"
    assert js.remove_self_checks(checks) == ("function f() {\n  assert(1);\n}\n", 2)
