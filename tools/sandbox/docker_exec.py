"""One ``docker exec`` with a wall-clock deadline and capped output.

The host side is the authority on time: a reader thread drains the exec's
multiplexed stream while the caller waits on a deadline. On time-out (or when
the output runs far past its cap) the caller's ``kill`` callback ends every
process in the container; if even that cannot close the stream, the stream is
cut so the caller never hangs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from codeagent.tools.sandbox.protocol import ExecResult

__all__ = ["OVERFLOW_FACTOR", "exec_capped"]

#: Output beyond ``limit * OVERFLOW_FACTOR`` bytes kills the command early.
OVERFLOW_FACTOR = 16
_KILL_GRACE_S = 5.0


class _Capture:
    """Keeps the first ``limit`` bytes of each stream and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.out = bytearray()
        self.err = bytearray()
        self.seen = 0
        self.overflow = False
        self.error: BaseException | None = None
        self.finished = threading.Event()
        self.attention = threading.Event()  # finished, or the output overflowed

    def drain(self, stream: Any) -> None:
        try:
            for out, err in stream:
                for buf, chunk in ((self.out, out), (self.err, err)):
                    if chunk:
                        self.seen += len(chunk)
                        room = self.limit - len(buf)
                        if room > 0:
                            buf.extend(chunk[:room])
                if self.seen > self.limit * OVERFLOW_FACTOR and not self.overflow:
                    # Keep draining: an unread stream stalls the engine's exec handling.
                    self.overflow = True
                    self.attention.set()
        except Exception as exc:  # the stream was cut on purpose, or the engine went away
            self.error = exc
        finally:
            self.finished.set()
            self.attention.set()

    @property
    def truncated(self) -> bool:
        return self.seen > len(self.out) + len(self.err)


def exec_capped(
    api: Any,
    container_id: str,
    argv: Sequence[str],
    *,
    user: str,
    environment: Mapping[str, str],
    workdir: str,
    timeout_s: float,
    limit: int,
    kill: Callable[[], None],
) -> ExecResult:
    """Run ``argv`` in a running container, killing it at ``timeout_s``.

    Args:
        api: A ``docker.APIClient`` (``DockerClient.api``).
        container_id: The container to exec in.
        argv: The command.
        user: ``uid:gid`` to run as.
        environment: The complete environment of the command.
        workdir: Working directory inside the container.
        timeout_s: Wall-clock limit in seconds.
        limit: Bytes kept of stdout and of stderr, each.
        kill: Ends every process in the container (called on time-out/overflow).

    Returns:
        The :class:`ExecResult`; exit code 124 when the deadline killed it.
    """
    exec_id = api.exec_create(
        container_id, list(argv), user=user, environment=dict(environment), workdir=workdir
    )["Id"]
    started = time.monotonic()
    stream = api.exec_start(exec_id, stream=True, demux=True)
    capture = _Capture(limit)
    reader = threading.Thread(target=capture.drain, args=(stream,), daemon=True)
    reader.start()
    capture.attention.wait(timeout_s)
    timed_out = not capture.finished.is_set() and not capture.overflow
    if not capture.finished.is_set():
        kill()
        if not capture.finished.wait(_KILL_GRACE_S):
            stream.close()  # a process we could not kill still holds the pipe
            capture.finished.wait(_KILL_GRACE_S)
    duration = time.monotonic() - started
    exit_code = _exit_code(api, exec_id)
    stderr = capture.err.decode("utf-8", errors="replace")
    if capture.overflow:
        stderr += f"\n[codeagent] output passed {limit * OVERFLOW_FACTOR} bytes: command killed"
        exit_code = exit_code if exit_code not in (None, 0) else 137
    return ExecResult(
        exit_code=124 if timed_out else (exit_code if exit_code is not None else 137),
        stdout=capture.out.decode("utf-8", errors="replace"),
        stderr=stderr,
        duration_s=round(duration, 3),
        timed_out=timed_out,
        truncated=capture.truncated or capture.overflow,
    )


def _exit_code(api: Any, exec_id: str) -> int | None:
    # The stream can end a moment before the engine records the exit code.
    for _ in range(20):
        info = api.exec_inspect(exec_id)
        if not info.get("Running"):
            code = info.get("ExitCode")
            return int(code) if code is not None else None
        time.sleep(0.05)
    return None
