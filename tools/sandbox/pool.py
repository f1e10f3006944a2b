"""A warm pool of docker sandboxes, so a test run costs one request to a running runner.

Starting a container takes a few hundred milliseconds, and its resident runner
(:mod:`~codeagent.tools.sandbox.resident`) a few hundred more to import pytest; a pooled
one is already running and has answered. A returned sandbox is reset before anyone
gets it again: every process it ran is killed, its workspace, ``/tmp`` and ``/dev/shm``
are emptied and its runner re-executes itself, so no run sees another's leftovers. The
reset runs in the background (the job that gave the sandbox back goes on at once; the
next lease waits for a reset in progress rather than start a container). A sandbox that
cannot be reset cleanly (or whose container died) is destroyed instead of being handed
out again.

Every docker sandbox a workflow opens comes from :func:`shared_pool`: one pool per
process and (limits, image), shared by a job's test, example and probe runs, and by
the jobs of a ``batch``, an ``eval`` or a worker. Its containers are removed when the
process exits (and, after a crash, by the next process's start-up clean-up).

Example:
    >>> with SandboxPool(SandboxLimits(), size=2) as pool:   # doctest: +SKIP
    ...     with pool.sandbox() as sb:
    ...         sb.write_files({"test_a.py": "def test_a(): pass"})
    ...         result = sb.run(["python3", "-m", "pytest", "-q"], timeout_s=30)
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

from codeagent.tools.errors import SandboxError
from codeagent.tools.sandbox.docker import DockerSandbox, docker_client
from codeagent.tools.sandbox.protocol import ExecResult, FileData, SandboxContext, SandboxLimits

__all__ = ["POOL_SIZE", "PooledSandbox", "SandboxPool", "close_shared_pools", "shared_pool"]

POOL_SIZE = 4
"""Most idle containers a shared pool keeps per (limits, image)."""
_RESET_WAIT_S = 30.0


class SandboxPool:
    """Prepared :class:`DockerSandbox` containers, reused across jobs.

    Args:
        limits: Resource limits of every sandbox in the pool.
        image: Image reference (default: ``codeagent-sandbox:<version>``).
        size: Most idle sandboxes kept warm.
        client: A ``docker.DockerClient`` to share; made from the environment otherwise.
        resident: Whether the sandboxes use their resident runner (see :class:`DockerSandbox`).
    """

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        image: str | None = None,
        *,
        size: int = 2,
        client: Any = None,
        resident: bool = True,
    ) -> None:
        self.limits = limits or SandboxLimits()
        self.resident = resident
        self.image = image
        self.size = size
        self._client = client
        self._idle: list[DockerSandbox] = []
        self._lock = threading.Condition()
        self._resetting = 0
        self._warming = 0
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

    @property
    def client(self) -> Any:
        """The ``docker.DockerClient`` of the pool's sandboxes (made on first use)."""
        if self._client is None:
            self._client = docker_client()
        return self._client

    def acquire(self) -> DockerSandbox:
        """A started sandbox with an empty workspace: a warm one when there is one (or one
        being reset or started now), else a new one.

        Taking the last idle one starts a spare in the background (pools of two or more),
        so that while a returned sandbox is being reset the next lease finds a clean one.
        """
        with self._lock:
            self._lock.wait_for(
                lambda: self._idle or not (self._resetting or self._warming), _RESET_WAIT_S
            )
            leased = self._idle.pop() if self._idle else None
            spare = (
                self.size > 1
                and not self._closed
                and not self._idle
                and not self._resetting
                and not self._warming
            )
            if spare:
                self._warming += 1
        if spare:
            threading.Thread(target=self._warm_spare, name="sandbox-spare", daemon=True).start()
        return leased if leased is not None else self._new()

    def prewarm(self) -> None:
        """Start one sandbox in the background unless one is idle or starting (a job does
        this as it starts, so its first run finds a warm container)."""
        with self._lock:
            if self._closed or self._idle or self._warming:
                return
            self._warming += 1
        threading.Thread(target=self._warm_spare, name="sandbox-prewarm", daemon=True).start()

    def _warm_spare(self) -> None:
        fresh: DockerSandbox | None = None
        try:
            fresh = self._new()
        except Exception:  # a spare is an optimisation: the next lease starts its own
            fresh = None
        finally:
            with self._lock:
                kept = fresh is not None and not self._closed and len(self._idle) < self.size
                if kept and fresh is not None:
                    self._idle.append(fresh)
            if fresh is not None and not kept:
                fresh.close()
            with self._lock:
                self._warming -= 1
                self._lock.notify_all()

    def release(self, sandbox: DockerSandbox) -> None:
        """Reset ``sandbox`` in the background and keep it warm, or destroy it if it is not
        clean or not needed."""
        with self._lock:
            keep = not self._closed and len(self._idle) + self._resetting < self.size
            if keep:
                self._resetting += 1
        if not keep:
            sandbox.close()
            return
        # (at exit, closing the pool waits for resets in progress, then removes them)
        threading.Thread(
            target=self._reset, args=(sandbox,), name="sandbox-reset", daemon=True
        ).start()

    def _reset(self, sandbox: DockerSandbox) -> None:
        kept = False
        try:
            clean = sandbox.reset()
            with self._lock:
                kept = clean and not self._closed and len(self._idle) < self.size
                if kept:
                    self._idle.append(sandbox)
            if not kept:
                sandbox.close()
        finally:
            with self._lock:  # counted until the sandbox is kept or gone (close waits for it)
                self._resetting -= 1
                self._lock.notify_all()

    def sandbox(self) -> PooledSandbox:
        """A :class:`~tools.sandbox.protocol.Sandbox` leased from this pool."""
        return PooledSandbox(self)

    def close(self) -> None:
        """Destroy every idle sandbox and those being reset; later releases destroy theirs."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for sandbox in idle:
            sandbox.close()
        with self._lock:  # a reset or spare in progress destroys its sandbox when it ends
            self._lock.wait_for(lambda: not (self._resetting or self._warming), _RESET_WAIT_S)

    def _new(self) -> DockerSandbox:
        fresh = DockerSandbox(self.limits, self.image, client=self.client, resident=self.resident)
        fresh.start()
        _ = fresh.resident  # attach and wait for the runner here, not in the lease's first run
        return fresh


_SHARED: dict[tuple[SandboxLimits, str | None], SandboxPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(limits: SandboxLimits, image: str | None, client: Any = None) -> SandboxPool:
    """This process's pool of sandboxes with ``limits`` on ``image`` (made on first use)."""
    with _SHARED_LOCK:
        pool = _SHARED.get((limits, image))
        if pool is None:
            pool = _SHARED[(limits, image)] = SandboxPool(
                limits, image, size=POOL_SIZE, client=client
            )
        return pool


def _forget_in_child() -> None:
    """A forked child (e.g. a prefork worker) starts with no pools: the parent's
    containers and engine connection stay the parent's."""
    global _SHARED_LOCK
    _SHARED_LOCK = threading.Lock()
    _SHARED.clear()


os.register_at_fork(after_in_child=_forget_in_child)


@atexit.register
def close_shared_pools() -> None:
    """Remove every container of this process's shared pools (also done at exit)."""
    with _SHARED_LOCK:
        pools = list(_SHARED.values())
        _SHARED.clear()
    for pool in pools:
        pool.close()


class PooledSandbox(SandboxContext):
    """The sandbox protocol over a pool lease: ``start`` takes one, ``close`` gives it back."""

    backend = "docker"

    def __init__(self, pool: SandboxPool) -> None:
        self._pool = pool
        self._lease: DockerSandbox | None = None

    @property
    def limits(self) -> SandboxLimits:
        """The limits every sandbox of the pool has."""
        return self._pool.limits

    def unpooled(self) -> DockerSandbox:
        """An unstarted sandbox of the same image, limits and client, outside the pool (for
        a setup step, whose container becomes an image)."""
        return DockerSandbox(self._pool.limits, self._pool.image, client=self._pool.client)

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
