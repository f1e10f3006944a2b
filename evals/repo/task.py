"""Repository tasks in SWE-bench's shape, read from a JSONL file.

One line per task::

    {"instance_id": "billing-allocate", "repo": "repos/billing", "base_commit": "3f2a...",
     "problem_statement": "...", "test_patch": "diff --git ...",
     "FAIL_TO_PASS": ["tests/test_money.py::test_allocate_distributes_remainder"],
     "PASS_TO_PASS": ["tests/test_money.py::test_parse_plain_amount", ...],
     "test_cmd": "python -m pytest", "kind": "bugfix_test", "split": "pilot",
     "gold_patch": "diff --git ...", "bug_patch": "diff --git ..."}

``repo`` is a directory (relative to the JSONL file's folder, or absolute), a local
git repository, or a git URL. SWE-bench's own rows load as they are: their id lists
may be JSON-encoded strings, their reference fix is called ``patch``, and extra
fields are ignored. Test ids: pytest node ids (``tests/test_x.py::test_y``) for
Python; ``FILE::NAME`` for JavaScript, NAME being a top-level test's name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from codeagent.evals.datasets import read_subset
from codeagent.evals.repo.runners import runner_named
from codeagent.tools.errors import ConfigError

__all__ = ["KINDS", "Kind", "RepoTask", "Split", "is_git_location", "load_tasks", "select_tasks"]

Kind = Literal["bugfix_test", "bugfix_report", "feature", "tests"]
Split = Literal["pilot", "heldout"]
KINDS: tuple[Kind, ...] = ("bugfix_test", "bugfix_report", "feature", "tests")
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.I)


class RepoTask(BaseModel):
    """One repository task (see the module docstring for the fields).

    Attributes:
        source: Where the repository is, resolved at load: an absolute directory
            path or a git URL (``repo`` as written stays in ``repo``).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    instance_id: str = Field(min_length=1)
    repo: str = Field(min_length=1)
    base_commit: str
    problem_statement: str = Field(min_length=1)
    test_patch: str = ""
    FAIL_TO_PASS: list[str] = Field(default_factory=list)
    PASS_TO_PASS: list[str] = Field(default_factory=list)
    setup: str | None = None
    test_cmd: str | None = None
    kind: Kind = "bugfix_report"
    split: Split = "pilot"
    gold_patch: str = Field("", validation_alias=AliasChoices("gold_patch", "patch"))
    bug_patch: str = ""
    mutant_patch: str = ""
    source: str = ""

    @field_validator("FAIL_TO_PASS", "PASS_TO_PASS", mode="before")
    @classmethod
    def _json_list(cls, value: Any) -> Any:
        """SWE-bench stores the id lists as JSON text."""
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("base_commit")
    @classmethod
    def _full_sha(cls, value: str) -> str:
        if not _SHA.match(value):
            raise ValueError("base_commit must be a full commit hash (40 hex digits)")
        return value

    @property
    def key(self) -> str:
        """The id as a folder name (``a/b`` -> ``a_b``)."""
        return re.sub(r"[^\w.-]+", "_", self.instance_id)

    @property
    def git_source(self) -> bool:
        """True when the repository is cloned (a git URL or a local repository)."""
        return is_git_location(self.source)


def is_git_location(location: str) -> bool:
    """A git URL, or a local directory that is itself a repository (bare or not)."""
    if _URL.match(location):
        return True
    path = Path(location)
    return (path / ".git").exists() or ((path / "HEAD").is_file() and (path / "objects").is_dir())


def load_tasks(path: Path) -> list[RepoTask]:
    """The tasks in a JSONL file, checked and with each ``source`` resolved.

    Raises:
        ConfigError: For a missing file, a bad row (with its line), a repeated id, a
            repository directory that does not exist, a ``test_cmd`` no runner knows.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read the task file: {exc}", file=str(path)) from None
    tasks: list[RepoTask] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        task = _task(line, path, number)
        if task.instance_id in seen:
            raise ConfigError(
                f"instance_id {task.instance_id!r} appears twice", file=str(path), line=number
            )
        seen.add(task.instance_id)
        tasks.append(task)
    if not tasks:
        raise ConfigError("the task file has no tasks", file=str(path))
    return tasks


def select_tasks(
    tasks: list[RepoTask],
    *,
    split: str = "pilot",
    limit: int | None = None,
    subset: Path | None = None,
) -> list[RepoTask]:
    """The tasks to run: those of ``split`` (``pilot``, ``heldout`` or ``all``), then the
    ids a subset file lists (in its order), or the first ``limit``.

    Raises:
        ConfigError: For an unknown split, or a subset naming an id not in the split.
    """
    if split not in ("pilot", "heldout", "all"):
        raise ConfigError(f"unknown split {split!r}", hint="use pilot, heldout or all")
    chosen = [t for t in tasks if split == "all" or t.split == split]
    if subset is not None:
        by_id = {t.instance_id: t for t in chosen}
        ids = read_subset(subset)
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise ConfigError(
                f"the subset names {len(missing)} ids not in split {split!r}, e.g. {missing[0]!r}",
                file=str(subset),
                hint="list instance ids of the chosen split, one per line",
            )
        chosen = [by_id[i] for i in ids]
    return chosen[:limit] if limit is not None else chosen


def _task(line: str, path: Path, number: int) -> RepoTask:
    def error(message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, file=str(path), line=number, hint=hint)

    try:
        row = json.loads(line)
        if not isinstance(row, dict):
            raise ValueError("a task is a JSON object")
        task = RepoTask.model_validate(row)
    except (ValueError, ValidationError) as exc:
        raise error(
            f"line {number} is not a valid repository task: {_first_error(exc)}",
            "each line needs instance_id, repo, base_commit, problem_statement, "
            "test_patch, FAIL_TO_PASS and PASS_TO_PASS",
        ) from None
    name = f"task {task.instance_id!r}"
    problem = _problem(task)
    if problem:
        raise error(f"{name}: {problem}")
    try:
        runner_named(task.test_cmd)
    except ConfigError as exc:
        raise error(f"{name}: {exc.message}", exc.hint) from None
    source = _source(task.repo, path.parent)
    if not _URL.match(source) and not Path(source).is_dir():
        raise error(
            f"{name}: no repository at {source}",
            "repo is a directory relative to the task file, a local git repository or a URL",
        )
    task = task.model_copy(update={"source": source})
    if task.bug_patch and task.git_source:
        raise error(
            f"{name}: bug_patch is only for plain directories",
            "a git repository's task starts at base_commit; commit the bug there",
        )
    return task


def _problem(task: RepoTask) -> str | None:
    if task.kind == "tests":
        if not task.mutant_patch.strip():
            return "a 'tests' task needs a mutant_patch (the broken code its tests must catch)"
        return None
    if not task.FAIL_TO_PASS:
        return "FAIL_TO_PASS is empty: nothing would tell a fix from no fix"
    return None


def _source(repo: str, base: Path) -> str:
    if _URL.match(repo):
        return repo
    path = Path(repo).expanduser()
    return str((path if path.is_absolute() else base / path).resolve())


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        return f"{where}: {error['msg']}" if where else error["msg"]
    return str(exc).splitlines()[0][:200]
