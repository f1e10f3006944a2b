"""The tester's results cannot lie: tests must import the code, and vacuous tests do not count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from rich.console import Console

from codeagent.graphs import run_job
from codeagent.graphs.cli.render import format_tests, print_result
from codeagent.graphs.jobs.checkpoint import state_dir
from codeagent.graphs.jobs.records import load_record
from codeagent.graphs.jobs.results import RunResult
from codeagent.nodes.testfiles import screen_tests
from codeagent.tools.languages import PythonAdapter
from codeagent.tools.testing import Rule, ScriptedChatModel
from tests import scripts

PALINDROME_TASK = "Write is_palindrome(s) that says whether the string s reads the same backwards."
PLAN = json.dumps({"summary": "palindrome", "files": ["solution.py"], "steps": ["compare"]})
WRONG = "solution.py\n```python\ndef is_palindrome(s):\n    return True\n```\n"
RIGHT = "solution.py\n```python\ndef is_palindrome(s):\n    return s == s[::-1]\n```\n"
COPY = "def is_palindrome(s):\n    return s == s[::-1]\n\n\n"
CHECKS = (
    "def test_yes():\n    assert is_palindrome('aba')\n\n\n"
    "def test_no():\n    assert not is_palindrome('ab')\n"
)
SHADOWING = f"test_solution.py\n```python\nfrom solution import *\n\n\n{COPY}{CHECKS}```\n"
UNLINKED = f"test_solution.py\n```python\n{COPY}{CHECKS}```\n"
# tests of a name the code does not define: nothing to import, so asked again
ELSEWHERE = "test_solution.py\n```python\ndef test_yes():\n    assert palindrome('aba')\n```\n"
LINKED = f"test_solution.py\n```python\nfrom solution import is_palindrome\n\n\n{CHECKS}```\n"
REASK = "do not import the code under test"


def _model(
    tests: list[str], code: str = WRONG, reask: list[str] | None = None
) -> ScriptedChatModel:
    rules = [
        Rule(name="plan", match="You are the planner", reply=PLAN),
        Rule(name="reask", match=REASK, replies=reask or tests),
        Rule(name="fix", match="Your previous version", reply=code),
        Rule(name="code", match="You are the coder", reply=code),
        Rule(name="test", match="You are the tester", replies=tests),
        Rule(name="review", match="You are the reviewer", reply=scripts.APPROVE),
    ]
    return ScriptedChatModel(rules=rules)


@pytest.mark.usefixtures("bwrap")
def test_a_test_file_with_its_own_copy_of_the_code_tests_the_solution(tmp_path: Path) -> None:
    result = run_job(PALINDROME_TASK, chat_model=_model([SHADOWING]), out=tmp_path / "out")

    assert result.status == "failed"  # the wrong code is found out
    assert "return s == s[::-1]" not in result.tests["test_solution.py"]
    assert result.test_report is not None
    assert result.test_report["failed"] == 1
    assert any("removed its own copy of is_palindrome" in n for n in result.test_report["notes"])


@pytest.mark.usefixtures("bwrap")
def test_a_test_file_using_the_solution_without_importing_it_gets_the_import(
    tmp_path: Path,
) -> None:
    # its own copy of the function goes, the import is added: the tests run the solution
    wrong = _model([UNLINKED])
    result = run_job(PALINDROME_TASK, chat_model=wrong, out=tmp_path / "wrong")

    assert result.status == "failed"  # the wrong code is found out, not the copy tested
    assert not any(REASK in p for p in wrong.prompts)  # no model call to fix an import
    test_file = result.tests["test_solution.py"]
    assert test_file.startswith("from solution import is_palindrome\n")
    assert "return s == s[::-1]" not in test_file
    assert result.test_report is not None
    assert result.test_report["failed"] == 1
    assert any("added from solution import is_palindrome" in n for n in result.test_report["notes"])

    right = run_job(PALINDROME_TASK, chat_model=_model([UNLINKED], RIGHT), out=tmp_path / "ok")
    assert right.status == "success"
    assert right.test_report is not None
    assert (right.test_report["passed"], right.test_report["total"]) == (2, 2)


@pytest.mark.usefixtures("bwrap")
def test_a_test_file_not_importing_the_solution_is_asked_again_then_dropped(
    tmp_path: Path,
) -> None:
    model = _model([ELSEWHERE])
    result = run_job(PALINDROME_TASK, chat_model=model, out=tmp_path / "out")

    assert result.status == "failed"
    assert "test_solution.py" not in result.tests
    assert sum(REASK in p for p in model.prompts) == 1  # asked again once, with the reason
    assert result.test_report is not None
    assert result.test_report["total"] == 0
    assert any("test_solution.py dropped" in n for n in result.test_report["notes"])
    assert load_record(state_dir(), result.thread_id).tests["notes"]  # type: ignore[index]


@pytest.mark.usefixtures("bwrap")
def test_an_answer_asked_again_that_imports_the_solution_is_kept(tmp_path: Path) -> None:
    model = _model([ELSEWHERE], code=RIGHT, reask=[LINKED])
    result = run_job(PALINDROME_TASK, chat_model=model, out=tmp_path / "out")

    assert result.status == "success"
    assert "from solution import is_palindrome" in result.tests["test_solution.py"]
    assert result.test_report is not None
    assert (result.test_report["passed"], result.test_report["total"]) == (2, 2)


# cut off mid-list (the answer hit its token cap or was stopped looping): no complete test
CUT = (
    "test_solution.py\n```python\nimport pytest\nfrom solution import is_palindrome\n\n\n"
    '@pytest.mark.parametrize("s, expected", [\n    ("aba", True),\n    ("ab", False),\n'
    '    ("abcba", True),\n    ("abccba'
)
CUT_REASK = "so not one test in them can run"


@pytest.mark.usefixtures("bwrap")
def test_a_test_file_cut_off_before_its_first_test_is_asked_again(tmp_path: Path) -> None:
    model = _model([CUT], code=RIGHT, reask=[LINKED])
    model.rules[1] = Rule(name="reask", match=CUT_REASK, reply=LINKED)
    result = run_job(PALINDROME_TASK, chat_model=model, out=tmp_path / "out")

    assert result.status == "success"  # not a collection error blamed on right code
    reasks = [p for p in model.prompts if CUT_REASK in p]
    assert len(reasks) == 1
    assert "(test_solution.py:9: unterminated string literal" in reasks[0]
    assert "at most 10 checks" in reasks[0]
    assert not any(REASK in p for p in model.prompts)  # it did not fail to import the code
    assert result.test_report is not None
    assert (result.test_report["passed"], result.test_report["total"]) == (2, 2)


@pytest.mark.usefixtures("bwrap")
def test_a_test_file_cut_off_twice_is_dropped_with_a_note(tmp_path: Path) -> None:
    model = _model([CUT], code=RIGHT)
    model.rules[1] = Rule(name="reask", match=CUT_REASK, reply=CUT)
    result = run_job(PALINDROME_TASK, chat_model=model, out=tmp_path / "out")

    assert result.status == "failed"  # no test ran: nothing says the code is right
    assert sum(CUT_REASK in p for p in model.prompts) == 1
    assert "test_solution.py" not in result.tests
    assert result.test_report is not None
    assert result.test_report["total"] == 0
    dropped = "test_solution.py dropped: it does not parse (test_solution.py:9: unterminated"
    assert any(note.startswith(dropped) for note in result.test_report["notes"])


def test_the_reason_for_an_unparsed_test_file_says_how_the_answer_ended() -> None:
    from codeagent.nodes.tester import unparsed_reason

    errors = ["test_a.py:9: '[' was never closed", "test_b.py:3: invalid syntax"]
    looped = unparsed_reason(errors[:1], "loop")
    assert "end mid-statement: the answer was stopped because it repeated itself" in looped
    assert "(test_a.py:9: '[' was never closed)" in looped
    assert "reached its length limit" in unparsed_reason(errors[:1], "length")
    whole = unparsed_reason(errors, "stop")  # not cut off: some other syntax error
    assert "do not parse (test_a.py:9: '[' was never closed; test_b.py:3: invalid syntax)" in whole
    assert "mid-statement" not in whole


VACUOUS = (
    "test_solution.py\n```python\nfrom solution import add\n\n\n"
    "def test_add():\n    assert add(1, 2) == 3\n\n\n"
    "def test_nothing():\n    assert True\n```\n"
)
ONLY_VACUOUS = (
    "test_solution.py\n```python\nimport solution\n\n\n"
    "def test_module():\n    assert solution is not None\n```\n"
)


@pytest.mark.usefixtures("bwrap")
def test_a_vacuous_test_is_reported_and_not_counted(tmp_path: Path) -> None:
    model = scripts.model()
    model.rules[3] = Rule(name="test", match="You are the tester", reply=VACUOUS)
    exporter = InMemorySpanExporter()
    result = run_job(
        scripts.TASK,
        chat_model=model,
        out=tmp_path / "out",
        span_processors=[SimpleSpanProcessor(exporter)],
    )

    report = result.test_report
    assert result.status == "success"
    assert report is not None
    # test_add, test_nothing and the task's example: 3 pass, one of them against a stub too
    assert (report["raw_passed"], report["passed"], report["total"]) == (3, 2, 3)
    assert report["vacuous"] == 1
    assert report["vacuous_tests"] == ["test_solution::test_nothing"]
    record = load_record(state_dir(), result.thread_id)
    assert record.tests is not None
    assert (record.tests["passed"], record.tests["raw_passed"], record.tests["vacuous"]) == (
        2,
        3,
        1,
    )
    [span] = [s for s in exporter.get_finished_spans() if s.name == "invoke_agent test"]
    assert span.attributes is not None
    assert span.attributes["codeagent.tests.vacuous"] == 1
    assert span.attributes["codeagent.tests.passed"] == 2


@pytest.mark.usefixtures("bwrap")
def test_a_run_whose_tests_are_all_vacuous_is_not_ok(tmp_path: Path) -> None:
    model = scripts.model()
    model.rules[3] = Rule(name="test", match="You are the tester", reply=ONLY_VACUOUS)
    task = "Write add(a, b) that returns the sum of two integers."
    result = run_job(task, chat_model=model, out=tmp_path / "out")

    assert result.status == "failed"
    assert result.test_report is not None
    assert result.test_report["ok"] is False
    assert (result.test_report["passed"], result.test_report["vacuous"]) == (0, 1)


def test_screen_tests_without_a_solution_only_requires_the_import() -> None:
    screened = screen_tests(
        {"test_solution.py": UNLINKED.split("```python\n")[1].rstrip("`\n")},
        PythonAdapter(),
        {},
        ["solution"],
    )

    assert "def is_palindrome" in screened.tests["test_solution.py"]  # nothing to compare
    assert screened.unlinked == ["test_solution.py"]
    assert screened.notes == []


def test_screen_tests_imports_each_name_from_the_module_defining_it() -> None:
    solution = {
        "shapes/area.py": "def area(r):\n    return 3 * r * r\n",
        "util.py": "def clamp(x):\n    return x\n",
        "test_old.py": "def helper():\n    pass\n",  # a test file: not the solution
    }
    text = (
        '"""Tests."""\nfrom __future__ import annotations\n\n\n'
        "def test_it(helper=None):\n    assert area(clamp(1)) == 3\n    assert helper is None\n"
    )
    screened = screen_tests({"test_x.py": text}, PythonAdapter(), solution, ["shapes.area", "util"])

    assert screened.unlinked == []
    assert screened.tests["test_x.py"].splitlines()[:4] == [
        '"""Tests."""',
        "from __future__ import annotations",
        "from shapes.area import area",
        "from util import clamp",
    ]
    assert screened.notes == [
        "test_x.py: added from shapes.area import area; from util import clamp "
        "(its tests used the solution's names without importing them)"
    ]


def test_the_cli_summary_shows_effective_passes() -> None:
    report = {"passed": 4, "raw_passed": 6, "vacuous": 2, "total": 6, "ok": True}
    assert format_tests(report) == "6/6 passed (effective 4/6: 2 vacuous)"
    assert format_tests({"passed": 3, "total": 4}) == "3/4 passed"

    console = Console(record=True, width=120)
    notes = {**report, "notes": ["test_solution.py dropped: its tests do not import solution"]}
    print_result(console, RunResult(thread_id="t", status="success", test_report=notes))
    text = console.export_text()
    assert "6/6 passed (effective 4/6: 2 vacuous)" in text
    assert "test_solution.py dropped" in text


def test_tests_written_before_the_code_lose_their_copy_of_a_stated_function() -> None:
    # the tdd workflow: no solution yet, but the task names the function under test
    text = (
        "from solution import is_palindrome\n\n\n"
        "def is_palindrome(s):\n    return True\n\n\n"
        "def test_it():\n    assert is_palindrome('ab') is False\n"
    )
    screened = screen_tests(
        {"test_solution.py": text}, PythonAdapter(), {}, ["solution"], ("is_palindrome",)
    )

    assert "def is_palindrome" not in screened.tests["test_solution.py"]
    assert "from solution import is_palindrome" in screened.tests["test_solution.py"]
    assert screened.unlinked == []
    assert screened.notes == [
        "test_solution.py: removed its own copy of is_palindrome (the tests now use the solution's)"
    ]
