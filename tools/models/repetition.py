"""Pure detection of a model answer stuck in a loop (the same lines over and over).

A small model sometimes ends an answer by writing one line, or one block of lines, again
and again until ``max_tokens``, or nearly the same line each time: the next number
(``assert change_base(30, 2) == '11110'``, ``assert change_base(31, 2) == ...``), or one
more list element. The 1.5B model's tester, writing tests for HumanEval/0, grew one
list an element an assertion and then repeated the last assertion until the 2,048-token
cap (102 s on the CPU); for /44 it counted through ``change_base`` to the cap (107 s).
:func:`loop_start` finds such a tail while the answer streams, so the call can stop
there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from difflib import SequenceMatcher

__all__ = [
    "ALIKE",
    "ALIKE_CHARS",
    "ALIKE_LINES",
    "MAX_PERIOD",
    "MIN_CHARS",
    "MIN_LINES",
    "loop_start",
]

MAX_PERIOD = 8
"""The longest block of lines looked for (a test function of a few lines, repeated)."""

MIN_LINES = 12
MIN_CHARS = 480
"""Exact repeats must span this many lines, or characters, beyond the block's first copy
(and the block must come at least four times). Legit code repeats a short line a few
times (rows of a matrix literal), never a dozen times, nor a long line four times."""

ALIKE = 0.9
ALIKE_LINES = 24
ALIKE_CHARS = 1000
"""Near-repeats (each line as like the line a block before it as :data:`ALIKE`, by
difflib's ratio, with every number read as 0) must span this many lines, or characters,
beyond the first block: a test may well check ten or twenty numbers in a row, rarely
twenty-five. (HumanEval's own tests, read line by line, reach neither: at 800 characters
one of them would.)"""

_NUMBER = re.compile(r"\d+")


def loop_start(text: str) -> int | None:
    """Where ``text`` should end because its tail loops, or None when it does not.

    Only complete lines count, compared without trailing spaces; a block of blank lines
    is never a loop. The tail loops when the last lines repeat a block of 1 to
    :data:`MAX_PERIOD` lines at least three times over:

    - exactly, spanning :data:`MIN_LINES` lines or :data:`MIN_CHARS` characters after
      the first copy: the answer keeps the first copy;
    - nearly (differing in numbers, or a little longer each time), spanning
      :data:`ALIKE_LINES` lines or :data:`ALIKE_CHARS` characters: the answer keeps every
      complete line (each says something new; only more of the same would come).

    Returns:
        The offset to cut at (``text[:offset]`` ends with a newline), or None.
    """
    end = text.rfind("\n")
    if end < 0:
        return None
    raw = text[:end].split("\n")
    lines = [line.rstrip() for line in raw]
    repeat = _tail_run(lines, str.__eq__, MIN_LINES, MIN_CHARS)
    if repeat is not None:
        return len("\n".join(raw[: len(raw) - repeat])) + 1
    counted = [_NUMBER.sub("0", line) for line in lines]
    if _tail_run(counted, _alike, ALIKE_LINES, ALIKE_CHARS) is not None:
        return end + 1
    return None


def _alike(a: str, b: str) -> bool:
    if a == b:
        return True
    if not a.strip() or not b.strip():
        return False
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.quick_ratio() >= ALIKE and matcher.ratio() >= ALIKE


def _tail_run(
    lines: list[str], same: Callable[[str, str], bool], min_lines: int, min_chars: int
) -> int | None:
    """How many last lines repeat the block before them, when that makes a loop.

    For each period p (shortest first), the run is the last lines each ``same`` as the
    line p before it; it makes a loop when the block (the p lines before the run) is not
    all blank, the run is at least 3 p lines, and it spans ``min_lines`` lines or
    ``min_chars`` characters. (A run stays short: the stream stops once it is a loop.)
    """
    for period in range(1, MAX_PERIOD + 1):
        run, chars = 0, 0
        while run + period < len(lines) and same(lines[-1 - run], lines[-1 - run - period]):
            chars += len(lines[-1 - run]) + 1
            run += 1
        block = lines[len(lines) - run - period : len(lines) - run]
        if run >= 3 * period and (run >= min_lines or chars >= min_chars) and any(block):
            return run
    return None
