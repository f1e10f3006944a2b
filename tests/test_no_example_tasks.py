"""Tasks that show no example: candidates agree on probes made from the signature, and a
model-written test cannot overturn code that agreeing candidates produced (scripted model,
local sandbox)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from codeagent.graphs import run_job
from codeagent.graphs.cli.render import format_tests
from codeagent.nodes.probes import signature_calls
from codeagent.tools.contracts.report import dispute_failures
from codeagent.tools.contracts.state import files_fingerprint
from codeagent.tools.testing import Rule
from tests import scripts

# a signature and a docstring, no example: what HumanEval/41 or /83 look like
TASK = 'def add(a: int, b: int) -> int:\n    """Return the sum of a and b."""\n'
# the same function written another way: a candidate that behaves the same
SAME = "solution.py\n```python\ndef add(a, b):\n    return sum((a, b))\n```\n"
# agrees with GOOD on every probe input, but returns 4 for add(1, 2)
ODD = "solution.py\n```python\ndef add(a, b):\n    return a + b + (a == 1 and b == 2)\n```\n"
# the model's tests, one of them with a wrong expected value (add(1, 2) is 3)
WRONG_TESTS = (
    "test_solution.py\n```python\nfrom solution import add\n\n\n"
    "def test_add():\n    assert add(1, 2) == 4\n\n\n"
    "def test_zero():\n    assert add(0, 0) == 0\n\n\n"
    "def test_negative():\n    assert add(-1, 1) == 0\n```\n"
)


def _workflow(
    directory: Path, code: list[str], tests: str, *, tester: str = "example_tester", **options: int
) -> Path:
    script = [
        Rule(name="fix", match="Your previous version", replies=code),
        Rule(name="code", match="You are the coder|You are an expert", replies=code),
        Rule(name="test", match="You are the tester", reply=tests),
    ]
    options = {"candidates": 5, "signature_probes": True, **options}
    return scripts.sampling_workflow(directory, script, tester=tester, options=options)


def test_signature_calls_come_from_annotations_or_parameter_names() -> None:
    calls = signature_calls(TASK)
    assert calls[0] == "add(5, 5)"
    assert "add(-5, 5)" in calls and "add(5, 0)" in calls
    assert len(calls) == len(set(calls)) <= 16
    # helpers first, the function asked for last; unannotated names guessed
    task = "def encode(s: str):\n    ...\n\n\ndef decode(s):\n    '''Undo encode.'''\n"
    assert signature_calls(task)[:2] == ["decode('hello world')", "decode('')"]
    assert signature_calls("def total(lst):\n    '''Sum.'''\n")[0] == "total([3, 1, 4, 1, 5])"
    assert signature_calls("def f(xs: list[str]):\n    ...\n")[0] == "f(['ab', 'c'])"
    # a parameter whose type nobody can tell, *args, or no def at all: no probes
    assert signature_calls("def do(operator, operand):\n    ...\n") == []
    assert signature_calls("def f(*args):\n    ...\n") == []
    assert signature_calls("Write add(a, b).") == []


def test_dispute_failures_sets_the_failed_tests_aside() -> None:
    report = {"passed": 2, "failed": 1, "errors": 0, "total": 3, "ok": False, "failures": ["x"]}
    disputed = dispute_failures(report, 2)
    assert (disputed["passed"], disputed["failed"], disputed["total"]) == (2, 0, 2)
    assert (disputed["disputed"], disputed["disputed_by"], disputed["ok"]) == (1, 2, True)
    assert (disputed["failures"], disputed["disputed_failures"]) == ([], ["x"])
    assert format_tests(disputed) == "2/2 passed, 1 disputed (not counted)"
    # nothing left passing, or a crash: not ok
    assert not dispute_failures({**report, "passed": 0, "total": 1}, 2)["ok"]
    assert not dispute_failures({**report, "errors": 1}, 2)["ok"]


@pytest.mark.usefixtures("bwrap")
def test_candidates_without_examples_are_drawn_until_two_agree_on_the_signatures_probes(
    tmp_path: Path,
) -> None:
    # HALF is wrong for a < 0 (add(-5, 5) is a probe): it agrees with nobody
    workflow = _workflow(tmp_path, [scripts.HALF, scripts.GOOD, SAME], scripts.TESTS, agreement=2)
    result = run_job(TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success", result.test_report
    assert "return a + b\n" in result.files["solution.py"]
    assert result.usage["calls"] == 3 + 1  # three candidates, then the tester's tests


@pytest.mark.usefixtures("bwrap")
@pytest.mark.parametrize("second", [SAME, scripts.GOOD], ids=["other-code", "same-code"])
def test_a_wrong_model_test_cannot_overturn_code_agreeing_candidates_wrote(
    second: str, tmp_path: Path
) -> None:
    workflow = _workflow(tmp_path, [scripts.GOOD, second], WRONG_TESTS, agreement=2)
    result = run_job(TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success", result.test_report
    assert result.attempts == 1  # no repair round: right code is not "repaired"
    report = result.test_report or {}
    assert (report["passed"], report["total"], report["disputed"]) == (2, 2, 1)
    assert any("1 model-written test(s) disputed" in n for n in report["notes"])
    assert any("test_add" in line for line in report["disputed_failures"])


@pytest.mark.usefixtures("bwrap")
def test_a_test_that_tells_agreeing_candidates_apart_still_counts(tmp_path: Path) -> None:
    # ODD agrees with GOOD on every probe but passes the wrong test_add: the test tells
    # them apart, so it is not the test's fault and it counts against the code
    workflow = _workflow(tmp_path, [scripts.GOOD, ODD], WRONG_TESTS, agreement=2)
    result = run_job(TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "failed"
    report = result.test_report or {}
    assert not report.get("disputed") and report["failed"] == 1


@pytest.mark.usefixtures("bwrap")
def test_the_tasks_examples_are_never_disputed(tmp_path: Path) -> None:
    # the plain tester runs the model's tests with the examples: no dispute then
    task = TASK + "\n>>> add(2, 3)\n5\n"
    workflow = _workflow(tmp_path, [scripts.GOOD, SAME], WRONG_TESTS, tester="tester", agreement=2)
    result = run_job(task, workflow=workflow, out=tmp_path / "out")

    assert result.status == "failed"
    assert not (result.test_report or {}).get("disputed")


@pytest.mark.usefixtures("bwrap")
def test_signature_probes_are_off_by_default(tmp_path: Path) -> None:
    # without the option a task with no example keeps the first answer that parses
    # (with it, GOOD and HALF would disagree on add(-5, 5) and SAME be drawn: 4 calls)
    workflow = _workflow(tmp_path, [scripts.GOOD, scripts.HALF, SAME], scripts.TESTS, agreement=2)
    data = yaml.safe_load(workflow.read_text())
    del data["nodes"]["code"]["options"]["signature_probes"]
    workflow.write_text(yaml.safe_dump(data))
    result = run_job(TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success"
    assert result.usage["calls"] == 1 + 1  # one candidate, then the tester's tests
    assert result.files["solution.py"].strip().endswith("return a + b")


@pytest.mark.usefixtures("bwrap")
def test_without_agreement_there_are_no_peers_and_no_dispute(tmp_path: Path) -> None:
    workflow = _workflow(tmp_path, [scripts.GOOD, SAME], WRONG_TESTS, agreement=1)
    result = run_job(TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "failed"
    assert result.usage["calls"] == 1 + 1 + 1  # a candidate, the tests, one fix


def test_peers_are_tied_to_the_files_they_agree_with() -> None:
    files = {"solution.py": "def add(a, b):\n    return a + b\n"}
    assert files_fingerprint(files) == files_fingerprint(dict(files))
    assert files_fingerprint(files) != files_fingerprint({"solution.py": "x"})
    assert files_fingerprint({"a": "bc"}) != files_fingerprint({"ab": "c"})
