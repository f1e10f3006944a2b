"""The JSON file the tasks live in: ``{"version": 1, "next_id": 4, "tasks": [...]}``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from todo.model import Task

VERSION = 1


class StoreError(Exception):
    """The task file cannot be read or written."""


@dataclass
class Data:
    """Everything in the task file."""

    tasks: list[Task] = field(default_factory=list)
    next_id: int = 1

    def find(self, task_id: int) -> Task:
        """The task with ``task_id``; KeyError when there is none."""
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)


def new_id(data: Data) -> int:
    """A fresh id: never one a task has or had (ids of removed tasks are not reused)."""
    task_id = max(data.next_id, max((t.id for t in data.tasks), default=0) + 1)
    data.next_id = task_id + 1
    return task_id


def load(path: Path) -> Data:
    """The tasks in ``path`` (none when the file does not exist yet)."""
    if not path.exists():
        return Data()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        tasks = [Task.from_dict(item) for item in raw["tasks"]]
        return Data(tasks, int(raw.get("next_id", 1)))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"cannot read {path}: {exc}") from None


def save(path: Path, data: Data) -> None:
    """Write the tasks to ``path`` atomically (a crash leaves the old file whole)."""
    payload = {
        "version": VERSION,
        "next_id": data.next_id,
        "tasks": [task.to_dict() for task in data.tasks],
    }
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc}") from None
