"""The fault-test helpers themselves: a real Redis server that restarts, a TCP proxy that cuts."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from tests import redis_support
from tests.redis_support import RedisServer
from tests.tcp_proxy import TcpProxy, target_of, through


def test_a_restarted_redis_server_answers_on_the_same_port_with_no_keys(
    redis_server: RedisServer,
) -> None:
    with redis_server.client() as client:
        client.set("job", "queued")
        assert client.get("job") == b"queued"
        port = redis_server.port

        redis_server.restart()

        assert redis_server.port == port
        assert redis_server.url == f"redis://127.0.0.1:{port}/0"
        assert client.get("job") is None  # the client reconnects; the data is gone
        assert client.ping()


def test_a_stopped_redis_server_refuses_connections(redis_server: RedisServer) -> None:
    assert redis_server.running
    redis_server.stop()
    assert not redis_server.running
    with pytest.raises(ConnectionRefusedError):
        _connect(redis_server.port)
    redis_server.stop()  # idempotent


@pytest.mark.usefixtures("redis_server")  # for its check that redis-server is installed
def test_a_redis_server_on_a_port_held_by_another_process_says_why() -> None:
    with socket.create_server(("127.0.0.1", 0)) as squatter:
        port = squatter.getsockname()[1]
        server = RedisServer(port=port)  # a port given is kept: no other port is tried
        with pytest.raises(RuntimeError, match=f"port {port}") as error:
            server.start()
        assert "Address already in use" in str(error.value)  # the server's own log
        assert not server.running


@pytest.mark.usefixtures("redis_server")
def test_a_picked_port_taken_before_the_first_start_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as squatter:
        taken = squatter.getsockname()[1]
        ports = iter([taken, redis_support.free_port()])
        monkeypatch.setattr(redis_support, "free_port", lambda: next(ports))
        with RedisServer() as server, server.client() as client:
            assert server.port != taken
            assert client.ping()


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A TCP echo server on 127.0.0.1: each connection gets back what it sends."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def echo(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(None)
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join(5)
    listener.close()


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def _ended(sock: socket.socket) -> bool:
    """Whether the peer closed ``sock``: recv sees end-of-file or a reset."""
    try:
        return sock.recv(1) == b""
    except ConnectionError:
        return True


def _echoes(sock: socket.socket, data: bytes) -> bool:
    sock.sendall(data)
    got = b""
    while len(got) < len(data) and (chunk := sock.recv(4096)):
        got += chunk
    return got == data


def test_the_proxy_forwards_bytes_both_ways(echo_port: int) -> None:
    with TcpProxy("127.0.0.1", echo_port) as proxy, _connect(proxy.port) as conn:
        assert _echoes(conn, b"hello")
        assert _echoes(conn, b"x" * 200_000)  # more than one chunk each way
        assert proxy.live_connections == 1


def test_a_cut_closes_open_connections_and_new_ones_until_restored(echo_port: int) -> None:
    with TcpProxy("127.0.0.1", echo_port) as proxy:
        first = _connect(proxy.port)
        assert _echoes(first, b"before")

        proxy.cut()
        assert _ended(first)
        with _connect(proxy.port) as during:  # accepted, then closed at once
            assert _ended(during)
        assert proxy.live_connections == 0

        proxy.restore()
        with _connect(proxy.port) as after:
            assert _echoes(after, b"after")
        first.close()


def test_a_closed_proxy_refuses_connections(echo_port: int) -> None:
    proxy = TcpProxy("127.0.0.1", echo_port)
    conn = _connect(proxy.port)
    proxy.close()
    assert _ended(conn)
    conn.close()
    with pytest.raises(ConnectionRefusedError):
        _connect(proxy.port)


def test_a_proxy_to_a_server_that_is_down_closes_the_client() -> None:
    dead_port = _unused_port()
    with TcpProxy("127.0.0.1", dead_port) as proxy, _connect(proxy.port) as conn:
        assert _ended(conn)


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_postgres_through_the_proxy_fails_while_cut_and_works_after(pg_url: str) -> None:
    import psycopg

    with TcpProxy(*target_of(pg_url)) as proxy:
        url = through(pg_url, proxy.port)
        with psycopg.connect(url, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            proxy.cut()
            with pytest.raises(psycopg.OperationalError):
                conn.execute("SELECT 1")
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=5)

        proxy.restore()
        with psycopg.connect(url, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
