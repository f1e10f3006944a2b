"""The ``local`` sandbox: bubblewrap namespaces plus rlimits, for machines without Docker.

This is weaker than the docker backend and says so: it shares the host kernel
without a seccomp profile or cgroup limits, and it reads the host's system
directories (read-only). What it does give: no network (own network namespace),
own PID/IPC/UTS namespaces, no nested user namespaces (bubblewrap 0.8+:
``--disable-userns``; see :func:`bwrap_disables_userns`), a read-only view of
the system directories, a private ``/tmp``, an empty environment, no host home
directory, an unprivileged uid, rlimits on CPU time, memory, processes and file
size, a wall-clock timeout that kills the whole process tree, and (bubblewrap
0.7+) a size-capped workspace and ``/tmp``: tmpfs mounts the workspace is copied
into and back out of per command (:mod:`codeagent.tools.sandbox.local_copy`).
A sandbox can start from a set-up workspace (``seed``: a tar the setup step left,
see :mod:`codeagent.tools.sandbox.prepare`), and only a setup sandbox may keep the
host's network (``share_net``); every other one has none.
What it lacks: a process cap (``RLIMIT_NPROC`` counts per host uid and does not
bind root; a pids cgroup needs systemd or a delegated cgroup v2 subtree).
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from codeagent.tools.errors import SandboxError
from codeagent.tools.sandbox.local_copy import (
    INBOX,
    WRAPPER,
    check_room,
    copy_error,
    copy_failure,
    extract,
    unpack,
)
from codeagent.tools.sandbox.protocol import (
    DEPS_DIR,
    ExecResult,
    FileData,
    SandboxContext,
    SandboxLimits,
)
from codeagent.tools.workspace import safe_relpath, write_tree

__all__ = ["LocalSandbox", "bwrap_available", "bwrap_disables_userns"]

WORKDIR = "/workspace"
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32")
_ETC_FILES = (
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/ssl",
)
# Name resolution, for a setup step that has the network.
_NET_ETC_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/gai.conf")
_BWRAP_HINT = (
    "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) or use backend: docker"
)


def bwrap_available() -> bool:
    """True when the ``bwrap`` executable is on PATH."""
    return shutil.which("bwrap") is not None


@functools.cache
def _bwrap_help() -> str:
    try:
        shown = subprocess.run(
            ["bwrap", "--help"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return shown.stdout + shown.stderr


def bwrap_disables_userns() -> bool:
    """True when ``bwrap`` has ``--disable-userns`` (bubblewrap 0.8+); asked once per process.

    Without it, code in the sandbox can create nested user namespaces (``unshare -r``),
    a large kernel attack surface.
    """
    return bwrap_available() and "--disable-userns" in _bwrap_help()


def bwrap_sizes_tmpfs() -> bool:
    """True when ``bwrap`` can cap a tmpfs (``--size``, bubblewrap 0.7+): a workspace quota."""
    return bwrap_available() and "--size" in _bwrap_help() and "--perms" in _bwrap_help()


class LocalSandbox(SandboxContext):
    """A bubblewrap sandbox over a temporary host directory.

    Args:
        limits: Resource limits for every command.
        seed: A tar of a workspace (:func:`~codeagent.tools.sandbox.local_copy.pack`) the
            sandbox starts from: a set-up workspace.
        share_net: Keep the host's network (``bwrap --share-net``). Only for a setup
            step the workflow allows the network (``sandbox.setup_network``); never
            for a sandbox that runs model-written code.
    """

    backend = "local"

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        *,
        seed: Path | None = None,
        share_net: bool = False,
    ) -> None:
        self.limits = limits or SandboxLimits()
        self.seed = seed
        self.share_net = share_net
        self._dir: Path | None = None

    def start(self) -> None:
        if self._dir is not None:
            return
        if not bwrap_available():
            raise SandboxError("the local sandbox needs bubblewrap (bwrap)", hint=_BWRAP_HINT)
        self._dir = Path(tempfile.mkdtemp(prefix="codeagent-ws-"))
        if self.seed is not None:
            try:
                extract(self.seed, self._dir)
            except (OSError, tarfile.TarError) as exc:
                self.close()
                raise SandboxError(
                    f"cannot unpack the set-up workspace {self.seed}: {exc}",
                    hint="delete that file to run the setup step again",
                ) from exc

    def write_files(self, files: Mapping[str, FileData]) -> None:
        if bwrap_sizes_tmpfs():  # else there is no quota to overflow
            check_room(files, self.limits.workspace_mb, self._workspace())
        write_tree(self._workspace(), files)

    @property
    def workspace_dir(self) -> Path:
        """The host directory that holds the workspace between commands (after start)."""
        return self._workspace()

    def read_files(self, paths: Sequence[str]) -> dict[str, str]:
        root = self._workspace().resolve()
        found = {}
        for rel in paths:
            target = (root / safe_relpath(rel)).resolve()
            # A symlink planted by the code under test must not read host files.
            if root not in target.parents or not target.is_file():
                continue
            found[rel] = target.read_text(encoding="utf-8", errors="replace")
        return found

    def run(self, cmd: Sequence[str], timeout_s: float) -> ExecResult:
        capped = bwrap_sizes_tmpfs()
        with (
            tempfile.TemporaryFile() as out,
            tempfile.TemporaryFile() as err,
            tempfile.TemporaryFile() as back,
        ):
            # With a capped tmpfs the workspace is copied in, and out by WRAPPER via `back`.
            fsize = str(self.limits.file_size_mb * 1024 * 1024)
            wrapper = [sys.executable, "-I", "-c", WRAPPER, str(back.fileno()), fsize]
            argv = [*self._bwrap_argv(capped), "--", *(wrapper if capped else []), *cmd]
            started = time.monotonic()
            try:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                    start_new_session=True,
                    preexec_fn=lambda: self._set_rlimits(capped),
                    pass_fds=(back.fileno(),) if capped else (),
                )
            except OSError as exc:
                raise SandboxError(f"could not start bwrap: {exc}", hint=_BWRAP_HINT) from exc
            timed_out = _wait_or_kill(proc, timeout_s)
            duration = time.monotonic() - started
            stdout, cut_out = _read_capped(out, self.limits.output_bytes)
            stderr, cut_err = _read_capped(err, self.limits.output_bytes)
            failed = copy_failure(back) if capped else None
            if failed is not None:
                raise copy_error(failed, self.limits.workspace_mb)
            if capped and not timed_out:
                unpack(back, self._workspace())
        if proc.returncode == 1 and stderr.startswith("bwrap: "):  # bwrap's own set-up failed
            raise SandboxError(f"bubblewrap failed: {stderr.strip()[:300]}", hint=_BWRAP_HINT)
        return ExecResult(
            exit_code=124 if timed_out else proc.returncode,
            stdout=stdout,
            stderr=stderr,
            duration_s=round(duration, 3),
            timed_out=timed_out,
            truncated=cut_out or cut_err,
        )

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _workspace(self) -> Path:
        if self._dir is None:
            raise SandboxError("sandbox used before start()")
        return self._dir

    def _bwrap_argv(self, capped: bool) -> list[str]:
        argv = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session"]
        if self.share_net:
            argv.append("--share-net")
        if bwrap_disables_userns():
            argv += ["--unshare-user", "--disable-userns"]  # the flag needs --unshare-user
        argv += ["--uid", "65534", "--gid", "65534", "--cap-drop", "ALL"]
        for path in [p for p in _SYSTEM_DIRS if os.path.lexists(p)]:
            kind = "--symlink" if os.path.islink(path) else "--ro-bind"
            argv += [kind, os.readlink(path), path] if kind == "--symlink" else [kind, path, path]
        for path in _ETC_FILES + (_NET_ETC_FILES if self.share_net else ()):
            if os.path.exists(path):
                argv += ["--ro-bind", path, path]
        size = ["--size", str(self.limits.workspace_mb * 1024 * 1024)] if capped else []
        argv += ["--proc", "/proc", "--dev", "/dev", *size, "--tmpfs", "/tmp"]
        for path in _python_dirs():  # after /tmp, which would hide a venv under it
            argv += ["--ro-bind", path, path]
        if capped:
            argv += ["--ro-bind", str(self._workspace()), INBOX]
            argv += [*size, "--perms", "0777", "--tmpfs", WORKDIR, "--remount-ro", "/"]
        else:
            argv += ["--bind", str(self._workspace()), WORKDIR, "--remount-ro", "/"]
        argv += ["--chdir", WORKDIR, "--clearenv"]
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": WORKDIR,
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "PYTHONPATH": f"{WORKDIR}/{DEPS_DIR}",
        }
        for key, value in env.items():
            argv += ["--setenv", key, value]
        return argv

    def _set_rlimits(self, capped: bool) -> None:
        lim = self.limits
        mb = 1024 * 1024
        # With a capped workspace the wrapper writes it out as one file; it sets the
        # command's own file-size limit itself.
        file_mb = max(lim.file_size_mb, lim.workspace_mb + 1) if capped else lim.file_size_mb
        resource.setrlimit(resource.RLIMIT_CPU, (lim.cpu_time_s, lim.cpu_time_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (lim.memory_mb * mb, lim.memory_mb * mb))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb * mb, file_mb * mb))
        resource.setrlimit(resource.RLIMIT_NPROC, (lim.pids, lim.pids))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _python_dirs() -> list[str]:
    """The interpreter's own trees, so tests run with this Python, pytest and coverage."""
    dirs = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    return sorted(d for d in dirs if not any(d.startswith(s + "/") for s in _SYSTEM_DIRS))


def _wait_or_kill(proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    try:
        proc.wait(timeout=timeout_s)
        return False
    except subprocess.TimeoutExpired:
        # The whole session: bwrap, its pid-namespace init and everything under them.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return True


def _read_capped(handle: BinaryIO, limit: int) -> tuple[str, bool]:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    data = handle.read(limit)
    return data.decode("utf-8", errors="replace"), size > limit
