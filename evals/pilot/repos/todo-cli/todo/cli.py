"""The ``todo`` command line: add, list, done, undo, rm, clear, stats.

``main`` returns the exit status: 0 on success, 1 for an error (printed as
``error: ...`` on stderr), 2 for a wrong command line (argparse's own status).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

from todo import store
from todo.dates import DateError, describe_due, parse_due
from todo.model import PRIORITIES, Task
from todo.query import filter_tasks, sort_tasks, stats


class CliError(Exception):
    """A mistake the user made: printed as ``error: ...``, exit status 1."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="todo", description="A to-do list in a JSON file.")
    parser.add_argument("--db", type=Path, help="the task file (default $TODO_DB, ~/.todo.json)")
    commands = parser.add_subparsers(dest="command", required=True)

    add = commands.add_parser("add", help="add a task")
    add.add_argument("title")
    add.add_argument("--priority", "-p", choices=PRIORITIES, default="normal")
    add.add_argument("--tag", "-t", action="append", default=[], help="repeat for more tags")
    add.add_argument("--due", "-d", help="today, tomorrow, +3d, +2w, fri, 2024-05-31")
    add.add_argument("--json", action="store_true", help="print the new task as JSON")

    show = commands.add_parser("list", help="list tasks (open ones by default)")
    which = show.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_const", dest="status", const="all")
    which.add_argument("--done", action="store_const", dest="status", const="done")
    show.add_argument("--tag", "-t")
    show.add_argument("--priority", "-p", choices=PRIORITIES)
    show.add_argument("--overdue", action="store_true", help="only open tasks past their due date")
    show.add_argument("--json", action="store_true")
    show.set_defaults(status="open")

    for name, text in (("done", "mark tasks done"), ("undo", "mark tasks open again")):
        cmd = commands.add_parser(name, help=text)
        cmd.add_argument("ids", type=int, nargs="+")
    remove = commands.add_parser("rm", help="remove tasks")
    remove.add_argument("ids", type=int, nargs="+")

    clear = commands.add_parser("clear", help="remove every done task")
    clear.add_argument("--json", action="store_true")

    counts = commands.add_parser("stats", help="counts of tasks")
    counts.add_argument("--json", action="store_true")
    return parser


def main(argv: list[str] | None = None, today: date | None = None) -> int:
    """Run the command line ``argv``; ``today`` fixes the date (for tests)."""
    args = build_parser().parse_args(argv)
    today = today or date.today()
    path = args.db or Path(os.environ.get("TODO_DB") or Path.home() / ".todo.json")
    try:
        data = store.load(path)
        output, changed = _COMMANDS[args.command](args, data, today)
        if changed:
            store.save(path, data)
    except (CliError, DateError, store.StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if output:
        print(output)
    return 0


def _add(args: argparse.Namespace, data: store.Data, today: date) -> tuple[str, bool]:
    title = args.title.strip()
    if not title:
        raise CliError("a task needs a title")
    due = parse_due(args.due, today) if args.due else None
    tags = sorted({t.strip().lower() for t in args.tag if t.strip()})
    task = Task(store.new_id(data), title, args.priority, tags, due)
    data.tasks.append(task)
    if args.json:
        return json.dumps(task.to_dict()), True
    return f"Added task {task.id}: {task.title}", True


def _list(args: argparse.Namespace, data: store.Data, today: date) -> tuple[str, bool]:
    tasks = filter_tasks(
        data.tasks,
        status=args.status,
        tag=args.tag,
        priority=args.priority,
        overdue=args.overdue,
        today=today,
    )
    tasks = sort_tasks(tasks)
    if args.json:
        return json.dumps([t.to_dict() for t in tasks]), False
    if not tasks:
        return "No tasks.", False
    return "\n".join(_line(task, today) for task in tasks), False


def _line(task: Task, today: date) -> str:
    mark = "x" if task.done else " "
    text = f"{task.id:>3} [{mark}] {task.priority:<6} {task.title}"
    if task.tags:
        text += "  " + " ".join(f"#{tag}" for tag in task.tags)
    if task.due:
        text += f"  due {task.due.isoformat()} ({describe_due(task.due, today)})"
    return text


def _tasks(data: store.Data, ids: list[int]) -> list[Task]:
    """The tasks with ``ids``: every id must exist, or nothing is changed."""
    found = []
    for task_id in ids:
        try:
            found.append(data.find(task_id))
        except KeyError:
            raise CliError(f"no task with id {task_id}") from None
    return found


def _done(args: argparse.Namespace, data: store.Data, today: date) -> tuple[str, bool]:
    tasks = _tasks(data, args.ids)
    for task in tasks:
        task.done = True
    return "\n".join(f"Done: {task.id} {task.title}" for task in tasks), True


def _undo(args: argparse.Namespace, data: store.Data, today: date) -> tuple[str, bool]:
    tasks = _tasks(data, args.ids)
    for task in tasks:
        task.done = False
    return "\n".join(f"Open again: {task.id} {task.title}" for task in tasks), True


def _rm(args: argparse.Namespace, data: store.Data, today: date) -> tuple[str, bool]:
    gone = {task.id for task in _tasks(data, args.ids)}
    data.tasks = [t for t in data.tasks if t.id not in gone]
    return f"Removed {len(gone)} task(s)", True


def _clear(args: argparse.Namespace, data: store.Data, today: date) -> tuple[str, bool]:
    removed = [t.id for t in data.tasks if t.done]
    data.tasks = [t for t in data.tasks if not t.done]
    if args.json:
        return json.dumps({"removed": removed}), bool(removed)
    return f"Removed {len(removed)} done task(s)", bool(removed)


def _stats(args: argparse.Namespace, data: store.Data, today: date) -> tuple[str, bool]:
    counts: dict[str, Any] = stats(data.tasks, today)
    if args.json:
        return json.dumps(counts), False
    lines = [f"{key}: {counts[key]}" for key in ("total", "open", "done", "overdue")]
    lines.append("by priority: " + ", ".join(f"{k} {v}" for k, v in counts["by_priority"].items()))
    if counts["by_tag"]:
        lines.append("by tag: " + ", ".join(f"#{k} {v}" for k, v in counts["by_tag"].items()))
    return "\n".join(lines), False


_COMMANDS = {
    "add": _add,
    "list": _list,
    "done": _done,
    "undo": _undo,
    "rm": _rm,
    "clear": _clear,
    "stats": _stats,
}
