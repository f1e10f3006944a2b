"""A sandbox wrapper that traces every command (``execute_tool sandbox.run`` spans)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from codeagent.tools.observability.tracing import sandbox_span
from codeagent.tools.sandbox.protocol import ExecResult, FileData, Sandbox, SandboxContext

__all__ = ["TracedSandbox"]


class TracedSandbox(SandboxContext):
    """Delegates to ``inner`` and records each :meth:`run` as a span."""

    def __init__(self, inner: Sandbox) -> None:
        self.inner = inner
        self.backend = inner.backend

    def start(self) -> None:
        self.inner.start()

    def write_files(self, files: Mapping[str, FileData]) -> None:
        self.inner.write_files(files)

    def read_files(self, paths: Sequence[str]) -> dict[str, str]:
        return self.inner.read_files(paths)

    def run(self, cmd: Sequence[str], timeout_s: float) -> ExecResult:
        with sandbox_span(self.backend, cmd) as span:
            result = self.inner.run(cmd, timeout_s)
            span.set_attribute("process.exit_code", result.exit_code)
            span.set_attribute("codeagent.sandbox.duration_s", result.duration_s)
            span.set_attribute("codeagent.sandbox.timed_out", result.timed_out)
            span.set_attribute("codeagent.sandbox.output_truncated", result.truncated)
            return result

    def close(self) -> None:
        self.inner.close()
