"""The job store in PostgreSQL: records, audit lines, trace spans, blobs and leases in tables.

Used whenever a checkpoint URL is set (``CODEAGENT_CHECKPOINT_URL``), next to the
checkpoints in the same database, so every command works on a job that ran on another
machine. Each process keeps one connection per URL (autocommit; reopened once when
the server dropped it). A server that does not answer gives a :class:`ConfigError`
with the password hidden; nothing is half-written (each call is one statement).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import asdict
from typing import Any, ClassVar, TypeVar

from codeagent.graphs.jobs.checkpoint import hide_password, schema_lock
from codeagent.graphs.jobs.config import CHECKPOINT_URL_ENV
from codeagent.graphs.jobs.records import JobRecord
from codeagent.tools.errors import ConfigError

__all__ = ["PostgresStore", "StoreUnavailable"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS codeagent_jobs (
    thread_id TEXT PRIMARY KEY, record JSONB NOT NULL, updated_at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS codeagent_audit (
    id BIGSERIAL PRIMARY KEY, thread_id TEXT NOT NULL, lines TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS codeagent_audit_thread ON codeagent_audit (thread_id, id);
CREATE TABLE IF NOT EXISTS codeagent_spans (
    id BIGSERIAL PRIMARY KEY, thread_id TEXT NOT NULL, resource_spans JSONB NOT NULL);
CREATE INDEX IF NOT EXISTS codeagent_spans_thread ON codeagent_spans (thread_id, id);
CREATE TABLE IF NOT EXISTS codeagent_blobs (key TEXT PRIMARY KEY, data BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS codeagent_leases (
    thread_id TEXT PRIMARY KEY, owner TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL);
"""


class StoreUnavailable(ConfigError):
    """The shared store's database did not answer (a worker retries the job later)."""


class PostgresStore:
    """A :class:`~codeagent.graphs.jobs.store.JobStore` in PostgreSQL tables.

    Args:
        url: A ``postgresql://`` URL (the checkpoint database).
    """

    _shared: ClassVar[dict[str, PostgresStore]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PostgresStore({hide_password(self._url)!r})"

    @classmethod
    def shared(cls, url: str) -> PostgresStore:
        """The process's store for ``url`` (one connection per process and URL)."""
        with cls._shared_lock:
            store = cls._shared.get(url)
            if store is None:
                store = cls._shared[url] = cls(url)
            return store

    # -- records -------------------------------------------------------------------

    def save_record(self, record: JobRecord) -> None:
        data = json.dumps(asdict(record))
        self._run(
            lambda cur: cur.execute(
                "INSERT INTO codeagent_jobs (thread_id, record, updated_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (thread_id) DO UPDATE SET record = EXCLUDED.record, "
                "updated_at = EXCLUDED.updated_at",
                (record.thread_id, data, time.time()),
            )
        )

    def load_record(self, thread_id: str) -> JobRecord:
        row = self._run(
            lambda cur: cur.execute(
                "SELECT record FROM codeagent_jobs WHERE thread_id = %s", (thread_id,)
            ).fetchone()
        )
        if row is None:
            raise ConfigError(
                f"no job {thread_id!r} in the job database {hide_password(self._url)}",
                hint="list jobs with 'codeagent jobs'; check CODEAGENT_CHECKPOINT_URL",
            )
        return _record(row[0], thread_id)

    def list_records(self, statuses: Collection[str] | None = None) -> list[JobRecord]:
        params: tuple[Any, ...] = ()
        query = "SELECT record FROM codeagent_jobs ORDER BY thread_id DESC"
        if statuses is not None:
            query = (
                "SELECT record FROM codeagent_jobs WHERE record->>'status' = ANY(%s) "
                "ORDER BY thread_id DESC"
            )
            params = (list(statuses),)
        rows = self._run(lambda cur: cur.execute(query, params).fetchall())
        records = []
        for (data,) in rows:
            try:
                records.append(JobRecord(**data))
            except TypeError:
                continue
        return records

    # -- audit and trace -----------------------------------------------------------

    def append_audit(self, thread_id: str, text: str) -> None:
        self._run(
            lambda cur: cur.execute(
                "INSERT INTO codeagent_audit (thread_id, lines) VALUES (%s, %s)", (thread_id, text)
            )
        )

    def read_audit(self, thread_id: str) -> list[dict[str, Any]]:
        rows = self._run(
            lambda cur: cur.execute(
                "SELECT lines FROM codeagent_audit WHERE thread_id = %s ORDER BY id", (thread_id,)
            ).fetchall()
        )
        return [json.loads(line) for (text,) in rows for line in text.splitlines() if line]

    def append_spans(self, thread_id: str, resource_spans: list[dict[str, Any]]) -> None:
        data = json.dumps(resource_spans)
        self._run(
            lambda cur: cur.execute(
                "INSERT INTO codeagent_spans (thread_id, resource_spans) VALUES (%s, %s)",
                (thread_id, data),
            )
        )

    def read_trace(self, thread_id: str) -> dict[str, Any]:
        rows = self._run(
            lambda cur: cur.execute(
                "SELECT resource_spans FROM codeagent_spans WHERE thread_id = %s ORDER BY id",
                (thread_id,),
            ).fetchall()
        )
        return {"resourceSpans": [span for (batch,) in rows for span in batch]}

    def finish_trace(self, thread_id: str) -> None:
        return None  # the spans' rows are the trace

    # -- blobs ---------------------------------------------------------------------

    def put_blob(self, key: str, data: bytes) -> None:
        self._run(
            lambda cur: cur.execute(
                "INSERT INTO codeagent_blobs (key, data) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data",
                (key, data),
            )
        )

    def get_blob(self, key: str) -> bytes | None:
        row = self._run(
            lambda cur: cur.execute(
                "SELECT data FROM codeagent_blobs WHERE key = %s", (key,)
            ).fetchone()
        )
        return bytes(row[0]) if row else None

    # -- leases --------------------------------------------------------------------

    def claim(self, thread_id: str, owner: str, ttl_s: float) -> str | None:
        now = time.time()
        row = self._run(
            lambda cur: cur.execute(
                "INSERT INTO codeagent_leases (thread_id, owner, expires) VALUES (%s, %s, %s) "
                "ON CONFLICT (thread_id) DO UPDATE SET owner = EXCLUDED.owner, "
                "expires = EXCLUDED.expires "
                "WHERE codeagent_leases.owner = EXCLUDED.owner OR codeagent_leases.expires < %s "
                "RETURNING owner",
                (thread_id, owner, now + ttl_s, now),
            ).fetchone()
        )
        if row is not None:
            return None
        held = self._run(
            lambda cur: cur.execute(
                "SELECT owner FROM codeagent_leases WHERE thread_id = %s", (thread_id,)
            ).fetchone()
        )
        return str(held[0]) if held else "another worker"

    def release(self, thread_id: str, owner: str) -> None:
        self._run(
            lambda cur: cur.execute(
                "DELETE FROM codeagent_leases WHERE thread_id = %s AND owner = %s",
                (thread_id, owner),
            )
        )

    def where(self, thread_id: str) -> str:
        return f"the job database {hide_password(self._url)}"

    # -- the connection ------------------------------------------------------------

    def _run(self, statement: Callable[[Any], T]) -> T:
        """Run one statement, reconnecting once when the server dropped the connection.

        Raises:
            StoreUnavailable: When the database does not answer.
        """
        import psycopg

        with self._lock:
            for tries_left in (1, 0):
                try:
                    conn = self._connection()
                    with conn.cursor() as cur:
                        return statement(cur)
                except psycopg.OperationalError as exc:
                    self._drop()
                    if tries_left:
                        continue
                    raise StoreUnavailable(
                        f"the job database {hide_password(self._url)} does not answer: "
                        f"{hide_password(str(exc)).strip()}",
                        hint=f"check {CHECKPOINT_URL_ENV} and that the server is running",
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            try:
                import psycopg
            except ImportError as exc:  # pragma: no cover - installed with the postgres extra
                raise ConfigError(
                    "the PostgreSQL job store is not installed",
                    hint="pip install 'codeagent[postgres]'",
                ) from exc
            try:
                conn = psycopg.connect(self._url, autocommit=True, connect_timeout=10)
            except psycopg.ProgrammingError as exc:  # a malformed URL: not worth a retry
                raise ConfigError(
                    f"cannot use the job database {hide_password(self._url)}: "
                    f"{hide_password(str(exc)).strip()}",
                    hint=f"check {CHECKPOINT_URL_ENV} (--checkpoint-url)",
                ) from None
            with schema_lock(conn):  # two workers starting at once on a fresh database
                conn.execute(_SCHEMA)
            self._conn = conn
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # the connection is broken anyway
                self._conn.close()
        self._conn = None


def _record(data: Any, thread_id: str) -> JobRecord:
    try:
        return JobRecord(**data)
    except TypeError as exc:
        raise ConfigError(f"the record of job {thread_id!r} is unreadable: {exc}") from None
