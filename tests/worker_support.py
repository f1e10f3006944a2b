"""Worker processes for engine tests: ``codeagent worker`` subprocesses a test can kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent


def engine_env(broker_url: str, checkpoint_url: str, **timings: float) -> dict[str, str]:
    """The environment of a worker: broker, shared store, and short fault timings."""
    env = dict(os.environ)
    env.update(
        {
            "CODEAGENT_BROKER_URL": broker_url,
            "CODEAGENT_CHECKPOINT_URL": checkpoint_url,
            "CODEAGENT_LEASE_TTL_S": "3",
            "CODEAGENT_REQUEUE_AFTER_S": "4",
            "CODEAGENT_SWEEP_EVERY_S": "1",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update({f"CODEAGENT_{k.upper()}": str(v) for k, v in timings.items()})
    return env


class Worker:
    """One ``codeagent worker`` process (its own session, so a kill takes all of it)."""

    def __init__(self, name: str, folder: Path, env: Mapping[str, str], *args: str) -> None:
        self.name = name
        self.log = folder / f"{name}.log"
        home = folder / f"home-{name}"  # its own disk: nothing is shared through it
        command = [sys.executable, "-m", "codeagent.graphs.cli", "worker", "--home", str(home)]
        command += ["--sandbox", "codeagent.tools.testing:FakeSandbox", *args]
        with open(self.log, "w") as handle:
            self.process = subprocess.Popen(
                command,
                env=dict(env),
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=ROOT,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Until the worker consumes from the broker."""
        until(lambda: "ready." in self.log.read_text(), timeout_s, f"worker {self.name} ready")

    def kill(self) -> None:
        """SIGKILL the whole worker, as when its machine dies."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL after a while."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> Worker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``check`` every 0.1 s until true; fail with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def calls(log: Path) -> list[dict[str, object]]:
    """The scripted model's call log (``start``/``done`` lines with rule and pid)."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
