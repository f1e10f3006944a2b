"""Checkpointers: a SQLite file in the state dir by default, or PostgreSQL by URL.

A :class:`~codeagent.graphs.jobs.config.RunConfig` with a ``checkpoint_url``
(``--checkpoint-url postgresql://user:pass@host/db`` or ``CODEAGENT_CHECKPOINT_URL``)
puts every job's checkpoints in PostgreSQL, for teams that share job state; run
records, traces and audit logs stay in the state dir.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from codeagent.graphs.jobs.config import CHECKPOINT_URL_ENV, HOME_ENV, RunConfig
from codeagent.tools.errors import ConfigError

__all__ = [
    "check_checkpoint_url",
    "has_checkpoints",
    "hide_password",
    "is_connection_error",
    "open_checkpointer",
    "schema_lock",
    "state_dir",
]

_BUSY_S = 60.0  # how long a writer waits for another job's write
_OPEN_LOCK = threading.Lock()
_SCHEMA_LOCK = 0x636F6465  # 'code': codeagent's advisory lock id
_SCHEMA_WAIT_S = 300.0
_SCHEMA_POLL_S = 0.05


def state_dir(override: str | Path | None = None) -> Path:
    """Where codeagent keeps checkpoints and run records.

    ``override``, else ``$CODEAGENT_HOME``, else ``./.codeagent`` (see
    :meth:`RunConfig.from_env <codeagent.graphs.jobs.config.RunConfig.from_env>`).
    """
    return RunConfig.from_env(override).home


@contextmanager
def open_checkpointer(config: RunConfig | Path) -> Iterator[BaseCheckpointSaver[Any]]:
    """The job checkpointer: PostgreSQL when ``config`` has a URL, else SQLite in its home.

    Args:
        config: Where jobs keep their state. A bare state dir is read as
            ``RunConfig.from_env(home=directory)`` (so ``$CODEAGENT_CHECKPOINT_URL`` counts).

    Raises:
        ConfigError: When the store cannot be opened (with the password hidden).
    """
    if not isinstance(config, RunConfig):
        config = RunConfig.from_env(config)
    if config.checkpoint_url is not None:
        with _postgres(config.checkpoint_url) as saver:
            yield saver
        return
    with _sqlite(config.home) as sqlite_saver:
        yield sqlite_saver


def check_checkpoint_url(url: str) -> str:
    """``url`` when it is a PostgreSQL URL.

    Raises:
        ConfigError: For any other kind of URL (with the password hidden).
    """
    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            f"unsupported checkpoint URL {hide_password(url)!r}",
            hint=f"{CHECKPOINT_URL_ENV} (--checkpoint-url) takes a "
            "postgresql://user:password@host:port/database URL",
        )
    return url


@contextmanager
def _postgres(url: str) -> Iterator[BaseCheckpointSaver[Any]]:
    check_checkpoint_url(url)
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg import Error as PgError
    except ImportError as exc:
        raise ConfigError(
            "the PostgreSQL checkpointer is not installed",
            hint="pip install 'codeagent[postgres]'",
        ) from exc
    try:
        with PostgresSaver.from_conn_string(url) as saver:
            with schema_lock(saver.conn):  # workers starting at once on a fresh database
                saver.setup()
            yield saver
    except PgError as exc:
        raise ConfigError(
            f"cannot use the checkpoint database {hide_password(url)}: "
            f"{hide_password(str(exc)).strip()}",
            hint=f"check {CHECKPOINT_URL_ENV} (--checkpoint-url) and that the server is running",
        ) from None


def has_checkpoints(config: RunConfig, thread_id: str) -> bool:
    """True when the job has a checkpoint: it ran (resume it), else it never started."""
    with open_checkpointer(config) as saver:
        return saver.get_tuple({"configurable": {"thread_id": thread_id}}) is not None


def is_connection_error(exc: BaseException) -> bool:
    """True when ``exc`` says the PostgreSQL server is gone (not a bug, not bad data)."""
    try:
        from psycopg import OperationalError
    except ImportError:
        return False
    return isinstance(exc, OperationalError)


def hide_password(text: str) -> str:
    """``text`` with the password of any URL in it replaced by ``***`` (pure)."""
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)


@contextmanager
def schema_lock(conn: Any, wait_s: float = _SCHEMA_WAIT_S) -> Iterator[None]:
    """Hold codeagent's PostgreSQL advisory lock (for creating tables on an autocommit
    connection): ``CREATE TABLE IF NOT EXISTS`` racing in two sessions can fail.

    The lock is *tried* until it is free, never waited for inside one statement: the
    holder may be running ``CREATE INDEX CONCURRENTLY`` (LangGraph's migrations do),
    which waits for every open transaction to end, so a session blocked in
    ``pg_advisory_lock`` would deadlock with it.

    Raises:
        ConfigError: When the lock is not free within ``wait_s`` seconds.
    """
    from psycopg.rows import tuple_row

    deadline = time.monotonic() + wait_s
    while True:
        with conn.cursor(row_factory=tuple_row) as cursor:  # (LangGraph's rows are dicts)
            cursor.execute("SELECT pg_try_advisory_lock(%s)", (_SCHEMA_LOCK,))
            row = cursor.fetchone()
        if row is not None and row[0]:
            break
        if time.monotonic() > deadline:
            raise ConfigError(
                f"another process has held codeagent's schema lock for over {wait_s:.0f} s",
                hint="check for a stuck codeagent process on the database (pg_locks)",
            )
        time.sleep(_SCHEMA_POLL_S)
    try:
        yield
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))


@contextmanager
def _sqlite(directory: Path) -> Iterator[SqliteSaver]:
    """A SQLite checkpointer on ``directory/checkpoints.sqlite`` (WAL mode, crash-safe).

    Jobs running side by side (``batch --workers``, or two CLI processes) share the
    file: writers wait for each other (busy timeout) and, within a process, opening
    the store (journal mode, tables) happens one at a time.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with _OPEN_LOCK:
            conn = sqlite3.connect(
                directory / "checkpoints.sqlite", check_same_thread=False, timeout=_BUSY_S
            )
            conn.execute(f"PRAGMA busy_timeout={int(_BUSY_S * 1000)}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            saver = SqliteSaver(conn)
            saver.setup()
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(
            f"cannot open the checkpoint store in {directory}: {exc}",
            hint=f"set {HOME_ENV} (--home) to a writable directory",
        ) from exc
    try:
        yield saver
    finally:
        conn.close()
