"""An OpenAI-compatible chat server for tests that answers by rules and injects faults.

Faults are consumed one per request, before any answer: ``429``, ``500``, ``drop``
(close the connection without a response), ``slow:SECONDS``, ``bad_body`` (HTTP 200
with a body that is not JSON), ``empty`` (an answer with no content), ``truncated``
(``finish_reason: length`` and half an answer).

A request with ``"stream": true`` is answered as llama.cpp's server streams: one chunk
per line of the answer (a "token"), each with the server's ``timings`` (prompt and
answer tokens so far, as with ``timings_per_token``), then a chunk with the finish
reason and, when asked for, one with ``usage``. ``streamed`` records, per streamed
request, how many chunks went out before the answer ended or the client hung up.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from codeagent.tools.testing import Rule


class FaultServer:
    """Shared state of the server: rules, queued faults, and what it saw."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self.faults: list[str] = []
        self.requests = 0
        self.answered: list[str] = []
        self.streamed: list[int] = []
        self.stream_requests: list[bool] = []
        self.lock = threading.Lock()

    def finished_streams(self, count: int, timeout_s: float = 10.0) -> list[int]:
        """``streamed`` once ``count`` streams have ended (a server sees a hang-up only
        on a later write)."""
        deadline = time.monotonic() + timeout_s
        while len(self.streamed) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.streamed)

    def next_fault(self) -> str | None:
        with self.lock:
            self.requests += 1
            return self.faults.pop(0) if self.faults else None

    def answer(self, prompt: str) -> tuple[str, str]:
        for rule in self.rules:
            if re.search(rule.match, prompt):
                with self.lock:
                    self.answered.append(rule.name)
                return rule.name, rule.answer(0)
        return "none", "no rule matched"


def _completion(text: str, finish: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fault-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def _chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "fault-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _handler(state: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            fault = state.next_fault()
            if fault == "drop":
                self.close_connection = True
                self.connection.close()
                return
            if fault in ("429", "500"):
                self._send(int(fault), {"error": {"message": f"injected {fault}"}})
                return
            if fault and fault.startswith("slow:"):
                time.sleep(float(fault.split(":")[1]))
            prompt = "\n\n".join(str(m.get("content", "")) for m in body["messages"])
            _, text = state.answer(prompt)
            state.stream_requests.append(bool(body.get("stream")))
            if body.get("stream"):
                self._stream(text, bool((body.get("stream_options") or {}).get("include_usage")))
            elif fault == "bad_body":
                self._send_raw(200, b'{"id": "chatcmpl-test", "choices": [{"mess')
            elif fault == "empty":
                self._send(200, _completion(""))
            elif fault == "truncated":
                self._send(200, _completion(text[: len(text) // 2], finish="length"))
            else:
                self._send(200, _completion(text))

        def _stream(self, text: str, usage: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            lines = text.splitlines(keepends=True)
            sent = 0
            try:
                for n, line in enumerate(lines, 1):
                    timings = {"prompt_n": 40, "cache_n": 2, "predicted_n": 3 * n}
                    self._event({**_chunk({"content": line}, None), "timings": timings})
                    sent += 1
                    time.sleep(0.005)  # a hang-up is seen on a later write
                self._event(_chunk({}, "stop"))
                if usage:
                    counts = {"prompt_tokens": 42, "completion_tokens": 3 * len(lines)}
                    self._event({**_chunk({}, None), "choices": [], "usage": counts})
                self.wfile.write(b"data: [DONE]\n\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            with state.lock:
                state.streamed.append(sent)

        def _event(self, data: dict[str, Any]) -> None:
            self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

        def _send(self, code: int, data: dict[str, Any]) -> None:
            self._send_raw(code, json.dumps(data).encode())

        def _send_raw(self, code: int, raw: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            return None

    return Handler


@contextmanager
def fault_server(rules: list[Rule]) -> Iterator[tuple[str, FaultServer]]:
    """Start the server on a free loopback port; yields (base_url, state)."""
    state = FaultServer(rules)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    finally:
        server.shutdown()
        server.server_close()
