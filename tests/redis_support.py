"""A real Redis server for tests: one process per test, on 127.0.0.1 and a free port.

It keeps nothing on disk (no RDB snapshots, no append-only file), so ``restart()`` loses
every key, as a broker restart without persistence does; the port stays the same, so a
client that reconnects finds the new server where the old one was.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 5.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """``redis-server`` as a subprocess that a test starts, stops and restarts.

    Args:
        executable: The server binary; ``redis-server`` from PATH when omitted.
        port: The port to listen on; a free one when omitted.

    Example:
        with RedisServer() as server:
            client = redis.Redis.from_url(server.url)
    """

    def __init__(self, executable: str | None = None, port: int | None = None) -> None:
        found = executable or shutil.which("redis-server")
        if found is None:
            raise FileNotFoundError("redis-server is not installed (see .ci/setup-redis.sh)")
        self.executable = found
        self.port = port if port is not None else free_port()
        self._pick_port = port is None
        self._started = False
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None

    @property
    def url(self) -> str:
        """The URL of database 0, for Celery's broker or a ``redis`` client."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def client(self) -> redis.Redis:
        """A new client for database 0 (the caller closes it)."""
        return redis.Redis.from_url(self.url, socket_timeout=5)

    def start(self) -> RedisServer:
        """Start the server and return once it answers PING.

        A port picked here can be taken by another process before the server binds it;
        then the first start tries a new one. Later starts keep the port, as clients
        expect of a restarted server.
        """
        if self.running:
            return self
        tries = 3 if self._pick_port and not self._started else 1
        for attempt in range(tries):
            try:
                self._spawn()
            except RuntimeError:
                if attempt == tries - 1:
                    raise
                self.port = free_port()
            else:
                self._started = True
                return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and remove its directory. Idempotent."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def restart(self) -> RedisServer:
        """Stop, then start on the same port: every key is gone afterwards."""
        self.stop()
        return self.start()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="redis-test-"))
        with (self._dir / "redis.log").open("wb") as log:
            self._process = subprocess.Popen(
                [
                    self.executable,
                    *("--port", str(self.port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                    *("--dir", str(self._dir)),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_it_answers()

    def _wait_until_it_answers(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        client = redis.Redis(
            host="127.0.0.1",
            port=self.port,
            socket_connect_timeout=0.5,
            socket_timeout=0.5,
            retry=Retry(NoBackoff(), 0),  # this loop is the retry
        )
        try:
            while time.monotonic() < deadline:
                if not self.running:
                    break
                try:
                    if self._answers_as_ours(client):
                        return
                except redis.RedisError:  # not up yet, or not a Redis server
                    pass
                time.sleep(0.05)
        finally:
            client.close()
        log = self._log_tail()
        self.stop()
        raise RuntimeError(f"redis-server did not answer PING on port {self.port}:\n{log}")

    def _answers_as_ours(self, client: redis.Redis) -> bool:
        # another server that holds the port would answer PING too: check the pid
        assert self._process is not None
        info = client.info("server")
        return bool(info.get("process_id") == self._process.pid)

    def _log_tail(self) -> str:
        if self._dir is None:
            return ""
        try:
            return (self._dir / "redis.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""
