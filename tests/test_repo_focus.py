"""The repo coder's ``focus`` format: the agent picks the function, the model rewrites it."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeagent.graphs import run_job
from codeagent.tools.repo.edits import EditError, apply_edits, code_blocks
from codeagent.tools.repo.focus import focus_edits, focus_targets, pointed_test_source, source_of
from codeagent.tools.sandbox import LocalSandbox
from codeagent.tools.testing import Rule, ScriptedChatModel
from tests.repo_support import (
    APPROVE,
    CALC,
    TASK,
    make_calc_repo,
    make_repo,
    untouched,
    write_repo_workflow,
)

MONEY = '''"""Money."""


def helper(x):
    return x


class Money:
    def __init__(self, cents):
        self.cents = cents

    def allocate(self, ratios):
        total = sum(ratios)
        return [self.cents * r // total for r in ratios]

    def parse(self, text):
        return int(text)
'''
TERMS = """import datetime


def end_of_month(day):
    return datetime.date(day.year, day.month + 1, 1)


def due_date(day):
    return end_of_month(day)
"""
FILES = {
    "src/shop/money.py": MONEY,
    "src/shop/terms.py": TERMS,
    "tests/test_money.py": "def test_allocate():\n    assert Money(100).allocate([1, 1, 1])\n",
}


def _labels(found: list) -> list[str]:
    return [t.label for t in found]


def test_a_name_the_task_writes_as_code_picks_that_method_not_the_test() -> None:
    found = focus_targets(FILES, "`Money(100).allocate([1, 1, 1])` loses a cent; fix it")

    assert found[0].label == "src/shop/money.py::Money.allocate"
    assert found[0].short_name == "allocate"
    assert all(not label.startswith("tests/") for label in _labels(found))


def test_the_innermost_traceback_frame_beats_a_name_in_the_task() -> None:
    output = (
        "tests/test_terms.py:5: in test_december\n    due_date(d)\n"
        "src/shop/terms.py:9: in due_date\n    return end_of_month(day)\n"
        "src/shop/terms.py:5: ValueError\n"
    )
    found = focus_targets(FILES, "`due_date` crashes in December", run_output=output)

    assert found[0].label == "src/shop/terms.py::end_of_month"
    # a Python traceback and node's stack frames are read the same way
    node = "    at end_of_month (file:///workspace/src/shop/terms.py:5:12)\n"
    assert focus_targets(FILES, "it crashes", run_output=node)[0].symbol.name == "end_of_month"
    python = 'File "/workspace/src/shop/money.py", line 13, in allocate\n'
    assert focus_targets(FILES, "it crashes", run_output=python)[0].symbol.name == (
        "Money.allocate"
    )


def test_what_the_failing_test_calls_and_the_read_step_asked_count() -> None:
    called = focus_targets(FILES, "a test fails", tests_source="Money(1).parse('3')")
    assert called[0].label == "src/shop/money.py::Money.parse"
    asked = focus_targets(FILES, "it is wrong", asked=["src/shop/terms.py::due_date"])
    assert asked[0].label == "src/shop/terms.py::due_date"
    # nothing points anywhere: no target (the coder says so rather than guessing)
    assert focus_targets(FILES, "it is wrong") == []


def test_what_a_failing_test_calls_on_the_line_a_stack_points_at_counts() -> None:
    # node's TAP shows no source: the test's line the stack names says what it calls
    files = {
        **FILES,
        "test/terms.test.js": "test('december', () => {\n  assert.equal(due_date(d), x);\n});\n",
    }
    stack = "  stack: |-\n    TestContext.<anonymous> (/workspace/test/terms.test.js:2:10)\n"

    found = focus_targets(files, "the test `december` fails", run_output=stack)

    assert found[0].label == "src/shop/terms.py::due_date"
    assert focus_targets(files, "the test `december` fails") == []


def test_the_test_lines_a_stack_points_at_are_quoted() -> None:
    files = {"test/a.test.js": "".join(f"line {n}\n" for n in range(1, 31))}
    stack = "location: '/workspace/test/a.test.js:3:1'\n (/workspace/test/a.test.js:5:10)\n"

    assert pointed_test_source(stack, files) == (
        "// test/a.test.js, lines 3-5\nline 3\nline 4\nline 5"
    )
    far = "(/workspace/test/a.test.js:2:1)\n(/workspace/test/a.test.js:29:1)\n"
    assert pointed_test_source(far, files, most=4).splitlines()[0] == (
        "// test/a.test.js, lines 2-5"
    )
    # a line outside the file, or a source file, is no test line
    assert pointed_test_source("(/workspace/test/a.test.js:99:1) src/x.js:2", files) == ""


def test_the_task_words_a_function_uses_break_a_tie() -> None:
    # `allocate` and `parse` are both named; only parse's code uses "int"
    found = focus_targets(FILES, "`allocate` and `parse` are wrong: the int comes back")

    assert _labels(found)[:2] == [
        "src/shop/money.py::Money.parse",
        "src/shop/money.py::Money.allocate",
    ]


def test_a_bare_method_comes_back_into_its_class_and_only_it_changes() -> None:
    target = focus_targets(FILES, "`allocate` loses a cent")[0]
    assert source_of(FILES, target).lstrip().startswith("def allocate(self, ratios):")
    fixed = (
        "Here it is:\n```python\n# src/shop/money.py (lines 12-14 of 20)\n"
        "def allocate(self, ratios):\n    total = sum(ratios)\n"
        "    parts = [self.cents * r // total for r in ratios]\n"
        "    for i in range(self.cents - sum(parts)):\n        parts[i] += 1\n"
        "    return parts\n```\n"
    )
    changed = apply_edits(FILES, focus_edits(fixed, target, FILES))

    assert list(changed) == ["src/shop/money.py"]
    new = changed["src/shop/money.py"]
    assert "        for i in range(self.cents - sum(parts)):\n            parts[i] += 1\n" in new
    assert new.split("    def allocate")[0] == MONEY.split("    def allocate")[0]
    assert new.endswith("    def parse(self, text):\n        return int(text)\n")


def test_a_block_of_tests_is_skipped_and_an_answer_without_a_function_is_refused() -> None:
    target = focus_targets(FILES, "`allocate` loses a cent")[0]
    tests_first = (
        "```python\ndef test_allocate():\n    assert True\n```\n"
        "```python\ndef allocate(self, ratios):\n    return [1]\n```\n"
    )
    (edit,) = focus_edits(tests_first, target, FILES)
    assert edit.path == "src/shop/money.py" and "return [1]" in edit.code
    assert edit.symbol == "Money.allocate"

    with pytest.raises(EditError, match=r"def allocate\(self, ratios\)"):
        focus_edits("```python\nparts[0] += 1\n```\n", target, FILES)
    with pytest.raises(EditError, match="no fenced code block"):
        focus_edits("I would add one cent to the first part.", target, FILES)


def test_code_blocks_drop_a_label_line_and_a_reopened_fence() -> None:
    text = "```python\nsrc/a.py::f\n```python\ndef f():\n    return 1\n```\n"
    assert code_blocks(text) == ["def f():\n    return 1\n"]
    assert code_blocks("```js\n// src/a.js\nfunction f() {}\n```") == ["function f() {}\n"]


def _focus_model(*code: str) -> ScriptedChatModel:
    return ScriptedChatModel(
        rules=[
            Rule(name="context", match="You are the navigator", reply='{"open": []}'),
            Rule(name="code", match="You say what must change", replies=list(code)),
            Rule(name="review", match="You are the reviewer", reply=APPROVE),
        ]
    )


def test_a_repo_job_in_focus_format_fixes_the_function_the_failing_test_points_at(
    tmp_path: Path,
) -> None:
    repo = make_calc_repo(tmp_path)
    doc = '    """The sum of a and b."""\n'
    echo = f"```python\ndef add(a, b):\n{doc}    return a - b\n```\n"  # the code shown
    wrong = (
        f"```python\ndef add(a, b):\n{doc}    return a * b\n\n\ndef extra():\n    return 0\n```\n"
    )
    fix = f"```python\ndef add(a, b):\n{doc}    return a + b\n```\n"
    model = _focus_model(echo, wrong, wrong, fix)
    workflow = write_repo_workflow(tmp_path, model)
    data = workflow.read_text().replace("edit_format: symbol", "edit_format: focus")
    workflow.write_text(data)
    assert "edit_format: focus" in data

    result = run_job(
        TASK, workflow=workflow, repo=repo, chat_model=model, sandbox_factory=LocalSandbox
    )

    assert result.status == "success", (result.error, result.test_report)
    # every attempt rewrites the snapshot's add: the failed attempt's extra() is gone
    assert result.files == {"calc.py": CALC.replace("a - b\n\n\ndef sub", "a + b\n\n\ndef sub")}
    prompts = [p for p in model.prompts if "You say what must change" in p]
    assert len(prompts) == 4
    # the coder was shown add, the named test and its failure, not the whole file
    assert "The code to change: `add` in calc.py:" in prompts[0]
    assert "def test_add():\n    assert add(2, 3) == 5" in prompts[0]
    assert "def sub(a, b)" in prompts[0] and "return a - b\n```" in prompts[0]
    # the unchanged echo was asked again, saying so, on the first prompt: the echo is not
    # shown back (a small model copies what it sees)
    assert "is the same as the code shown" in prompts[1]
    assert prompts[1].count("return a - b") == prompts[0].count("return a - b")
    # the retry shows the failed version and the failure
    assert "Your last version was wrong:" in prompts[2] and "return a * b" in prompts[2]
    assert "test_add (named by the task) does not pass" in prompts[2]
    # the same wrong version again is not run again
    assert "That is your last version of `add` again" in prompts[3]
    untouched(repo)


CASE_JS = """'use strict';

function words(text) {
  return text.split(' ');
}

function camelCase(text) {
  return words(text)
    .map((w, i) => (i === 0 ? w.toLowerCase() : w[0].toUpperCase() + w.slice(1).toLowerCase()))
    .join('');
}

module.exports = { words, camelCase };
"""
CASE_TEST_JS = """const test = require('node:test');
const assert = require('node:assert');
const { words, camelCase } = require('../src/case.js');

test('camelCase joins words', () => {
  assert.strictEqual(camelCase('hello world'), 'helloWorld');
});

test('splits at underscores too', () => {
  assert.deepStrictEqual(words('a_b c'), ['a', 'b', 'c']);
});
"""


@pytest.mark.usefixtures("bwrap", "node")
def test_a_js_test_the_task_names_by_its_name_is_a_target_and_its_failure_is_shown(
    tmp_path: Path,
) -> None:
    files = {
        "src/case.js": CASE_JS,
        "test/case.test.js": CASE_TEST_JS,
        "package.json": '{"name": "case", "scripts": {"test": "node --test"}}\n',
    }
    repo = make_repo(tmp_path / "case", files)
    # passes every test but the named one: not a fix
    camel = "```js\nfunction words(text) {\n  return text.split(/ +/);\n}\n```\n"
    fix = "```js\nfunction words(text) {\n  return text.split(/[ _]+/);\n}\n```\n"
    model = _focus_model(camel, fix)
    workflow = write_repo_workflow(tmp_path, model)
    workflow.write_text(workflow.read_text().replace("edit_format: symbol", "edit_format: focus"))
    task = 'The test "splits at underscores too" in test/case.test.js fails; fix it.'

    result = run_job(
        task, workflow=workflow, repo=repo, chat_model=model, sandbox_factory=LocalSandbox
    )

    assert result.status == "success", (result.error, result.test_report)
    assert "split(/[ _]+/)" in result.files["src/case.js"]
    prompts = [p for p in model.prompts if "You say what must change" in p]
    assert len(prompts) == 2
    # the stack's test line calls words: that is the function shown (the task's words
    # alone point at camelCase), with the named test's failure and nothing of the rest
    assert "The code to change: `words` in src/case.js:" in prompts[0]
    assert "not ok 2 - splits at underscores too" in prompts[0]
    assert "camelCase joins words" not in prompts[0]
    # node's output shows no source: the test lines its stack points at are shown
    assert "// test/case.test.js, lines 9-10\ntest('splits at underscores too'" in prompts[0]
    assert "assert.deepStrictEqual(words('a_b c'), ['a', 'b', 'c']);" in prompts[0]
    # the first answer broke nothing, but the named test still failed: asked again
    assert "splits at underscores too (named by the task) does not pass" in prompts[1]


@pytest.mark.usefixtures("bwrap")
def test_a_pytest_test_named_by_its_function_name_alone_is_a_target(tmp_path: Path) -> None:
    repo = make_calc_repo(tmp_path)
    doc = '    """The sum of a and b."""\n'
    fix = f"```python\ndef add(a, b):\n{doc}    return a + b\n```\n"
    model = _focus_model(fix)
    workflow = write_repo_workflow(tmp_path, model)
    workflow.write_text(workflow.read_text().replace("edit_format: symbol", "edit_format: focus"))

    result = run_job(
        "test_add fails; fix it.",
        workflow=workflow,
        repo=repo,
        chat_model=model,
        sandbox_factory=LocalSandbox,
    )

    assert result.status == "success", (result.error, result.test_report)
    (prompt,) = [p for p in model.prompts if "You say what must change" in p]
    # the test and its failure are shown as for a node id the task writes out
    assert "# tests/test_calc.py::test_add\ndef test_add():" in prompt
    assert "The tests the task names fail now:\ntests/test_calc.py::test_add" in prompt
