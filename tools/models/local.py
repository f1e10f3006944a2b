"""The embedded local model: llama.cpp's OpenAI-compatible server, in-process.

``local_endpoint(spec)`` starts (once per model per process, lazily, thread-safe)
an xllamacpp server bound to 127.0.0.1 on a free port and returns its base URL, so
the rest of codeagent talks to it like any other OpenAI-compatible endpoint::

    ChatOpenAI(base_url=local_endpoint(spec), api_key="not-needed", model=spec.model)

Servers stop at interpreter exit, or earlier with ``stop_all()``.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from codeagent.tools.contracts.model import ModelSpec
from codeagent.tools.errors import ConfigError, ModelError
from codeagent.tools.models import store as model_store

__all__ = [
    "XLLAMACPP_PIN",
    "LocalServer",
    "default_threads",
    "ensure_server",
    "local_endpoint",
    "resolve_model_path",
    "running_servers",
    "start_server",
    "stop_all",
]

XLLAMACPP_PIN = "xllamacpp==2026.10.11549"

_lock = threading.Lock()
_servers: dict[str, LocalServer] = {}
_atexit_registered = False


class LocalServer:
    """One running llama.cpp server. Stop it with ``stop()`` (idempotent).

    Attributes:
        name: The model's catalogue name (also its ``model`` id on the API).
        path: The GGUF file served.
        base_url: ``http://127.0.0.1:PORT/v1``.
        threads: CPU threads used for generation and prompt processing.
        context_size: Context window in tokens (of each slot).
        slots: Requests it decodes side by side.
        start_s: Seconds it took to load the model and answer ``/health``.
    """

    def __init__(self, server: Any, name: str, path: Path, threads: int, context_size: int) -> None:
        self._server: Any = server
        self.name = name
        self.path = path
        self.root_url = str(server.listening_address).rstrip("/")
        self.base_url = f"{self.root_url}/v1"
        self.threads = threads
        self.context_size = context_size
        self.slots = 1
        self.start_s = 0.0

    @property
    def running(self) -> bool:
        """Whether ``stop()`` has not been called yet."""
        return self._server is not None

    def stop(self) -> None:
        """Stop the server; dropping the last reference joins llama.cpp's threads."""
        self._server = None

    def __repr__(self) -> str:
        return f"LocalServer({self.name!r}, {self.base_url!r}, running={self.running})"


def default_threads() -> int:
    """The CPU cores this process may use (the default for ``spec.threads``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def resolve_model_path(name: str) -> Path:
    """The installed file for catalogue name ``name`` (or ``name`` itself if a .gguf file).

    Raises:
        ConfigError: ``name`` is neither a catalogue name nor a .gguf file.
        ModelError: The model is in the catalogue but not installed.
    """
    if name.endswith(".gguf"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise ConfigError(f"no model file at {path}", hint="give an existing .gguf file")
        return path
    model_store.get_entry(name)  # unknown names fail here, with the list of known ones
    installed = model_store.installed_path(name)
    if installed is None:
        raise ModelError(
            f"the local model {name!r} is not installed",
            hint=f"codeagent models install {name}",
        )
    return installed


def _import_xllamacpp() -> Any:
    try:
        import xllamacpp
    except ImportError as exc:
        raise ModelError(
            "the embedded local model needs the xllamacpp package",
            hint=f"pip install '{XLLAMACPP_PIN}'",
        ) from exc
    return xllamacpp


def _params(
    xl: Any, name: str, path: Path, threads: int, ctx: int, port: int, slots: int = 1
) -> Any:
    params = xl.CommonParams()
    params.model.path = str(path)
    params.model_alias = {name}  # must be a set of str
    params.hostnames = ["127.0.0.1"]
    params.port = port  # 0: the OS picks a free port
    # ``slots`` requests are decoded side by side in one batch; the KV cache is shared
    # (unified) and sized so that every slot can use the whole context window.
    params.n_ctx = ctx * slots
    params.n_parallel = slots
    params.kv_unified = slots > 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.verbosity = int(os.environ.get("CODEAGENT_LLAMA_VERBOSITY", "0"))
    return params


def _wait_ready(root_url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{root_url}/health", timeout=5) as resp:
                if resp.status == 200:
                    return
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:  # 503 while the model loads
            last = f"HTTP {exc.code}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise ModelError(f"the local model server did not become ready in {timeout_s:.0f} s ({last})")


def start_server(
    name: str,
    *,
    threads: int | None = None,
    context_size: int = 8192,
    port: int = 0,
    ready_timeout_s: float = 300,
    slots: int = 1,
) -> LocalServer:
    """Load ``name`` and start a server the caller owns (it is not shared or tracked).

    Args:
        name: Catalogue name (e.g. ``qwen2.5-coder-0.5b``) or a .gguf file path.
        threads: CPU threads; default: every core this process may use.
        context_size: Context window in tokens.
        port: TCP port on 127.0.0.1; 0 picks a free one.
        ready_timeout_s: How long to wait for ``/health`` after loading.
        slots: Requests decoded side by side, each with ``context_size`` (1: they queue).

    Raises:
        ConfigError: Unknown model name.
        ModelError: Not installed, xllamacpp missing, or the server failed to start.
    """
    path = resolve_model_path(name)
    xl = _import_xllamacpp()
    n_threads = threads or default_threads()
    alias = Path(name).stem if name.endswith(".gguf") else name
    started = time.monotonic()
    try:
        # Blocks until the weights are loaded and the HTTP server listens.
        raw = xl.Server(_params(xl, alias, path, n_threads, context_size, port, slots))
    except RuntimeError as exc:
        raise ModelError(
            f"llama.cpp could not start {name} from {path} ({exc})",
            hint="set CODEAGENT_LLAMA_VERBOSITY=3 to see llama.cpp's log; "
            "a busy --port or too little memory for the context size are common causes",
        ) from exc
    server = LocalServer(raw, alias, path, n_threads, context_size)
    server.slots = slots
    try:
        _wait_ready(server.root_url, ready_timeout_s)
    except ModelError:
        server.stop()
        raise
    server.start_s = time.monotonic() - started
    return server


def ensure_server(
    name: str, *, threads: int | None = None, context_size: int = 8192, slots: int = 1
) -> LocalServer:
    """The shared server of ``name`` in this process, started on first use.

    The first caller's ``threads``, ``context_size`` and ``slots`` win for the process's
    lifetime (an eval with K workers shares one server: give its model ``slots: K``).
    """
    global _atexit_registered
    with _lock:
        server = _servers.get(name)
        if server is None or not server.running:
            server = start_server(name, threads=threads, context_size=context_size, slots=slots)
            _servers[name] = server
            if not _atexit_registered:
                atexit.register(stop_all)
                _atexit_registered = True
        return server


def local_endpoint(spec: ModelSpec) -> str:
    """The base URL (``http://127.0.0.1:PORT/v1``) serving ``spec.model``.

    Raises:
        ConfigError: ``spec.provider`` is not ``local`` or the model name is unknown.
        ModelError: The model is not installed or its server could not start.
    """
    if spec.provider != "local":
        raise ConfigError(f"local_endpoint needs provider 'local', got {spec.provider!r}")
    server = ensure_server(
        spec.model, threads=spec.threads, context_size=spec.context_size, slots=spec.slots
    )
    return server.base_url


def running_servers() -> list[LocalServer]:
    """The shared servers started by ``local_endpoint`` / ``ensure_server`` and still up."""
    with _lock:
        return [s for s in _servers.values() if s.running]


def stop_all() -> None:
    """Stop every shared server of this process (also runs at interpreter exit)."""
    with _lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.stop()
