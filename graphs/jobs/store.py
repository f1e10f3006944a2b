"""Where a job keeps what it produces besides its checkpoints: one small interface.

A :class:`JobStore` holds each job's run record, its audit lines, its trace (OTLP/JSON
spans), shared blobs (a repo job's snapshot) and the leases that keep two workers off
one job. Two implementations:

- :class:`FileStore` (the default, one machine): ``<home>/runs/<thread id>/job.json``,
  ``audit.jsonl`` and the trace (``trace.jsonl``, appended as spans end, and
  ``trace.json``, the whole trace as one OTLP/JSON document, written when a run ends);
  blobs under ``<home>/blobs``; leases in ``<home>/leases.sqlite``.
- ``PostgresStore`` (``codeagent.graphs.jobs.store_postgres``): the same in tables of the
  checkpoint database, so that a job run by a worker on another machine can be
  inspected, resumed and approved from anywhere (``CODEAGENT_CHECKPOINT_URL``).

Example::

    store = store_for(RunConfig.from_env())
    for record in store.list_records():
        print(record.thread_id, record.status)
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TextIO

from codeagent.graphs.jobs.checkpoint import check_checkpoint_url
from codeagent.graphs.jobs.config import RunConfig
from codeagent.graphs.jobs.records import (
    JobRecord,
    list_records,
    load_record,
    record_path,
    save_record,
)
from codeagent.tools.errors import ConfigError
from codeagent.tools.observability.audit import read_audit

__all__ = ["FileStore", "JobStore", "store_for"]


class JobStore(Protocol):
    """What a job produces outside its checkpoints (records, audit, trace, blobs, leases)."""

    def save_record(self, record: JobRecord) -> None:
        """Write the job's record (replacing the last one)."""
        ...

    def load_record(self, thread_id: str) -> JobRecord:
        """The job's record.

        Raises:
            ConfigError: When there is no such job.
        """
        ...

    def list_records(self, statuses: Collection[str] | None = None) -> list[JobRecord]:
        """Every job (or those with one of ``statuses``), newest first."""
        ...

    def append_audit(self, thread_id: str, text: str) -> None:
        """Append audit lines (JSON lines, each ending in a newline)."""
        ...

    def read_audit(self, thread_id: str) -> list[dict[str, Any]]:
        """The job's audit lines, oldest first."""
        ...

    def append_spans(self, thread_id: str, resource_spans: list[dict[str, Any]]) -> None:
        """Add OTLP/JSON ``resourceSpans`` to the job's trace."""
        ...

    def read_trace(self, thread_id: str) -> dict[str, Any]:
        """The job's trace as one OTLP/JSON request (``{"resourceSpans": [...]}``)."""
        ...

    def finish_trace(self, thread_id: str) -> None:
        """A run of the job ended: bring whatever derives from its spans up to date."""
        ...

    def put_blob(self, key: str, data: bytes) -> None:
        """Keep ``data`` under ``key`` (e.g. ``snapshots/<id>.tar``)."""
        ...

    def get_blob(self, key: str) -> bytes | None:
        """The blob under ``key``, or None."""
        ...

    def claim(self, thread_id: str, owner: str, ttl_s: float) -> str | None:
        """Take or renew the job's lease for ``owner``.

        Returns:
            None when ``owner`` holds the lease now, else the live owner holding it.
        """
        ...

    def release(self, thread_id: str, owner: str) -> None:
        """Give the lease back (only when ``owner`` holds it)."""
        ...

    def where(self, thread_id: str) -> str:
        """Where the job's trace and audit log are, in words (for messages)."""
        ...


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ConfigError(f"invalid blob key {key!r}")
    return key


class FileStore:
    """A job store in the state dir (one machine; the default)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._lock = threading.Lock()
        self._open: dict[Path, TextIO] = {}  # append handles of running jobs' logs
        self._runs: dict[str, Path] = {}

    def _append(self, path: Path, text: str) -> None:
        """Append ``text`` to ``path`` and flush it to the OS (a killed process loses
        nothing written); the file stays open until the run ends (:meth:`finish_trace`)."""
        with self._lock:
            handle = self._open.get(path)
            if handle is None:
                path.parent.mkdir(parents=True, exist_ok=True)
                handle = self._open[path] = open(path, "a", encoding="utf-8")  # noqa: SIM115
            handle.write(text)
            handle.flush()

    def run_dir(self, thread_id: str) -> Path:
        """The job's run folder (``job.json``, ``trace.jsonl``, ``trace.json``, ``audit.jsonl``)."""
        found = self._runs.get(thread_id)
        if found is None:
            found = self._runs[thread_id] = record_path(self.home, thread_id).parent
        return found

    def save_record(self, record: JobRecord) -> None:
        save_record(self.home, record)

    def load_record(self, thread_id: str) -> JobRecord:
        return load_record(self.home, thread_id)

    def list_records(self, statuses: Collection[str] | None = None) -> list[JobRecord]:
        records = list_records(self.home)
        return records if statuses is None else [r for r in records if r.status in statuses]

    def append_audit(self, thread_id: str, text: str) -> None:
        self._append(self.run_dir(thread_id) / "audit.jsonl", text)

    def read_audit(self, thread_id: str) -> list[dict[str, Any]]:
        return read_audit(self.run_dir(thread_id) / "audit.jsonl")

    def append_spans(self, thread_id: str, resource_spans: list[dict[str, Any]]) -> None:
        """Append one line to ``trace.jsonl``: a batch of ended spans (each written once)."""
        line = json.dumps(resource_spans, separators=(",", ":")) + "\n"
        self._append(self.run_dir(thread_id) / "trace.jsonl", line)

    def read_trace(self, thread_id: str) -> dict[str, Any]:
        run = self.run_dir(thread_id)
        log = run / "trace.jsonl"
        if not log.exists():  # a job traced before the log existed: its whole-file trace
            return _trace_document(run / "trace.json")
        spans: list[dict[str, Any]] = []
        for line in log.read_text(encoding="utf-8").splitlines():
            try:
                batch = json.loads(line)
            except ValueError:  # the last line of a run killed while writing it
                continue
            if isinstance(batch, list):
                spans.extend(batch)
        return {"resourceSpans": spans}

    def finish_trace(self, thread_id: str) -> None:
        """Close the run's logs; write ``trace.json``: the whole trace as one document
        (Jaeger's "Upload JSON")."""
        run = self.run_dir(thread_id)
        path = run / "trace.json"
        with self._lock:
            for log in [p for p in self._open if p.parent == run]:
                self._open.pop(log).close()
            data = self.read_trace(thread_id)
            if not data["resourceSpans"]:
                return
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, path)

    def put_blob(self, key: str, data: bytes) -> None:
        path = self.home / "blobs" / _check_key(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def get_blob(self, key: str) -> bytes | None:
        try:
            return (self.home / "blobs" / _check_key(key)).read_bytes()
        except FileNotFoundError:
            return None

    def claim(self, thread_id: str, owner: str, ttl_s: float) -> str | None:
        now = time.time()
        with self._leases() as conn:
            row = conn.execute(
                "SELECT owner, expires FROM leases WHERE thread_id = ?", (thread_id,)
            ).fetchone()
            if row and row[0] != owner and row[1] > now:
                return str(row[0])
            conn.execute(
                "INSERT OR REPLACE INTO leases (thread_id, owner, expires) VALUES (?, ?, ?)",
                (thread_id, owner, now + ttl_s),
            )
        return None

    def release(self, thread_id: str, owner: str) -> None:
        with self._leases() as conn:
            conn.execute("DELETE FROM leases WHERE thread_id = ? AND owner = ?", (thread_id, owner))

    @contextmanager
    def _leases(self) -> Iterator[sqlite3.Connection]:
        self.home.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.home / "leases.sqlite", timeout=60, isolation_level=None)
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS leases "
                "(thread_id TEXT PRIMARY KEY, owner TEXT NOT NULL, expires REAL NOT NULL)"
            )
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def where(self, thread_id: str) -> str:
        return str(self.run_dir(thread_id))


def _trace_document(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"resourceSpans": []}
    return data if isinstance(data, dict) and "resourceSpans" in data else {"resourceSpans": []}


def store_for(config: RunConfig) -> JobStore:
    """The job store of a run configuration: PostgreSQL when it has a checkpoint URL.

    Raises:
        ConfigError: For a checkpoint URL that is not PostgreSQL's.
    """
    if config.checkpoint_url is None:
        return FileStore(config.home)
    from codeagent.graphs.jobs.store_postgres import PostgresStore

    return PostgresStore.shared(check_checkpoint_url(config.checkpoint_url))
