"""A sandbox factory for tests that records what was in the workspace at every run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from codeagent.tools.sandbox import ExecResult, LocalSandbox, Sandbox
from codeagent.tools.sandbox.protocol import SandboxContext


class Recorder:
    """A sandbox factory (local sandboxes) that records the files in place at every run."""

    def __init__(self) -> None:
        self.ran: list[dict[str, str]] = []

    def __call__(self) -> Sandbox:
        return _Recording(LocalSandbox(), self.ran)

    def ran_code_with(self, text: str) -> bool:
        """True when any command ran with ``text`` in one of the workspace's files."""
        return any(text in body for files in self.ran for body in files.values())


class _Recording(SandboxContext):
    def __init__(self, inner: Sandbox, ran: list[dict[str, str]]) -> None:
        self.inner, self.backend, self.ran = inner, inner.backend, ran
        self.files: dict[str, str] = {}

    def start(self) -> None:
        self.inner.start()

    def write_files(self, files: Mapping[str, str]) -> None:
        self.files.update(files)
        self.inner.write_files(files)

    def run(self, cmd: Sequence[str], timeout_s: float) -> ExecResult:
        self.ran.append(dict(self.files))
        return self.inner.run(cmd, timeout_s)

    def read_files(self, paths: Sequence[str]) -> dict[str, str]:
        return self.inner.read_files(paths)

    def close(self) -> None:
        self.inner.close()
