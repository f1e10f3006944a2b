"""Choosing, ordering and counting tasks (pure functions over lists of tasks)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from todo.model import PRIORITIES, Task


def filter_tasks(
    tasks: Iterable[Task],
    *,
    status: str = "open",
    tag: str | None = None,
    priority: str | None = None,
    overdue: bool = False,
    today: date | None = None,
) -> list[Task]:
    """The tasks that match: ``status`` is open, done or all; tags match in any case."""
    chosen = []
    for task in tasks:
        if status == "open" and task.done or status == "done" and not task.done:
            continue
        if tag is not None and tag.lower() not in (t.lower() for t in task.tags):
            continue
        if priority is not None and task.priority != priority:
            continue
        if overdue and not task.is_overdue(today or date.today()):
            continue
        chosen.append(task)
    return chosen


def sort_key(task: Task) -> tuple[Any, ...]:
    """Soonest due first (undated last), then higher priority first, then oldest first."""
    return (task.due is None, task.due or date.max, -PRIORITIES.index(task.priority), task.id)


def sort_tasks(tasks: Iterable[Task]) -> list[Task]:
    """The tasks in the order the list shows them."""
    return sorted(tasks, key=sort_key)


def stats(tasks: list[Task], today: date) -> dict[str, Any]:
    """Counts: total, open, done, overdue (open tasks only), open tasks per priority and tag."""
    open_tasks = [t for t in tasks if not t.done]
    return {
        "total": len(tasks),
        "open": len(open_tasks),
        "done": len(tasks) - len(open_tasks),
        "overdue": sum(1 for t in tasks if t.is_overdue(today)),
        "by_priority": {p: sum(1 for t in open_tasks if t.priority == p) for p in PRIORITIES},
        "by_tag": dict(sorted(Counter(tag for t in open_tasks for tag in t.tags).items())),
    }
