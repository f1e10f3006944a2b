"""The audit log: one JSON line per action of a job, append-only, no secrets.

It is written by a span processor, so the audit log and the trace are two
views of the same record: every model call, sandbox command, node run (with
the files it wrote) and routing decision.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from codeagent.tools.observability.tracing import Redactor

__all__ = ["AuditProcessor", "read_audit"]

_FIELDS = {
    "invoke_workflow": {
        "gen_ai.workflow.name": "workflow",
        "codeagent.thread_id": "thread_id",
        "codeagent.status": "status",
        "codeagent.resumed": "resumed",
    },
    "invoke_agent": {
        "gen_ai.agent.name": "node",
        "codeagent.node.kind": "kind",
        "codeagent.attempt": "attempt",
        "codeagent.files_written": "files_written",
        "codeagent.checkpoint_id": "checkpoint_id",
    },
    "chat": {
        "gen_ai.request.model": "model",
        "gen_ai.provider.name": "provider",
        "gen_ai.usage.input_tokens": "input_tokens",
        "gen_ai.usage.output_tokens": "output_tokens",
        "gen_ai.response.finish_reasons": "finish_reasons",
    },
    "execute_tool": {
        "codeagent.sandbox.backend": "backend",
        "codeagent.sandbox.command": "command",
        "process.exit_code": "exit_code",
        "codeagent.sandbox.timed_out": "timed_out",
    },
}
_EVENT = {
    "invoke_workflow": "job",
    "invoke_agent": "node",
    "chat": "model_call",
    "execute_tool": "sandbox_run",
}


class AuditProcessor(SpanProcessor):
    """Appends an audit line for every finished span (and one per transition event).

    Args:
        sink: Given each finished span's JSON lines (newline-terminated): the job
            store's ``append_audit``.

    Secret values are those of the environment as the processor is made (a job's start).
    """

    def __init__(self, sink: Callable[[str], None]) -> None:
        self._write = sink
        self._redact = Redactor()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        attrs = dict(span.attributes or {})
        operation = str(attrs.get("gen_ai.operation.name", ""))
        if operation not in _FIELDS:
            return
        line: dict[str, Any] = {
            "t": (span.end_time or 0) / 1e9,
            "event": _EVENT[operation],
            "duration_s": round(((span.end_time or 0) - (span.start_time or 0)) / 1e9, 3),
        }
        for key, name in _FIELDS[operation].items():
            if key in attrs:
                value = attrs[key]
                line[name] = list(value) if isinstance(value, tuple) else value
        if not span.status.is_ok:
            line["error"] = span.status.description
        lines = [line]
        for event in span.events:
            if event.name == "codeagent.transition":
                data = {
                    k.removeprefix("codeagent."): v for k, v in (event.attributes or {}).items()
                }
                lines.append({"t": event.timestamp / 1e9, "event": "transition", **data})
        self._append(lines)

    def _append(self, lines: list[dict[str, Any]]) -> None:
        self._write("".join(self._redact(json.dumps(line, default=str)) + "\n" for line in lines))

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def read_audit(path: Path) -> list[dict[str, Any]]:
    """The audit lines of a job (empty when it has none yet).

    A last line without its newline (a run killed while writing it) is left out.
    """
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").split("\n")[:-1]  # after the last newline: torn
    return [json.loads(line) for line in lines if line]
