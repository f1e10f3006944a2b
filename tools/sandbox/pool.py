"""A warm pool of docker sandboxes, so a test run costs about one ``docker exec``.

Starting a container takes a few hundred milliseconds; a pooled one is already
running. Between jobs a returned sandbox is reset: every process it ran is
killed and its workspace and ``/tmp`` are emptied. A sandbox that cannot be reset
cleanly (or whose container died) is destroyed instead of being handed out again.

Example:
    >>> with SandboxPool(SandboxLimits(), size=2) as pool:   # doctest: +SKIP
    ...     with pool.sandbox() as sb:
    ...         sb.write_files({"test_a.py": "def test_a(): pass"})
    ...         result = sb.run(["python3", "-m", "pytest", "-q"], timeout_s=30)
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

from codeagent.tools.errors import SandboxError
from codeagent.tools.sandbox.docker import DockerSandbox, docker_client
from codeagent.tools.sandbox.protocol import ExecResult, FileData, SandboxContext, SandboxLimits

__all__ = ["PooledSandbox", "SandboxPool"]


class SandboxPool:
    """Prepared :class:`DockerSandbox` containers, reused across jobs.

    Args:
        limits: Resource limits of every sandbox in the pool.
        image: Image reference (default: ``codeagent-sandbox:<version>``).
        size: Most idle sandboxes kept warm.
        client: A ``docker.DockerClient`` to share; made from the environment otherwise.
    """

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        image: str | None = None,
        *,
        size: int = 2,
        client: Any = None,
    ) -> None:
        self.limits = limits or SandboxLimits()
        self.image = image
        self.size = size
        self._client = client
        self._idle: list[DockerSandbox] = []
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def idle(self) -> int:
        """Number of warm sandboxes waiting to be handed out."""
        return len(self._idle)

    def warm(self, count: int | None = None) -> None:
        """Start sandboxes until ``count`` (default: ``size``) are idle."""
        target = min(self.size, self.size if count is None else count)
        while self.idle < target:
            fresh = self._new()
            with self._lock:
                self._idle.append(fresh)

    def acquire(self) -> DockerSandbox:
        """A started sandbox with an empty workspace: a warm one when there is one."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._new()

    def release(self, sandbox: DockerSandbox) -> None:
        """Reset ``sandbox`` and keep it warm, or destroy it if it is not clean or not needed."""
        if not self._closed and self.idle < self.size and sandbox.reset():
            with self._lock:
                if not self._closed and len(self._idle) < self.size:
                    self._idle.append(sandbox)
                    return
        sandbox.close()

    def sandbox(self) -> PooledSandbox:
        """A :class:`~tools.sandbox.protocol.Sandbox` leased from this pool."""
        return PooledSandbox(self)

    def close(self) -> None:
        """Destroy every idle sandbox; later releases destroy theirs too."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for sandbox in idle:
            sandbox.close()

    def _new(self) -> DockerSandbox:
        if self._client is None:
            self._client = docker_client()
        fresh = DockerSandbox(self.limits, self.image, client=self._client)
        fresh.start()
        return fresh


class PooledSandbox(SandboxContext):
    """The sandbox protocol over a pool lease: ``start`` takes one, ``close`` gives it back."""

    backend = "docker"

    def __init__(self, pool: SandboxPool) -> None:
        self._pool = pool
        self._lease: DockerSandbox | None = None

    def start(self) -> None:
        if self._lease is None:
            self._lease = self._pool.acquire()

    def write_files(self, files: Mapping[str, FileData]) -> None:
        self._sandbox().write_files(files)

    def run(self, cmd: Sequence[str], timeout_s: float) -> ExecResult:
        return self._sandbox().run(cmd, timeout_s)

    def read_files(self, paths: Sequence[str]) -> dict[str, str]:
        return self._sandbox().read_files(paths)

    def close(self) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            self._pool.release(lease)

    def _sandbox(self) -> DockerSandbox:
        if self._lease is None:
            raise SandboxError("sandbox used before start()")
        return self._lease
