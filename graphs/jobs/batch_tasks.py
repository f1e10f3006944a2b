"""Reading a batch's tasks file: one JSON object per line, checked, with unique ids.

Each line::

    {"id": "slugify", "task": "Write slugify(title) ...", "workflow": "quick"}

``task`` is required; ``id`` defaults to a hash of the task and workflow. Blank
lines and ``#`` comments are skipped; a bad line is a :class:`ConfigError` with
its line number.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codeagent.tools.errors import ConfigError

__all__ = ["BatchTask", "read_tasks"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class BatchTask(BaseModel):
    """One line of a tasks file (other keys are kept but ignored)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    task: str = Field(min_length=1)
    id: str | None = Field(default=None, pattern=_ID.pattern)
    workflow: str | None = None


def read_tasks(path: str | Path) -> list[tuple[str, BatchTask]]:
    """Parse a tasks JSONL file into ``(id, task)`` pairs (blank and ``#`` lines skipped).

    Raises:
        ConfigError: With the line number, for a bad line or a repeated id.
    """
    source = Path(path)
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the tasks file: {exc}", hint="give a JSONL file, one task per line"
        ) from None
    out: list[tuple[str, BatchTask]] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = _parse_line(line, str(source), number)
        task_id = item.id or _default_id(item)
        if task_id in seen:
            raise ConfigError(
                f"task id {task_id!r} repeats the one on line {seen[task_id]}",
                file=str(source),
                line=number,
                hint="give each task a unique 'id'",
            )
        seen[task_id] = number
        out.append((task_id, item))
    if not out:
        raise ConfigError("the tasks file has no task", file=str(source), hint=_LINE_HINT)
    return out


_LINE_HINT = 'one JSON object per line, e.g. {"id": "t1", "task": "Write add(a, b) ..."}'


def _parse_line(line: str, filename: str, number: int) -> BatchTask:
    try:
        return BatchTask.model_validate(json.loads(line))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"invalid JSON: {exc.msg}",
            file=filename,
            line=number,
            column=exc.colno,
            hint=_LINE_HINT,
        ) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(line)"
        raise ConfigError(
            f"{where}: {first['msg']}", file=filename, line=number, hint=_LINE_HINT
        ) from None


def _default_id(item: BatchTask) -> str:
    digest = hashlib.sha256(f"{item.workflow or ''}\n{item.task}".encode()).hexdigest()
    return f"task-{digest[:10]}"
