"""The resident runner: PID 1 of every docker sandbox container. It runs *inside* the
container, on the image's ``python3``, and imports nothing of codeagent.

A ``docker exec`` costs a round trip through the engine and a fresh interpreter that
imports pytest again (together most of a one-test run). This process is started once
per container with pytest and coverage already imported; the host talks to it over the
container's attached stdin/stdout, one JSON object per line each way:

- ``{"op": "ping"}``: ``{"ok": true, "version": 1, "instance": ...}`` (new per process)
- ``{"op": "put", "files": [[rel, base64], ...]}``: writes workspace files
- ``{"op": "get", "paths": [rel, ...]}``: ``{"ok": true, "files": {rel: base64}}``
  (regular files only: links planted by the code under test are never followed)
- ``{"op": "run", "argv": [...], "env": {...}, "cwd": ..., "timeout": s, "limit": n}``:
  ``{"ok": true, "exit": n, "stdout": ..., "stderr": ..., "timed_out": ..., ...}``
- ``{"op": "restart"}``: answers, then re-executes itself (a fresh process image: no
  memory of the runs before; the pool does this between leases)

Each run is a forked child. A ``python3 -c|-m|script`` command runs in that child
on the already imported modules (the fast path), unless something would make it behave
differently from a fresh interpreter: another interpreter, other ``PYTHON*`` variables,
interpreter flags, or a workspace or ``PYTHONPATH`` module that shadows a module this
process has imported. Any other command is ``exec``-ed from the child. When the child
exits, every other process in the container is killed (as ``kill -9 -1`` after each
``docker exec`` does), so nothing a run leaves behind reaches the next one.

Isolation from the code under test (same uid): the runner makes itself non-dumpable, so
that code cannot ptrace it or open ``/proc/1/fd`` (the channel); the child closes the
channel's descriptors before running anything; as the namespace's init it receives no
signal it has no handler for (SIGINT is ignored); a child asks to be the OOM killer's
first choice.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import stat
import sys
import time

VERSION = 1
WORKDIR = "/workspace"
OVERFLOW_FACTOR = 16
_PR_SET_DUMPABLE = 4
_KILL_WAIT_S = 5.0
_INSTANCE = os.urandom(8).hex()
_PRELOAD = ("pytest", "coverage", "coverage.cmdline", "coverage.jsonreport", "runpy", "shutil")


def _nondumpable() -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    except Exception:
        pass


def _preload() -> None:
    import importlib

    for name in _PRELOAD:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    try:  # the plugins pytest imports while it configures itself
        from _pytest.config import default_plugins

        for name in default_plugins:
            with contextlib.suppress(Exception):
                importlib.import_module("_pytest." + name)
    except Exception:
        pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _kill_others() -> None:
    with contextlib.suppress(OSError):  # as PID 1, kill(-1) reaches all but this process
        os.kill(-1, signal.SIGKILL)


def _safe_path(rel: str) -> str:
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"unsafe path {rel[:80]!r}")
    return os.path.join(WORKDIR, rel)


def _put(request: dict) -> dict:
    try:
        for rel, encoded in request.get("files", []):
            path = _safe_path(rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
            try:
                fd = os.open(path, flags, 0o644)
            except OSError:
                if not os.path.islink(path):
                    raise
                os.unlink(path)
                fd = os.open(path, flags, 0o644)
            try:
                _write_all(fd, base64.b64decode(encoded))
            finally:
                os.close(fd)
    except (OSError, ValueError) as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True}


def _get(request: dict) -> dict:
    found = {}
    for rel in request.get("paths", []):
        try:
            fd = os.open(_safe_path(rel), os.O_RDONLY | os.O_NOFOLLOW)
        except (OSError, ValueError):
            continue
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            chunks = []
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            found[rel] = base64.b64encode(b"".join(chunks)).decode("ascii")
        except OSError:
            continue
        finally:
            os.close(fd)
    return {"ok": True, "files": found}


def _python_plan(argv: list, env: dict, cwd: str) -> tuple | None:
    """How to run ``argv`` in the child's own interpreter, or None to exec it."""
    import shutil

    if len(argv) < 2 or not sys.executable:
        return None
    exe = shutil.which(argv[0], path=env.get("PATH", ""))
    if exe is None or os.path.realpath(exe) != os.path.realpath(sys.executable):
        return None
    own = {k: v for k, v in os.environ.items() if k.startswith("PYTHON")}
    if {k: v for k, v in env.items() if k.startswith("PYTHON")} != own:
        return None
    flag = argv[1]
    if flag in ("-c", "-m") and len(argv) >= 3:
        kind, target, args = flag, argv[2], argv[3:]
        path0 = "" if flag == "-c" else cwd
    elif not flag.startswith("-"):
        kind, target, args = "script", flag, argv[2:]
        path0 = os.path.dirname(os.path.abspath(os.path.join(cwd, flag)))
    else:
        return None
    loaded = {name.partition(".")[0] for name in sys.modules}
    pythonpath = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    for folder in [path0 or cwd, *pythonpath]:
        if _shadows(folder, loaded):
            return None
    return kind, target, args, path0


def _shadows(folder: str, loaded: set) -> bool:
    try:
        entries = os.listdir(folder)
    except OSError:
        return False
    for entry in entries:
        name = entry.partition(".")[0]
        if name in loaded and (entry.endswith((".py", ".so", ".pyc")) or "." not in entry):
            return True
    return False


def _run_python(kind: str, target: str, args: list, path0: str) -> int:
    import atexit
    import importlib
    import runpy
    import threading
    import traceback
    import types

    sys.path.insert(0, path0)
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    code = 0
    try:
        if kind == "-c":
            sys.argv = ["-c", *args]
            exec(compile(target, "<string>", "exec"), main.__dict__)
        elif kind == "-m":
            sys.argv = [target, *args]
            runpy._run_module_as_main(target, alter_argv=True)  # type: ignore[attr-defined]
        else:
            sys.argv = [target, *args]
            runpy.run_path(target, run_name="__main__")
    except SystemExit as exc:
        code = _system_exit_code(exc)
    except BaseException as exc:  # as a fresh interpreter reports it: not this frame
        tb = exc.__traceback__
        traceback.print_exception(type(exc), exc, tb.tb_next if tb is not None else None)
        code = 130 if isinstance(exc, KeyboardInterrupt) else 1
    for finish in (
        getattr(threading, "_shutdown", None),
        getattr(atexit, "_run_exitfuncs", None),
    ):
        try:
            if finish is not None:
                finish()
        except BaseException:
            pass
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    return code


def _system_exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    with contextlib.suppress(BaseException):
        sys.stderr.write(f"{exc.code}\n")
    return 1


def _child(request: dict, out_w: int, err_w: int, closing: list) -> None:
    argv = [str(a) for a in request["argv"]]
    env = {str(k): str(v) for k, v in request.get("env", {}).items()}
    cwd = str(request.get("cwd", WORKDIR))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    for fd in {null, out_w, err_w, *closing}:
        if fd > 2:
            os.close(fd)
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass
    try:
        os.chdir(cwd)
    except OSError as exc:
        os.write(2, f"codeagent: cannot enter {cwd}: {exc.strerror}\n".encode())
        os._exit(126)
    plan = _python_plan(argv, env, cwd)
    os.environ.clear()
    os.environ.update(env)
    if plan is not None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os._exit(_run_python(*plan))
    for sig in (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL)
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        os.write(2, f"codeagent: {argv[0]}: {exc.strerror}\n".encode())
        os._exit(127 if isinstance(exc, FileNotFoundError) else 126)


class _Capture:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.bufs = {1: bytearray(), 2: bytearray()}
        self.seen = 0

    def add(self, stream: int, chunk: bytes) -> None:
        self.seen += len(chunk)
        buf = self.bufs[stream]
        room = self.limit - len(buf)
        if room > 0:
            buf.extend(chunk[:room])

    @property
    def overflow(self) -> bool:
        return self.seen > self.limit * OVERFLOW_FACTOR


def _run(request: dict, channel: list) -> dict:
    import selectors

    timeout = float(request.get("timeout", 60))
    capture = _Capture(int(request.get("limit", 256_000)))
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            _child(request, out_w, err_w, [*channel, out_r, err_r])
        finally:
            os._exit(127)
    os.close(out_w)
    os.close(err_w)
    streams = {out_r: 1, err_r: 2}
    sel = selectors.DefaultSelector()
    for fd in streams:
        sel.register(fd, selectors.EVENT_READ)
    pidfd = None
    try:
        pidfd = os.pidfd_open(pid)  # readable once the child has exited
        sel.register(pidfd, selectors.EVENT_READ)
    except (AttributeError, OSError):
        pass
    status = None
    timed_out = False
    deadline = started + timeout
    while status is None and not capture.overflow:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        for key, _ in sel.select(min(left, 0.05 if pidfd is None else left)):
            fd = int(key.fd)
            if fd in streams:
                _drain_one(sel, fd, streams, capture)
        done, waited = os.waitpid(pid, os.WNOHANG)
        if done:
            status = waited
    _kill_others()
    if status is None:
        status = _wait_killed(pid)
    if pidfd is not None:
        sel.unregister(pidfd)
        os.close(pidfd)
    end = time.monotonic() + 1.0
    while streams and time.monotonic() < end:  # what the killed writers left in the pipes
        for key, _ in sel.select(max(0.0, end - time.monotonic())):
            if int(key.fd) in streams:
                _drain_one(sel, int(key.fd), streams, capture)
    for fd in list(streams):
        sel.unregister(fd)
        os.close(fd)
    sel.close()
    _reap()
    code = 124 if timed_out else _exit_code(status) if status is not None else 137
    if capture.overflow and not timed_out and code == 0:
        code = 137
    out, err = (bytes(capture.bufs[s]) for s in (1, 2))
    return {
        "ok": True,
        "exit": code,
        "stdout": base64.b64encode(out).decode("ascii"),
        "stderr": base64.b64encode(err).decode("ascii"),
        "timed_out": timed_out,
        "overflow": capture.overflow,
        "truncated": capture.seen > len(out) + len(err),
        "seconds": round(time.monotonic() - started, 4),
    }


def _drain_one(sel: object, fd: int, streams: dict, capture: _Capture) -> None:
    try:
        chunk = os.read(fd, 1 << 16)
    except OSError:
        chunk = b""
    if chunk:
        capture.add(streams[fd], chunk)
        return
    sel.unregister(fd)  # type: ignore[attr-defined]
    os.close(fd)
    del streams[fd]


def _wait_killed(pid: int) -> int | None:
    end = time.monotonic() + _KILL_WAIT_S
    while time.monotonic() < end:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            return status
        time.sleep(0.01)
    return None


def _reap_forever() -> None:
    children = {signal.SIGCHLD}
    signal.pthread_sigmask(signal.SIG_BLOCK, children)
    while True:
        _reap()
        signal.sigwait(children)


def _serve() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _nondumpable()
    chan_in, chan_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    if sys.path and sys.path[0] == "":
        del sys.path[0]  # ``-c`` put the working directory first; each run sets its own
    _preload()
    pending = bytearray()
    while True:
        newline = pending.find(b"\n")
        while newline < 0:  # (a request of many files is long: scan each chunk once)
            chunk = os.read(chan_in, 1 << 20)
            if not chunk:  # the host let go of the channel: go on as a plain init
                _reap_forever()
            found = chunk.find(b"\n")
            newline = len(pending) + found if found >= 0 else -1
            pending.extend(chunk)
        line = bytes(pending[:newline])
        del pending[: newline + 1]
        _reap()
        try:
            request = json.loads(line)
            op = request.get("op")
            if op == "ping":
                reply: dict = {"ok": True, "version": VERSION, "instance": _INSTANCE}
            elif op == "put":
                reply = _put(request)
            elif op == "get":
                reply = _get(request)
            elif op == "run":
                reply = _run(request, [chan_in, chan_out])
            elif op == "restart":
                _kill_others()
                _write_all(chan_out, b'{"ok": true}\n')
                os.dup2(chan_in, 0)
                os.dup2(chan_out, 1)
                with open("/proc/self/cmdline", "rb") as handle:
                    argv = handle.read().split(b"\0")[:-1]
                os.execv(sys.executable, argv)
            else:
                reply = {"ok": False, "error": f"unknown op {op!r}"}
        except Exception as exc:  # a bad request gets an answer, never a dead runner
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        _write_all(chan_out, json.dumps(reply).encode("ascii") + b"\n")


if __name__ == "__main__":
    _serve()
