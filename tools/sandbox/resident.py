"""The host side of the resident runner (:mod:`~codeagent.tools.sandbox.resident_runner`).

One attach to the container's stdin/stdout carries every request of the sandbox's
life: files in, a run, report files out, each a JSON line, so a run costs neither a
``docker exec`` nor a ``put_archive`` nor a fresh interpreter. The host stays the
authority on time: a reply that does not come within the run's timeout plus a grace
period is a :class:`ResidentError`, and the sandbox falls back to ``docker exec``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from codeagent.tools.errors import SandboxError
from codeagent.tools.sandbox.protocol import ExecResult, FileData, file_bytes

__all__ = ["RUNNER_SOURCE", "ResidentChannel", "ResidentError", "runner_command"]

RUNNER_SOURCE = (Path(__file__).with_name("resident_runner.py")).read_text(encoding="utf-8")
"""The runner's source: the container's command is ``python3 -c RUNNER_SOURCE``."""

_GRACE_S = 10.0
_PING_S = 30.0  # the runner imports pytest before it answers (slow on a loaded machine)
_OVERFLOW_NOTE = "\n[codeagent] output passed {n} bytes: command killed"


class ResidentError(SandboxError):
    """The runner did not answer as it should (dead, wedged, or an older image)."""


def runner_command() -> list[str]:
    """The container command that starts the runner as PID 1."""
    return ["python3", "-c", RUNNER_SOURCE]


class ResidentChannel:
    """Requests to one container's runner over its attached stdio (one at a time).

    Args:
        api: A ``docker.APIClient``.
        container_id: A container started with :func:`runner_command` and ``stdin_open``.
    """

    def __init__(self, api: Any, container_id: str) -> None:
        params = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1, "detachKeys": "ctrl-^"}
        try:
            response = api.attach_socket(container_id, params=params)
        except Exception as exc:
            raise ResidentError(f"cannot attach to the sandbox runner: {exc}") from exc
        self._response = response  # keeps the HTTP response (and so the socket) alive
        self._sock: socket.socket = getattr(response, "_sock", response)
        self._raw = bytearray()  # the engine's multiplexed frames, not yet parsed
        self._stdout = bytearray()
        self._scanned = 0  # bytes of _stdout known to hold no newline
        self._stderr = bytearray()  # the runner's own diagnostics (a traceback if it died)
        self._lock = threading.Lock()

    def ping(self) -> str:
        """Wait until the runner answers (it imports pytest first).

        Returns:
            The runner process's instance id (a new one after :meth:`restart`).
        """
        reply = self._request({"op": "ping"}, _PING_S)
        if reply.get("version") != 1:
            raise ResidentError(f"the sandbox runner speaks version {reply.get('version')}")
        return str(reply.get("instance"))

    def put(self, files: Mapping[str, FileData]) -> None:
        """Write ``files`` (already safe relative paths) into the workspace.

        Raises:
            SandboxError: With the runner's reason (e.g. no space left on the device).
        """
        encoded = [
            [rel, base64.b64encode(file_bytes(rel, data)).decode("ascii")]
            for rel, data in files.items()
        ]
        reply = self._request({"op": "put", "files": encoded}, _GRACE_S + len(encoded) / 100)
        if not reply.get("ok"):
            raise SandboxError(f"cannot write the files: {reply.get('error', 'unknown error')}")

    def get(self, paths: Sequence[str]) -> dict[str, str]:
        """Regular workspace files among ``paths``, as text (UTF-8 with replacement)."""
        reply = self._request({"op": "get", "paths": list(paths)}, _GRACE_S)
        files = reply.get("files") or {}
        return {
            rel: base64.b64decode(data).decode("utf-8", errors="replace")
            for rel, data in files.items()
        }

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str,
        timeout_s: float,
        limit: int,
    ) -> ExecResult:
        """Run ``argv``; the runner kills it (and all it started) at ``timeout_s``."""
        from codeagent.tools.sandbox.docker_exec import OVERFLOW_FACTOR

        request = {
            "op": "run",
            "argv": list(argv),
            "env": dict(env),
            "cwd": cwd,
            "timeout": timeout_s,
            "limit": limit,
        }
        started = time.monotonic()
        reply = self._request(request, timeout_s + _GRACE_S)
        if not reply.get("ok"):
            raise ResidentError(f"the sandbox runner failed: {reply.get('error')}")
        stderr = base64.b64decode(reply["stderr"]).decode("utf-8", errors="replace")
        if reply.get("overflow"):
            stderr += _OVERFLOW_NOTE.format(n=limit * OVERFLOW_FACTOR)
        return ExecResult(
            exit_code=int(reply["exit"]),
            stdout=base64.b64decode(reply["stdout"]).decode("utf-8", errors="replace"),
            stderr=stderr,
            duration_s=round(time.monotonic() - started, 3),
            timed_out=bool(reply.get("timed_out")),
            truncated=bool(reply.get("truncated") or reply.get("overflow")),
        )

    def restart(self) -> None:
        """Have the runner re-execute itself: no memory of earlier runs survives."""
        self._request({"op": "restart"}, _GRACE_S)

    def close(self) -> None:
        """Drop the attach (the runner keeps running until its container is removed)."""
        for closing in (self._sock, self._response):
            with contextlib.suppress(Exception):
                closing.close()

    def _request(self, request: Mapping[str, Any], timeout_s: float) -> dict[str, Any]:
        line = json.dumps(request, separators=(",", ":")).encode("ascii") + b"\n"
        with self._lock:
            try:
                self._sock.settimeout(timeout_s)
                self._sock.sendall(line)
                return self._reply(time.monotonic() + timeout_s)
            except (OSError, ValueError) as exc:
                raise ResidentError(f"the sandbox runner did not answer: {exc}") from exc

    def _reply(self, deadline: float) -> dict[str, Any]:
        while (newline := self._stdout.find(b"\n", self._scanned)) < 0:
            self._scanned = len(self._stdout)  # (a long reply: scan each byte once)
            left = deadline - time.monotonic()
            if left <= 0:
                raise ResidentError("the sandbox runner did not answer in time")
            self._sock.settimeout(left)
            chunk = self._sock.recv(1 << 20)
            if not chunk:
                tail = self._stderr.decode("utf-8", errors="replace").strip()[-500:]
                raise ResidentError("the sandbox runner exited" + (f": {tail}" if tail else ""))
            self._raw.extend(chunk)
            self._demux()
        line = bytes(self._stdout[:newline])
        del self._stdout[: newline + 1]
        self._scanned = 0
        reply = json.loads(line)
        if not isinstance(reply, dict):
            raise ResidentError("the sandbox runner answered something else than an object")
        return reply

    def _demux(self) -> None:
        # Each frame: stream (1 byte), 3 zero bytes, payload size (big-endian uint32).
        while len(self._raw) >= 8:
            stream, size = self._raw[0], struct.unpack(">I", bytes(self._raw[4:8]))[0]
            if len(self._raw) < 8 + size:
                return
            payload = bytes(self._raw[8 : 8 + size])
            del self._raw[: 8 + size]
            if stream == 1:
                self._stdout.extend(payload)
            else:
                self._stderr.extend(payload)
                del self._stderr[:-4096]
