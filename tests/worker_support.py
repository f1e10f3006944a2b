"""``codeagent worker`` processes for tests: started in sessions of their own, stopped for sure.

Example::

    workers = Workers(tmp_path, env)
    try:
        workers.start(2, "--sandbox", "codeagent.tools.testing:FakeSandbox")
        ...
    finally:
        workers.stop()
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CLI = [sys.executable, "-m", "codeagent.graphs.cli"]
_READY = " ready."  # Celery's "celery@host ready." once the consumer listens
_START_TIMEOUT_S = 120.0
_STOP_TIMEOUT_S = 20.0


class Workers:
    """Worker processes, each with a state dir and a log file under ``root``.

    Args:
        root: A folder for their state dirs and logs.
        env: Their environment (broker, checkpoint URL, timings).
    """

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, count: int, *args: str) -> None:
        """Start ``count`` more workers and return once each one listens.

        Raises:
            RuntimeError: When one exits or stays silent (its log is in the message).
        """
        started = [self._spawn(len(self.processes) + i, args) for i in range(count)]
        self.processes.extend(started)
        for process in started:
            self._wait_ready(process)

    def stop(self) -> None:
        """SIGTERM every worker's session (a warm shutdown), then SIGKILL. Idempotent."""
        for process in self.processes:
            _signal(process, signal.SIGTERM)
        deadline = time.monotonic() + _STOP_TIMEOUT_S
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal(process, signal.SIGKILL)
                process.wait()
        self.processes = []

    def log(self, index: int) -> str:
        """Worker ``index``'s output so far."""
        path = self.root / f"worker-{index}.log"
        return path.read_text(errors="replace") if path.is_file() else ""

    def _spawn(self, index: int, args: tuple[str, ...]) -> subprocess.Popen[bytes]:
        env = {**self.env, "CODEAGENT_HOME": str(self.root / f"worker-{index}")}
        with (self.root / f"worker-{index}.log").open("wb") as log:
            return subprocess.Popen(
                [*CLI, "worker", *args],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_ready(self, process: subprocess.Popen[bytes]) -> None:
        index = self.processes.index(process)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if _READY in self.log(index):
                return
            if process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"worker {index} did not start:\n{self.log(index)[-3000:]}")


def _signal(process: subprocess.Popen[bytes], signum: int) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):  # it exited just now
        os.killpg(process.pid, signum)
