"""A resumable results file: one JSON line per finished item, so a rerun skips what is done.

Batches (``results.jsonl``) and evals (``results-MODE.jsonl``) keep their results in
one. Lines are appended under a lock and flushed one by one; reading tolerates a line
torn by a kill (it is skipped, and the next append starts on a fresh line) and lines
from another version that no longer decode.

Example::

    log = ResultLog(path, key=lambda r: r["id"], decode=dict, encode=json.dumps)
    done = log.load()          # id -> result, the later line winning
    log.append({"id": "t1", "status": "success"})
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Generic, TypeVar

__all__ = ["ResultLog"]

R = TypeVar("R")


class ResultLog(Generic[R]):
    """An append-only JSONL file of results (thread-safe; flushed per line).

    Args:
        path: The JSONL file (its folder is created).
        key: The id of a result; a later line with the same id wins.
        decode: A JSON object back into a result; ``None``, or raising ``ValueError``
            or ``TypeError`` (pydantic's ``ValidationError`` is one), skips the line.
        encode: A result as one line of JSON (no newline).
        fresh: Start the file afresh, dropping the results already there.
    """

    def __init__(
        self,
        path: Path,
        *,
        key: Callable[[R], str],
        decode: Callable[[dict[str, Any]], R | None],
        encode: Callable[[R], str],
        fresh: bool = False,
    ) -> None:
        self.path = path
        self._key = key
        self._decode = decode
        self._encode = encode
        self._lock = threading.Lock()
        if fresh:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("", encoding="utf-8")

    def load(self) -> dict[str, R]:
        """The results stored so far, by id, in the order first stored (reads only)."""
        if not self.path.is_file():
            return {}
        found: dict[str, R] = {}
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            result = self._read_line(line)
            if result is not None:
                found[self._key(result)] = result
        return found

    def append(self, result: R) -> None:
        """Store one result, on a line of its own even after a line torn by a kill."""
        line = (self._encode(result) + "\n").encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "ab+") as handle:
                if _torn(handle):
                    line = b"\n" + line  # keep the torn line, start this one afresh
                handle.write(line)
                handle.flush()

    def _read_line(self, line: str) -> R | None:
        try:
            data = json.loads(line)
            return self._decode(data) if isinstance(data, dict) else None
        except (ValueError, TypeError):
            return None  # a line torn by a kill, or from another version


def _torn(handle: BinaryIO) -> bool:
    """True when the file does not end with a newline (a kill cut its last line)."""
    if handle.seek(0, os.SEEK_END) == 0:
        return False
    handle.seek(-1, os.SEEK_END)
    return handle.read(1) != b"\n"
