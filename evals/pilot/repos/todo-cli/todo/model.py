"""A task and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

PRIORITIES = ("low", "normal", "high")


@dataclass
class Task:
    """One thing to do."""

    id: int
    title: str
    priority: str = "normal"
    tags: list[str] = field(default_factory=list)
    due: date | None = None
    done: bool = False

    def is_overdue(self, today: date) -> bool:
        """Open and due before ``today``."""
        return not self.done and self.due is not None and self.due < today

    def to_dict(self) -> dict[str, Any]:
        """The task as JSON-ready data (the due date as ``YYYY-MM-DD`` or None)."""
        return {
            "id": self.id,
            "title": self.title,
            "priority": self.priority,
            "tags": list(self.tags),
            "due": self.due.isoformat() if self.due else None,
            "done": self.done,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Task:
        """The task ``to_dict`` wrote."""
        due = data.get("due")
        return cls(
            id=int(data["id"]),
            title=str(data["title"]),
            priority=data.get("priority", "normal"),
            tags=list(data.get("tags", [])),
            due=date.fromisoformat(due) if due else None,
            done=bool(data.get("done", False)),
        )
