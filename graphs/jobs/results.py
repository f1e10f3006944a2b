"""What a job run produces: its result, its progress events, its checkpoint rows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Checkpoint", "NodeEvent", "RunResult"]


@dataclass(frozen=True)
class NodeEvent:
    """One finished node, as streamed to ``on_event`` callbacks (the CLI's progress)."""

    thread_id: str
    node: str
    update: dict[str, Any]
    kind: str = "end"  # "start" when the node begins, "end" with its update


@dataclass(frozen=True)
class RunResult:
    """The outcome of a job.

    Attributes:
        thread_id: The job's id (use it with resume, history).
        status: success, failed, budget_exceeded or error.
        files: Solution files (path -> text).
        tests: Test files (path -> text).
        test_report: The last test run of the kept files.
        review: The last review verdict.
        plan: The last plan.
        attempts: How often the coder ran.
        usage: Model calls and tokens.
        out_dir: Where the files were written.
        error: What went wrong, for status ``error``.
        trace_id: The OpenTelemetry trace of this run (hex).
        trace_url: A link to the trace in Jaeger, when a Jaeger UI is configured.
        approval: What the job waits for a person to approve (status ``awaiting_approval``).
        patch: A repo job's changes as a unified diff against the repository as it was
            when the job started (``None`` for other jobs); ``files`` are then only
            the changed files.
        workflow: The name of the workflow the job ran.
        workflow_reason: Why codeagent chose that workflow, when the caller named none
            (e.g. the embedded model's best-measured one); ``None`` otherwise.
    """

    thread_id: str
    status: str
    files: dict[str, str] = field(default_factory=dict)
    tests: dict[str, str] = field(default_factory=dict)
    test_report: dict[str, Any] | None = None
    review: dict[str, Any] | None = None
    plan: dict[str, Any] | None = None
    attempts: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    out_dir: str | None = None
    error: str | None = None
    trace_id: str | None = None
    trace_url: str | None = None
    approval: dict[str, Any] | None = None
    patch: str | None = None
    workflow: str | None = None
    workflow_reason: str | None = None

    @property
    def ok(self) -> bool:
        """True when the job succeeded."""
        return self.status == "success"

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (the CLI's ``--json`` output)."""
        return asdict(self)


@dataclass(frozen=True)
class Checkpoint:
    """One row of a job's history."""

    step: int
    node: str
    next: str
    attempt: int
    status: str
    created_at: str
    checkpoint_id: str
