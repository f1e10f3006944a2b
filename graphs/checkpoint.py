"""Checkpointers: a SQLite file in the state dir by default."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver

from tools.errors import ConfigError

__all__ = ["open_checkpointer", "state_dir"]


def state_dir(override: str | Path | None = None) -> Path:
    """Where codeagent keeps checkpoints and run records.

    ``override``, else ``$CODEAGENT_HOME``, else ``./.codeagent``.
    """
    path = Path(override or os.environ.get("CODEAGENT_HOME") or ".codeagent")
    return path.expanduser().resolve()


@contextmanager
def open_checkpointer(directory: Path) -> Iterator[SqliteSaver]:
    """A SQLite checkpointer on ``directory/checkpoints.sqlite`` (WAL mode, crash-safe).

    Raises:
        ConfigError: When the directory cannot be created or the file opened.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(directory / "checkpoints.sqlite", check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(
            f"cannot open the checkpoint store in {directory}: {exc}",
            hint="set CODEAGENT_HOME to a writable directory",
        ) from exc
    try:
        saver = SqliteSaver(conn)
        saver.setup()
        yield saver
    finally:
        conn.close()
