"""Due dates as people type them, and as the list shows them.

Forms: ``today``, ``tomorrow``, ``+Nd`` (N days on), ``+Nw`` (N weeks on), a weekday
(``fri`` or ``friday``: the next one, a week on when it is that day today) and
ISO dates (``2024-05-31``). Case and surrounding spaces do not matter.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_OFFSET = re.compile(r"^\+(\d{1,3})([dw])$")


class DateError(ValueError):
    """A due date that cannot be read."""


def parse_due(text: str, today: date) -> date:
    """The date ``text`` means, seen from ``today``."""
    clean = text.strip().lower()
    if clean == "today":
        return today
    if clean == "tomorrow":
        return today + timedelta(days=1)
    if match := _OFFSET.match(clean):
        count, unit = int(match.group(1)), match.group(2)
        return today + timedelta(days=count * (7 if unit == "w" else 1))
    for number, name in enumerate(WEEKDAYS):
        if clean in (name, name[:3]):
            ahead = (number - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead)
    try:
        return date.fromisoformat(clean)
    except ValueError:
        raise DateError(
            f"not a due date: {text!r} (try today, tomorrow, +3d, +2w, fri, 2024-05-31)"
        ) from None


def describe_due(due: date, today: date) -> str:
    """``today``, ``tomorrow``, ``yesterday``, ``in 3 days`` or ``2 days ago``."""
    days = (due - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {days} days" if days > 0 else f"{-days} days ago"
