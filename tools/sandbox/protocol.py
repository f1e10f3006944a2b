"""The sandbox seam: what every backend (docker, local) provides.

A sandbox is a throw-away workspace where generated code and tests run. Files go
in with :meth:`Sandbox.write_files` (text or bytes, so a repository's binary files
travel too) and come out, as text, with :meth:`Sandbox.read_files`; commands run
with :meth:`Sandbox.run` under a wall-clock timeout. No host directory is shared
with the code that runs inside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from codeagent.tools.errors import SandboxError

__all__ = [
    "DEPS_DIR",
    "SANDBOX_UID",
    "WORKSPACE_HINT",
    "ExecResult",
    "FileData",
    "Sandbox",
    "SandboxContext",
    "SandboxLimits",
    "encode_file",
    "file_bytes",
]

# The unprivileged user every backend runs code as (the image creates it; files it
# receives are owned by it).
SANDBOX_UID = 10001

DEPS_DIR = ".deps"
"""Workspace directory on every sandbox's ``PYTHONPATH`` (``/workspace/.deps``), so a
setup step can install a repository's dependencies with ``pip install --target .deps``
and its tests import them, on every backend."""

WORKSPACE_HINT = "raise sandbox.workspace_mb in the workflow (the workspace size in MB)"
"""The hint of every "the workspace is full" error: it names the setting."""

FileData = str | bytes
"""What :meth:`Sandbox.write_files` takes per file: text (written as UTF-8) or bytes."""


def encode_file(data: FileData) -> bytes:
    """The bytes a file holds: ``bytes`` as they are, ``str`` as UTF-8.

    Raises:
        UnicodeEncodeError: For text with lone surrogates (callers turn it into a
            ``SandboxError`` naming the file).
    """
    return data if isinstance(data, bytes) else data.encode("utf-8")


def file_bytes(rel: str, data: FileData) -> bytes:
    """:func:`encode_file` for a sandbox write: text that cannot be encoded is a
    :class:`SandboxError` naming the file.

    Raises:
        SandboxError: For text with lone surrogates.
    """
    try:
        return encode_file(data)
    except UnicodeEncodeError as exc:
        raise SandboxError(
            f"cannot write {rel[:80]!r}: {exc.reason}",
            hint="write text as valid Unicode, or pass the file as bytes",
        ) from exc


@dataclass(frozen=True)
class ExecResult:
    """What one command did inside a sandbox.

    Attributes:
        exit_code: The command's exit status (124 when it was killed on time-out).
        stdout: Captured standard output (capped; see ``truncated``).
        stderr: Captured standard error (capped).
        duration_s: Wall-clock seconds the command ran.
        timed_out: True when the wall-clock timeout killed it.
        truncated: True when output was cut at the sandbox's output cap.
    """

    exit_code: int
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """True when the command exited 0 within its time."""
        return self.exit_code == 0 and not self.timed_out


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits every backend enforces as well as it can.

    Attributes:
        memory_mb: Address-space / cgroup memory limit.
        cpus: CPU share (docker) ; the local backend uses ``cpu_time_s`` instead.
        pids: Maximum processes/threads.
        file_size_mb: Largest file a command may write.
        cpu_time_s: CPU-seconds per command (local backend rlimit).
        output_bytes: Cap on captured stdout and stderr, each.
        workspace_mb: Size of the writable workspace (docker: a tmpfs volume; local: a
            tmpfs with bubblewrap 0.7+, ``/tmp`` too).
    """

    memory_mb: int = 1024
    cpus: float = 1.0
    pids: int = 128
    file_size_mb: int = 32
    cpu_time_s: int = 60
    output_bytes: int = 256_000
    workspace_mb: int = 64


class SandboxContext:
    """Mixin for backends: ``with sandbox:`` calls ``start()`` and, on the way out, ``close()``."""

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@runtime_checkable
class Sandbox(Protocol):
    """A workspace where untrusted code runs. Use it as a context manager."""

    backend: str

    def start(self) -> None:
        """Prepare the workspace (container, namespace dir). Idempotent."""
        ...

    def write_files(self, files: Mapping[str, FileData]) -> None:
        """Write files at workspace-relative paths (parents created).

        ``bytes`` are written as they are, ``str`` as UTF-8. A file that does not fit in
        the workspace (``SandboxLimits.workspace_mb``) is a ``SandboxError`` saying so.
        """
        ...

    def run(self, cmd: Sequence[str], timeout_s: float) -> ExecResult:
        """Run argv ``cmd`` in the workspace; kill it after ``timeout_s`` seconds."""
        ...

    def read_files(self, paths: Sequence[str]) -> dict[str, str]:
        """Read workspace-relative files as text; missing ones are left out.

        Files are decoded as UTF-8 with replacement: binary files are not read back
        faithfully (nothing in a job needs them back).
        """
        ...

    def close(self) -> None:
        """Destroy the workspace and everything running in it. Idempotent."""
        ...

    def __enter__(self) -> Sandbox: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
