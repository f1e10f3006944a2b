"""Pure detection of a model answer stuck in a loop (the same lines over and over).

A small model sometimes ends an answer by writing one line, or one block of lines, again
and again until ``max_tokens``, or the same line with the next number each time
(``assert change_base(30, 2) == '11110'``, ``assert change_base(31, 2) == ...``): the
1.5B model's tester wrote one assertion for 2,048 tokens (144 s on the CPU), and
counted through ``change_base`` for 2,048 more (107 s). :func:`loop_start` finds such a
tail while the answer streams, so the call can stop there.
"""

from __future__ import annotations

import re

__all__ = ["COUNTING_LINES", "MAX_PERIOD", "MIN_LINES", "loop_start"]

MAX_PERIOD = 8
"""The longest block of lines looked for (a test function of a few lines, repeated)."""

MIN_LINES = 12
"""How many lines the exact repeats must span, beyond the first copy, to count as a loop.

Legit code repeats a line a few times (rows of a matrix literal, ``assert`` lines with
the same call), so a loop needs at least three repeats *and* this many repeated lines.
"""

COUNTING_LINES = 24
"""How many lines repeats that differ only in their numbers must span, beyond the first
copy: a test may well check ten or twenty numbers in a row, rarely twenty-five."""

_NUMBER = re.compile(r"\d+")


def loop_start(text: str) -> int | None:
    """Where ``text`` should end because its tail loops, or None when it does not.

    Only complete lines count (compared without trailing spaces; a block of blank lines
    does not count). Two kinds of tail loop:

    - the last 1 to :data:`MAX_PERIOD` lines are one block written at least four times
      in a row, the copies after the first spanning at least :data:`MIN_LINES` lines:
      the answer keeps the first copy;
    - the same, but the copies differ in their numbers only (counting), spanning at least
      :data:`COUNTING_LINES` lines after the first: the answer keeps every complete line
      (each is a distinct line; only more of them would come).

    Returns:
        The offset to cut at (``text[:offset]`` ends with a newline), or None.
    """
    end = text.rfind("\n")
    if end < 0:
        return None
    lines = text[:end].split("\n")
    exact = [line.rstrip() for line in lines]
    copies = _tail_copies(exact, MIN_LINES)
    if copies is not None:
        period, count = copies
        first_end = len(lines) - (count - 1) * period
        return sum(len(line) + 1 for line in lines[:first_end])
    counted = [_NUMBER.sub("0", line) for line in exact]
    if _tail_copies(counted, COUNTING_LINES):
        return end + 1
    return None


def _tail_copies(keys: list[str], min_lines: int) -> tuple[int, int] | None:
    """``(period, copies)`` of the shortest block (not all blank) that ends ``keys`` at
    least four times in a row, with ``min_lines`` lines after its first copy."""
    for period in range(1, MAX_PERIOD + 1):
        if len(keys) < period:
            break
        block = keys[len(keys) - period :]
        copies = 1
        while (
            len(keys) >= (copies + 1) * period
            and keys[len(keys) - (copies + 1) * period : len(keys) - copies * period] == block
        ):
            copies += 1
        if copies >= 4 and (copies - 1) * period >= min_lines and any(block):
            return period, copies
    return None
