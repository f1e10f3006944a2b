"""The names a task states bind the plan and the coder's file (nodes/stated.py)."""

from __future__ import annotations

import json

import pytest

from codeagent.graphs import run_job
from codeagent.nodes.stated import StatedNames, bind_plan, function_step, stated_names
from codeagent.tools.languages import get_adapter
from codeagent.tools.testing import FakeSandbox, Rule, ScriptedChatModel
from tests import scripts

PYTHON = get_adapter("python")
PAL_TASK = (
    "Write is_palindrome(s: str) -> bool in pal.py. It returns True when s reads the same "
    "forwards and backwards.\n\n>>> is_palindrome('aba')\nTrue\n"
)


@pytest.mark.parametrize(
    ("task", "files", "functions"),
    [
        (PAL_TASK, ("pal.py",), ("is_palindrome",)),
        ("Write a Python module slug.py with a function `slugify`.", ("slug.py",), ("slugify",)),
        ("Put it in src/slug.py; see test_slug.py.", ("src/slug.py",), ()),
        ("def add(a, b): returns a + b", (), ("add",)),
        ("Implement add(a, b) that returns the sum.", (), ("add",)),
        ("Write a function that returns the sum (e.g. print(x)).", (), ()),
        ("Fix ../../etc/x.py and os.path.py", (), ()),
    ],
)
def test_stated_names(task: str, files: tuple[str, ...], functions: tuple[str, ...]) -> None:
    assert stated_names(task, PYTHON) == StatedNames(files, functions)


def test_file_names_follow_the_language_suffix() -> None:
    task = "Write slugify(title) in slug.js (not slug.py)."
    assert stated_names(task, get_adapter("javascript")).files == ("slug.js",)


def test_bind_plan_puts_the_stated_file_first_and_drops_the_suggested_default() -> None:
    stated = StatedNames(("pal.py",))
    assert bind_plan(["solution.py"], stated, "solution.py") == ["pal.py"]
    assert bind_plan(["util.py", "pal.py"], stated, "solution.py") == ["pal.py", "util.py"]
    assert bind_plan(["solution.py"], StatedNames(), "solution.py") == ["solution.py"]


def test_function_step_names_the_stated_function_once() -> None:
    stated = StatedNames((), ("is_palindrome",))
    assert function_step({"steps": ["define is_palindrome"]}, stated) == ["define is_palindrome"]
    assert "is_palindrome" in function_step({"summary": "check", "steps": []}, stated)[0]


PAL_CODE = "```python\ndef is_palindrome(s):\n    return s == s[::-1]\n```\n"
PAL_TESTS = (
    "test_solution.py\n```python\nfrom pal import is_palindrome\n\n\n"
    "def test_it():\n    assert is_palindrome('aba')\n```\n"
)


def _model(plan_files: list[str]) -> ScriptedChatModel:
    plan = {"summary": "palindromes", "files": plan_files, "steps": ["compare"], "test_cases": []}
    return ScriptedChatModel(
        rules=[
            Rule(name="plan", match="You are the planner", reply=json.dumps(plan)),
            Rule(name="code", match="You are the coder", reply=PAL_CODE),
            Rule(name="test", match="You are the tester", reply=PAL_TESTS),
            Rule(name="review", match="You are the reviewer", reply=scripts.APPROVE),
        ]
    )


def test_a_plan_naming_solution_py_is_corrected_to_the_stated_file() -> None:
    model = _model(["solution.py"])
    result = run_job(PAL_TASK, chat_model=model, sandbox_factory=FakeSandbox)

    assert list(result.files) == ["pal.py"]
    assert result.plan is not None and result.plan["files"] == ["pal.py"]
    assert "use exactly these names: files pal.py; functions is_palindrome" in model.prompts[0]
    tester_prompt = next(p for p in model.prompts if "You are the tester" in p)
    assert "The solution is in the module `pal`" in tester_prompt
    assert any("from pal import" in text for text in result.tests.values())


def test_quick_workflow_writes_the_stated_file() -> None:
    model = _model([])
    result = run_job(PAL_TASK, workflow="quick", chat_model=model, sandbox_factory=FakeSandbox)

    assert list(result.files) == ["pal.py"]
    assert "Files to write: pal.py" in model.prompts[0]
    tester_prompt = next(p for p in model.prompts if "You are the tester" in p)
    assert "The solution is in the module `pal`" in tester_prompt
