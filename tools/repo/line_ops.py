"""Line operations on a file's original lines, applied bottom-up (pure; the splicers' core)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codeagent.tools.repo.edit_types import EditError

__all__ = ["LineOps"]


@dataclass(frozen=True)
class _Op:
    """Replace original lines ``[start, end)`` (0-based) by ``lines``; start == end inserts."""

    start: int
    end: int
    lines: tuple[str, ...]
    seq: int


class LineOps:
    """Replacements and insertions keyed to the original line numbers of ``path``.

    Two replacements may not overlap (the model sent one symbol twice); several
    insertions at one position keep the order they were added in, after any
    replacement that starts there.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._ops: list[_Op] = []

    def add(self, start: int, end: int, lines: Sequence[str]) -> None:
        """Replace lines ``[start, end)`` by ``lines`` (``start == end``: insert there).

        Raises:
            EditError: When it overlaps a replacement already added.
        """
        for op in self._ops:
            if op.start < end and start < op.end:
                raise EditError(
                    f"the new code for {self.path} changes the same lines twice "
                    f"(lines {start + 1}-{end}); send each symbol once",
                    path=self.path,
                )
        self._ops.append(_Op(start, end, tuple(lines), len(self._ops)))

    def apply(self, lines: Sequence[str]) -> list[str]:
        """``lines`` with every operation applied."""
        out = list(lines)
        # bottom-up so earlier positions stay valid; at one position the replacement
        # goes first, then the insertions, the last one first (they end up in order)
        for op in sorted(self._ops, key=lambda o: (o.start, o.start < o.end, o.seq), reverse=True):
            out[op.start : op.end] = op.lines
        return out
