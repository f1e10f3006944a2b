"""A TCP forwarder that a test can cut, to stand in for a server that briefly goes away.

Clients connect to the proxy (127.0.0.1 and ``proxy.port``) instead of the server, e.g.
``postgresql://user:pw@127.0.0.1:<proxy.port>/db``. ``cut()`` closes every live connection
at once and closes new ones as soon as they are accepted, as a database that went down
does; ``restore()`` forwards again. The server itself is never touched.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

_CHUNK = 65536
_POLL_S = 0.1
_CONNECT_TIMEOUT_S = 5.0


class TcpProxy:
    """Forwards each connection on 127.0.0.1:``port`` to ``target_host:target_port``.

    It listens from construction until ``close()``, each connection pumped by a daemon
    thread.

    Example:
        with TcpProxy("127.0.0.1", 5432) as proxy:
            url = f"postgresql://user:pw@127.0.0.1:{proxy.port}/db"
            ...
            proxy.cut()      # live connections drop, new ones are closed at once
            proxy.restore()  # new connections reach the server again
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._live: set[socket.socket] = set()
        self._cut = False
        self._closed = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    @property
    def live_connections(self) -> int:
        """How many client connections are being forwarded now."""
        with self._lock:
            return len(self._live) // 2

    def cut(self) -> None:
        """Close every live connection now; close each new one as soon as it is accepted."""
        with self._lock:
            self._cut = True
            live = list(self._live)
            # no longer forwarded from here on, whenever their pump threads wind down
            self._live.clear()
        for sock in live:
            # shutdown, not close: it wakes the pump thread that owns the socket, which
            # closes it; the peer sees the connection end at once either way
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def restore(self) -> None:
        """Forward new connections again (the ones cut stay closed)."""
        with self._lock:
            self._cut = False

    def close(self) -> None:
        """Stop listening and close every connection. Idempotent."""
        if self._closed.is_set():
            return
        self._closed.set()
        self.cut()
        self._acceptor.join(5)
        self._listener.close()
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            ready, _, _ = select.select([self._listener], [], [], _POLL_S)
            if not ready:
                continue
            try:
                client, _ = self._listener.accept()
            except OSError:
                continue
            with self._lock:
                refused = self._cut or self._closed.is_set()
            if refused:
                client.close()
                continue
            thread = threading.Thread(target=self._forward, args=(client,), daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            thread.start()

    def _forward(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=_CONNECT_TIMEOUT_S)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self._lock:
            # a cut() while this connection was being opened applies to it too
            if self._cut:
                client.close()
                upstream.close()
                return
            self._live.update((client, upstream))
        try:
            _pump(client, upstream)
        finally:
            with self._lock:
                self._live.difference_update((client, upstream))
            client.close()
            upstream.close()


def _pump(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side ends or fails."""
    peer = {a: b, b: a}
    try:
        while True:
            ready, _, _ = select.select([a, b], [], [])
            for source in ready:
                data = source.recv(_CHUNK)
                if not data:
                    return
                peer[source].sendall(data)
    except OSError:
        return


def through(url: str, port: int) -> str:
    """``url`` with its host and port replaced by a proxy's on 127.0.0.1."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{port}" if credentials else f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def target_of(url: str) -> tuple[str, int]:
    """The host and port a URL points at (5432 when it names none)."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 5432
