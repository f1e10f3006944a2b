"""The mbpp-style and mbpp-terse benchmark data: 60 function-level tasks each, each shown
with one example assert and scored on hidden asserts. The reference solutions pass both, a
do-nothing solution fails every hidden test, and the tune/held-out subset files split the
ids. mbpp-style prompts name the signature in backticks; mbpp-terse prompts, as in real
MBPP, are one sentence that leaves the name, arguments and conventions to the example."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from codeagent.evals.datasets import SUBSETS, Problem, load_dataset, select

DATA_DIR = Path(__file__).resolve().parent.parent / "evals" / "data"


class DataSet(NamedTuple):
    """One task set: its JSONL, the prefix of its task ids, and its two subset files."""

    data: Path
    prefix: str
    tune: Path
    heldout: Path

    @property
    def terse(self) -> bool:
        """Whether the prompts are in MBPP's terse register (no signature in the prose)."""
        return self.prefix == "mbpp-terse"


STYLE = DataSet(
    DATA_DIR / "mbpp-style.jsonl",
    "mbpp-style",
    SUBSETS / "mbpp-style-tune.txt",
    SUBSETS / "mbpp-style-heldout.txt",
)
TERSE = DataSet(
    DATA_DIR / "mbpp-terse.jsonl",
    "mbpp-terse",
    SUBSETS / "mbpp-terse-tune.txt",
    SUBSETS / "mbpp-terse-heldout.txt",
)
BOTH = pytest.mark.parametrize("dataset", [STYLE, TERSE], ids=[STYLE.prefix, TERSE.prefix])

# runs every task in one process, each in a fresh namespace; prints the failing ids as JSON
RUNNER = """
import json, sys

def run(task, mode):
    namespace = {"__name__": "mbpp_style_task"}
    if mode == "wrong":
        exec(f"def {task['entry_point']}(*args, **kwargs):\\n    return None\\n", namespace)
    else:
        exec(task["canonical_solution"], namespace)
    exec(task["test"], namespace)
    candidate = namespace[task["entry_point"]]
    if mode == "example":
        exec(task["example"], namespace)
    else:
        namespace["check"](candidate)

mode = sys.argv[2]
failures = []
for task in json.load(open(sys.argv[1], encoding="utf-8")):
    try:
        run(task, mode)
        passed = True
    except Exception as exc:
        passed = False
        error = f"{type(exc).__name__}: {exc}"
    if mode == "wrong" and passed:
        failures.append(f"{task['task_id']}: a solution returning None passes check")
    elif mode != "wrong" and not passed:
        failures.append(f"{task['task_id']}: {error}")
print(json.dumps(failures))
"""


def _rows(data: Path) -> list[dict[str, Any]]:
    lines = data.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _example(prompt: str) -> str:
    return next(line for line in prompt.splitlines() if line.startswith("assert"))


def _failures(tmp_path: Path, data: Path, mode: str) -> list[str]:
    """Task ids (with the error) of ``data`` that go the wrong way in ``mode``: ``check`` or
    ``example`` with the reference solution, ``wrong`` with one that returns None."""
    tasks = [{**row, "example": _example(row["prompt"])} for row in _rows(data)]
    (tmp_path / "tasks.json").write_text(json.dumps(tasks), encoding="utf-8")
    (tmp_path / "runner.py").write_text(RUNNER, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "runner.py", "tasks.json", mode],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    failures: list[str] = json.loads(done.stdout)
    return failures


@BOTH
def test_the_dataset_loads_with_60_unique_ids_and_the_subsets_partition_it(
    dataset: DataSet,
) -> None:
    problems = load_dataset(dataset.data)
    ids = [p.task_id for p in problems]

    assert len(problems) == 60
    assert ids == [f"{dataset.prefix}/{i}" for i in range(60)]
    tune = [p.task_id for p in select(problems, subset=dataset.tune)]
    heldout = [p.task_id for p in select(problems, subset=dataset.heldout)]
    assert tune == [f"{dataset.prefix}/{i}" for i in range(0, 60, 2)]
    assert heldout == [f"{dataset.prefix}/{i}" for i in range(1, 60, 2)]
    assert sorted(tune + heldout) == sorted(ids)


@BOTH
def test_every_prompt_is_prose_and_one_example_assert_calling_the_entry_point(
    dataset: DataSet,
) -> None:
    problems: list[Problem] = load_dataset(dataset.data)

    for problem in problems:
        lines = [line for line in problem.prompt.splitlines() if line.strip()]
        asserts = [line for line in lines if line.startswith("assert")]
        assert len(asserts) == 1, problem.task_id
        assert f"{problem.entry_point}(" in asserts[0], problem.task_id
        assert lines[0] != asserts[0], problem.task_id
        if dataset.terse:
            # one sentence, then the example: no backtick-quoted signature, no def anywhere
            assert lines == [lines[0], asserts[0]], problem.task_id
            assert "`" not in lines[0], problem.task_id
            assert not re.search(r"\bdef\b", problem.prompt), problem.task_id
        else:
            assert f"`{problem.entry_point}(" in lines[0], problem.task_id
        assert not any(line.lstrip().startswith("def ") for line in lines), problem.task_id
        assert "def check(candidate):" in problem.test, problem.task_id
        hidden = [line for line in problem.test.splitlines() if line.strip().startswith("assert")]
        assert 4 <= len(hidden) <= 7, problem.task_id
        assert all("candidate(" in line for line in hidden), problem.task_id


@BOTH
def test_the_reference_solutions_pass_the_hidden_tests(tmp_path: Path, dataset: DataSet) -> None:
    failures = _failures(tmp_path, dataset.data, "check")

    assert failures == [], "\n".join(failures)


@BOTH
def test_the_reference_solutions_pass_the_prompt_examples(tmp_path: Path, dataset: DataSet) -> None:
    failures = _failures(tmp_path, dataset.data, "example")

    assert failures == [], "\n".join(failures)


@BOTH
def test_a_solution_returning_none_fails_every_hidden_test(
    tmp_path: Path, dataset: DataSet
) -> None:
    failures = _failures(tmp_path, dataset.data, "wrong")

    assert failures == [], "\n".join(failures)


def test_the_terse_prose_line_does_not_name_the_entry_point() -> None:
    problems: list[Problem] = load_dataset(TERSE.data)

    for problem in problems:
        prose = problem.prompt.splitlines()[0]
        assert problem.entry_point not in prose, problem.task_id
