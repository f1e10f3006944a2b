"""Engine tests' parts: ``codeagent worker`` subprocesses a test can kill, and the servers
they need (a test never skips in CI for lack of one: it fails loudly)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "codeagent.graphs.cli"]
FAKE_SANDBOX = ("--sandbox", "codeagent.tools.testing:FakeSandbox")
_READY = " ready."  # Celery's "celery@host ready." once the consumer listens


def require_postgres() -> str:
    """The test PostgreSQL URL ($CODEAGENT_TEST_POSTGRES_URL); skip without one, but
    fail under CI=true (CI starts it: .ci/setup-postgres.sh)."""
    url = os.environ.get("CODEAGENT_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "CODEAGENT_TEST_POSTGRES_URL is not set: CI must start PostgreSQL "
                "(.ci/setup-postgres.sh)"
            )
        pytest.skip("no PostgreSQL: set CODEAGENT_TEST_POSTGRES_URL (see .ci/setup-postgres.sh)")
    return url


def require_redis() -> None:
    """Skip without ``redis-server``, but fail under CI=true (CI installs it)."""
    if shutil.which("redis-server") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (CI must install it: .ci/setup-redis.sh)")
        pytest.skip("redis-server is not installed")


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
    """One ``codeagent worker`` process (its own session, so a kill takes all of it).

    Args:
        name: Its name: the log is ``folder/<name>.log``, its state dir ``home-<name>``.
        folder: Where its log and state dir go.
        env: Its environment (broker, checkpoint URL, timings).
        args: Worker options (default: the fake sandbox).
    """

    def __init__(self, name: str, folder: Path, env: Mapping[str, str], *args: str) -> None:
        self.name = name
        self.log = folder / f"{name}.log"
        home = folder / f"home-{name}"  # its own disk: nothing is shared through it
        command = [*CLI, "worker", "--home", str(home), *(args or FAKE_SANDBOX)]
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

    def output(self) -> str:
        """Its output so far."""
        return self.log.read_text(errors="replace") if self.log.is_file() else ""

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        """Until the worker consumes from the broker.

        Raises:
            RuntimeError: When it exits or stays silent (its log is in the message).
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.process.poll() is None:
            if _READY in self.output():
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker {self.name} did not start:\n{self.output()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole worker, as when its machine dies."""
        self._signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL after a while. Idempotent."""
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()

    def _signal(self, signum: int) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it exited just now
                os.killpg(self.process.pid, signum)

    def __enter__(self) -> Worker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class Workers:
    """A group of :class:`Worker` s named ``worker-0``, ``worker-1``, ... under ``root``."""

    def __init__(self, root: Path, env: Mapping[str, str]) -> None:
        self.root = root
        self.env = env
        self.members: list[Worker] = []

    def start(self, count: int, *args: str) -> None:
        """Start ``count`` more workers and return once each one listens."""
        started = [
            Worker(f"worker-{len(self.members) + i}", self.root, self.env, *args)
            for i in range(count)
        ]
        self.members.extend(started)
        for worker in started:
            worker.wait_ready()

    def stop(self) -> None:
        """Stop every worker (idempotent)."""
        for worker in self.members:
            worker.stop()
        self.members = []

    def log(self, index: int) -> str:
        """Worker ``index``'s output so far."""
        return self.members[index].output()


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
