"""Run records: one folder per job under ``<state dir>/runs/<thread id>/``.

``job.json`` keeps what a resume needs (the task, the workflow text and where it
came from, the output folder) and the job's last known status. No secrets: the
workflow file names environment variables, never their values.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from codeagent.tools.errors import ConfigError

__all__ = [
    "JobRecord",
    "list_records",
    "load_record",
    "new_thread_id",
    "record_path",
    "save_record",
    "summarize_tests",
]


@dataclass(frozen=True)
class JobRecord:
    """What is kept about one job outside the checkpoints."""

    thread_id: str
    task: str
    workflow_file: str
    workflow_text: str
    out_dir: str
    created_at: float
    status: str = "running"
    updated_at: float = 0.0
    error: str | None = None
    trace_id: str | None = None  # the first run's trace; resumed runs link to it
    root_span_id: str | None = None
    budgets: dict[str, Any] | None = None  # raised budgets, overriding the workflow's
    tests: dict[str, Any] | None = None  # the last test run's counts (summarize_tests)
    repo: dict[str, Any] | None = None  # a repo job: root, snapshot id, base commit
    engine: str | None = None  # "celery": submitted to workers (None: run in-process)
    queue: str | None = None  # the workers' queue it was submitted to
    trace_parent: str | None = None  # W3C traceparent of the submit span (one trace)
    enqueued_at: float | None = None  # when its message was last sent
    workflow_name: str | None = None  # the workflow's ``name:``
    workflow_reason: str | None = None  # why codeagent chose it (None: the caller named it)

    def with_status(self, status: str, error: str | None = None) -> JobRecord:
        """A copy with a new status and time."""
        return replace(self, status=status, error=error, updated_at=time.time())


def summarize_tests(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The counts of a test report a run record keeps (pure); ``None`` without a report.

    ``passed`` counts effective passes; ``raw_passed`` adds the ``vacuous`` tests, which
    pass against a stub of the code too; ``disputed`` model-written tests are not in
    ``total`` (see ``tools/contracts/report.dispute_failures``). ``notes`` say what was
    done to the tests.
    """
    if not report:
        return None
    passed = int(report.get("passed", 0))
    return {
        "passed": passed,
        "raw_passed": int(report.get("raw_passed", passed)),
        "vacuous": int(report.get("vacuous", 0)),
        "total": int(report.get("total", 0)),
        "disputed": int(report.get("disputed", 0)),
        "ok": bool(report.get("ok")),
        "notes": list(report.get("notes") or []),
    }


def new_thread_id() -> str:
    """A sortable, unique job id, e.g. ``20261124-051502-3fa9c1``."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


def record_path(root: Path, thread_id: str) -> Path:
    """Where a job's ``job.json`` is in a state dir.

    Raises:
        ConfigError: For a thread id that is not a plain name.
    """
    if not thread_id or "/" in thread_id or thread_id.startswith("."):
        raise ConfigError(f"invalid thread id {thread_id!r}")
    return root / "runs" / thread_id / "job.json"


def save_record(root: Path, record: JobRecord) -> Path:
    """Write ``job.json`` atomically; returns its path."""
    path = record_path(root, record.thread_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(record), indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_record(root: Path, thread_id: str) -> JobRecord:
    """Read a job's record.

    Raises:
        ConfigError: When there is no such job in this state directory.
    """
    path = record_path(root, thread_id)
    try:
        return JobRecord(**json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConfigError(
            f"no job {thread_id!r} in {root}",
            hint="list jobs with 'codeagent jobs', or set CODEAGENT_HOME to the state dir used",
        ) from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"the record of job {thread_id!r} is unreadable: {exc}") from None


def list_records(root: Path) -> list[JobRecord]:
    """Every job in the state dir, newest first."""
    records = []
    for path in sorted((root / "runs").glob("*/job.json"), reverse=True):
        try:
            records.append(JobRecord(**json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            continue
    return records
