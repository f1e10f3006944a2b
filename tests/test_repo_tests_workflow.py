"""The repo-tests workflow end to end: a scripted model writes tests for one module of a
small git repository, judged in the real local sandbox (pass, coverage, a mutant caught).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codeagent.graphs import run_job
from codeagent.graphs.jobs.runner import job_values
from codeagent.nodes.repo_tests import module_under_test
from codeagent.tools.errors import ConfigError
from codeagent.tools.sandbox import LocalSandbox, Sandbox
from codeagent.tools.testing import Rule, ScriptedChatModel
from tests.git_support import git
from tests.repo_support import make_repo

pytestmark = pytest.mark.usefixtures("bwrap")

CALC = '''"""Prices."""


def add(a, b):
    return a + b


def total(prices, discount=0):
    """The sum of the prices less a discount, never below zero."""
    s = 0
    for price in prices:
        s += price
    if s - discount < 0:
        return 0
    return s - discount
'''
TESTS = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
# The local sandbox runs this venv's Python: its autoloaded pytest plugins (langsmith,
# hypothesis) would cost ~2 s of every test run; the repository turns them off.
PYPROJECT = """[project]
name = "calc"
version = "0"

[tool.pytest.ini_options]
pythonpath = ["."]
addopts = "-p no:langsmith_plugin -p no:hypothesispytest"
"""
TASK = "Write tests for calc.py: total() has none."

GOOD = (
    "tests/test_total.py\n```python\nfrom calc import total\n\n\n"
    "def test_total_sums_the_prices():\n    assert total([1, 2, 3]) == 6\n\n\n"
    "def test_total_never_goes_below_zero():\n    assert total([1], discount=5) == 0\n```\n"
)
ONLY_IMPORTS = (
    "tests/test_total.py\n```python\nimport calc\n\n\n"
    "def test_calc_imports():\n    assert True\n```\n"
)
CHECKS_NOTHING = (
    "tests/test_total.py\n```python\nfrom calc import total\n\n\n"
    "def test_total_runs():\n    total([1, 2], discount=1)\n    assert True\n```\n"
)
CHANGES_THE_CODE = (
    "calc.py::total\n```python\ndef total(prices, discount=0):\n"
    "    return max(0, sum(prices) - discount)\n```\n\n" + GOOD
)
PUT_BACK = "calc.py::total\n```python\n" + CALC[CALC.index("def total") :] + "```\n"
APPROVE = '{"verdict": "approve", "comments": []}'
RETRY = "Your changes so far"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose ``calc.total`` no test runs."""
    files = {"calc.py": CALC, "tests/test_calc.py": TESTS, "pyproject.toml": PYPROJECT}
    return make_repo(tmp_path / "calc", files)


class _Counting:
    """A sandbox factory that counts the sandboxes it opens (one per test run)."""

    def __init__(self) -> None:
        self.opened = 0

    def __call__(self) -> Sandbox:
        self.opened += 1
        return LocalSandbox()


def _model(first: str, *then: str) -> ScriptedChatModel:
    return ScriptedChatModel(
        rules=[
            Rule(name="context", match="You are the navigator", reply='{"open": ["calc.py"]}'),
            Rule(name="again", match=RETRY, replies=list(then or (first,))),
            Rule(name="tests", match="You are the test writer", reply=first),
            Rule(name="review", match="You are the reviewer", reply=APPROVE),
        ]
    )


def _run(repo: Path, model: ScriptedChatModel, sandbox: _Counting | None = None) -> object:
    return run_job(
        TASK,
        workflow="repo-tests",
        repo=repo,
        chat_model=model,
        sandbox_factory=sandbox or LocalSandbox,
    )


def _untouched(repo: Path) -> None:
    assert (repo / "calc.py").read_text() == CALC
    assert git(repo, "status", "--porcelain") == ""


def _reports(thread_id: str) -> list[dict[str, object]]:
    _, values = job_values(thread_id)
    return [dict(entry["report"]) for entry in values["history"]]


def test_good_tests_pass_raise_the_coverage_and_catch_a_mutant(repo: Path) -> None:
    sandbox = _Counting()
    model = _model(GOOD)

    result = run_job(
        TASK, workflow="repo-tests", repo=repo, chat_model=model, sandbox_factory=sandbox
    )

    assert result.status == "success", (result.error, result.test_report)
    report = result.test_report or {}
    assert report["ok"] and report["verified"] and report["failures"] == []
    assert report["module"] == "calc.py"
    assert report["coverage_after"] > report["coverage_before"]
    assert report["coverage_after"] == 100.0
    assert (report["mutants"], report["mutants_killed"]) == (1, 1)
    assert "`total`" in report["mutant_caught"]
    assert report["passed"] == 3 and report["regressions"] == []
    assert set(result.files) == {"tests/test_total.py"}
    assert result.patch and "+++ b/tests/test_total.py" in result.patch
    # baseline, targeted, baseline coverage, coverage, one mutant
    assert sandbox.opened == 5
    coder = next(p for p in model.prompts if "You are the test writer" in p)
    assert "def total(prices, discount=0):" in coder  # the module is shown to the coder
    _untouched(repo)


def test_tests_that_check_nothing_are_sent_back_until_they_catch_a_mutant(repo: Path) -> None:
    sandbox = _Counting()
    model = _model(ONLY_IMPORTS, CHECKS_NOTHING, GOOD)

    result = run_job(
        TASK, workflow="repo-tests", repo=repo, chat_model=model, sandbox_factory=sandbox
    )

    assert result.status == "success", (result.error, result.test_report)
    first, second, third = _reports(result.thread_id)
    # importing the module runs no new line and none of its functions
    assert not first["ok"] and first["coverage_after"] == first["coverage_before"]
    assert first["mutants"] == 0  # no mutant run: the new test runs no function body
    assert first["failures"] == [
        "your tests do not raise the line coverage of calc.py (33.3% before, 33.3% with"
        " your tests): test the lines no test runs yet: 10-15",
        "your tests run none of the functions of calc.py, so no broken copy of it can make"
        " them fail: call its functions and assert on what they return",
    ]
    # running total() covers it, but without an assertion no mutant is caught
    assert not second["ok"] and second["coverage_after"] > second["coverage_before"]
    assert (second["mutants"], second["mutants_killed"]) == (4, 0)
    (mutant_line,) = second["failures"]
    assert mutant_line.startswith("your tests still pass on broken copies of calc.py: ")
    assert "`total` returns None instead of `s - discount` (line 15)" in mutant_line
    assert "`s += price` became `s -= price` in `total` (line 12)" in mutant_line
    assert third["ok"] and third["mutants_killed"] == 1
    retries = [p for p in model.prompts if RETRY in p]
    assert "your tests run none of the functions of calc.py" in retries[0]
    assert "`total` returns None instead of `s - discount`" in retries[1]
    # the baseline's coverage is measured once: 1 baseline + 1 baseline coverage, and
    # per attempt the new tests' run, the whole suite's run and the mutant runs
    assert sandbox.opened == 2 + (2 + 0) + (2 + 4) + (2 + 1)
    _untouched(repo)


def test_a_change_to_the_code_is_refused_without_running_anything(repo: Path) -> None:
    sandbox = _Counting()
    model = _model(CHANGES_THE_CODE, PUT_BACK)

    result = run_job(
        TASK, workflow="repo-tests", repo=repo, chat_model=model, sandbox_factory=sandbox
    )

    assert result.status == "success", (result.error, result.test_report)
    refused = _reports(result.thread_id)[0]
    assert not refused["ok"] and refused["total"] == 0
    assert refused["failures"] == [
        "you changed calc.py: this workflow writes tests and does not change the code;"
        " put calc.py back as it was, and put only tests in test files"
    ]
    retry = next(p for p in model.prompts if RETRY in p)
    assert "you changed calc.py" in retry
    assert set(result.files) == {"tests/test_total.py"}  # the coder put calc.py back
    assert sandbox.opened == 1 + 0 + (1 + 1 + 1 + 1)  # the refusal ran nothing
    _untouched(repo)


def test_a_mutant_that_makes_the_tests_hang_counts_as_caught(repo: Path, tmp_path: Path) -> None:
    """`i += 1` -> `i -= 1` never ends: the run is cut at mutant_timeout_s, and caught."""
    import yaml

    from codeagent.configs import workflow_path

    (repo / "spin.py").write_text(
        "def spin(limit):\n    i = 0\n    while i < limit:\n        i += 1\n"
    )
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "spin")
    path = workflow_path("repo-tests")
    assert path is not None
    data = yaml.safe_load(path.read_text())
    data["nodes"]["code"]["prompt"] = str(path.parent / data["nodes"]["code"]["prompt"])
    data["nodes"]["test"]["options"] = {"mutants": 3, "mutant_timeout_s": 3}
    (tmp_path / "wf.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    no_assert = (
        "tests/test_spin.py\n```python\nfrom spin import spin\n\n\n"
        "def test_spin_returns():\n    spin(3)\n```\n"
    )

    result = run_job(
        "Write tests for spin.py",
        workflow=tmp_path / "wf.yaml",
        repo=repo,
        chat_model=_model(no_assert),
        sandbox_factory=LocalSandbox,
    )

    assert result.status == "success", (result.error, result.test_report)
    report = result.test_report or {}
    assert (report["mutants"], report["mutants_killed"]) == (3, 1)
    assert report["mutant_caught"] == "`i += 1` became `i -= 1` in `spin` (line 4)"
    assert len(report["mutants_survived"]) == 2  # the loop that ends at once: not caught


def test_a_test_that_fails_on_todays_code_is_sent_back_before_any_coverage_run(
    repo: Path,
) -> None:
    wrong = GOOD.replace("== 6", "== 7")
    sandbox = _Counting()
    model = _model(wrong, GOOD.replace("== 6", "== 6  # fixed"))

    result = run_job(
        TASK, workflow="repo-tests", repo=repo, chat_model=model, sandbox_factory=sandbox
    )

    assert result.status == "success", (result.error, result.test_report)
    failed = _reports(result.thread_id)[0]
    assert not failed["ok"] and failed["coverage_before"] is None and failed["mutants"] == 0
    assert failed["failures"] == [
        "tests/test_total.py::test_total_sums_the_prices (a test you wrote) does not pass"
    ]
    assert sandbox.opened == 1 + 1 + (1 + 1 + 1 + 1)  # the failing attempt: one run


def test_a_test_command_that_is_not_pytest_is_a_clear_error(repo: Path) -> None:
    with pytest.raises(ConfigError, match="not a pytest command") as caught:
        run_job(
            TASK,
            workflow="repo-tests",
            repo=repo,
            chat_model=_model(GOOD),
            sandbox_factory=LocalSandbox,
            test_cmd="python3 -m unittest discover -s tests -t .",
        )

    assert caught.value.hint and "--test-cmd 'python3 -m pytest'" in caught.value.hint


def test_a_task_that_names_no_module_stops_with_a_hint(repo: Path) -> None:
    with pytest.raises(ConfigError, match="names no Python module") as caught:
        run_job(
            "Write more tests.",
            workflow="repo-tests",
            repo=repo,
            chat_model=_model(GOOD),
            sandbox_factory=LocalSandbox,
        )

    assert caught.value.hint and "write tests for src/pkg/mod.py" in caught.value.hint
    _untouched(repo)


def test_the_module_is_the_first_source_file_the_task_names() -> None:
    files = {
        "src/shop/cart.py": "def total():\n    return 1\n",
        "src/shop/tax.py": "def rate():\n    return 2\n",
        "tests/test_cart.py": "def test_total():\n    pass\n",
        "README.md": "# shop\n",
    }

    assert module_under_test("Write tests for src/shop/cart.py", files) == "src/shop/cart.py"
    assert module_under_test("see README.md; tests for shop.tax", files) == "src/shop/tax.py"
    assert module_under_test("extend tests/test_cart.py for `rate`", files) == "src/shop/tax.py"
    with pytest.raises(ConfigError) as caught:
        module_under_test("Extend tests/test_cart.py", files)
    assert caught.value.hint and "name the module to test" in caught.value.hint
