"""A job's workspace, set up once: the repository's files plus the workflow's setup step.

A repo job copies the user's repository (text and binary files) into the sandbox and
may run ``sandbox.setup`` commands there (``pip install --target .deps .``) before any
model-written code runs. Each test run opens a fresh sandbox, so the set-up state is
made once per job by :func:`prepare_workspace` and every later sandbox starts from it
(:meth:`PreparedWorkspace.open`). It is cached by :func:`setup_key`, a hash of the
backend's base (image id, or the local Python), the setup commands and the files:

- ``docker``: setup runs in a container (the engine's bridge network only when
  ``setup.network``, else none) that is committed to the image
  ``codeagent-setup:<key16>``; the job's sandboxes start from that image with no
  network, as always (:mod:`codeagent.tools.sandbox.docker_setup`).
- ``local``: setup runs in its own bubblewrap sandbox (``--share-net`` only when
  ``setup.network``); the resulting workspace is kept as ``<cache_dir>/<key>.tar`` and
  every later sandbox unpacks it. The host's system directories are read-only there, so
  setup must install into the workspace (``pip install --target .deps``).
- any other backend (a plugin, ``FakeSandbox``) cannot keep a set-up state: every
  sandbox it opens writes the files and runs the setup commands again (no network).

Setup runs as the sandbox user, in ``/workspace``, with ``/workspace/.deps`` on
``PYTHONPATH`` in every sandbox (:data:`~codeagent.tools.sandbox.protocol.DEPS_DIR`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path

from codeagent.tools.errors import SandboxError
from codeagent.tools.sandbox.local import LocalSandbox
from codeagent.tools.sandbox.local_copy import check_room, pack
from codeagent.tools.sandbox.protocol import ExecResult, FileData, Sandbox, SandboxContext
from codeagent.tools.sandbox.setup_step import (
    PreparedWorkspace,
    SetupFailed,
    SetupStep,
    run_setup,
    setup_key,
    setup_limits,
)

__all__ = [
    "PreparedWorkspace",
    "SetupFailed",
    "SetupStep",
    "prepare_workspace",
    "run_setup",
    "setup_key",
    "setup_limits",
]


def prepare_workspace(
    factory: Callable[[], Sandbox],
    files: Mapping[str, FileData],
    step: SetupStep | None = None,
    *,
    cache_dir: Path,
) -> PreparedWorkspace:
    """Set up the job's workspace once (or find it in the cache); call before any model code.

    Args:
        factory: The job's sandbox factory (e.g. ``spec_sandbox(spec)``); the backend of
            the sandbox it makes decides how the state is kept.
        files: The repository's files, text or bytes.
        step: The setup commands, their network and time limit (default: none).
        cache_dir: Where the local backend keeps set-up workspaces (e.g.
            ``<state dir>/setup``); docker keeps them as images.

    Raises:
        SetupFailed: A setup command failed (its command, exit code and output tail).
        SandboxError: The files or the set-up workspace do not fit ``workspace_mb``, the
            backend cannot start, or it cannot give setup a network.
    """
    step = step or SetupStep()
    proto = _unwrap(factory())
    if proto.backend == "docker":  # docker-py is imported only where docker is used
        from codeagent.tools.sandbox.docker import DockerSandbox
        from codeagent.tools.sandbox.docker_setup import prepare_docker
        from codeagent.tools.sandbox.pool import PooledSandbox

        if isinstance(proto, PooledSandbox):
            proto = proto.unpooled()

        if isinstance(proto, DockerSandbox):
            return prepare_docker(proto, files, step)
    if isinstance(proto, LocalSandbox):
        return _prepare_local(proto, files, step, cache_dir)
    if step.network and step.commands:
        raise SandboxError(
            f"a {type(proto).__name__} ({proto.backend}) cannot give the setup step a network",
            hint="use backend: docker or local, or set sandbox.setup_network: false",
        )
    key = setup_key(proto.backend, step, files)
    opener = partial(_SetUpEachTime, factory, dict(files), step)
    return PreparedWorkspace(proto.backend, key, False, "", "", opener)


def _prepare_local(
    proto: LocalSandbox, files: Mapping[str, FileData], step: SetupStep, cache_dir: Path
) -> PreparedWorkspace:
    key = setup_key(f"local:{sys.executable}:{sys.version}", step, files)
    archive = cache_dir / f"local-{key[:32]}.tar"
    output = ""
    reused = archive.is_file()
    if not reused:
        check_room(files, proto.limits.workspace_mb)
        limits = setup_limits(proto.limits, step)
        with LocalSandbox(limits, share_net=step.network) as box:
            box.write_files(files)
            output = run_setup(box.run, step)
            pack(box.workspace_dir, archive)
    opener = partial(LocalSandbox, proto.limits, seed=archive)
    return PreparedWorkspace("local", key, reused, output, str(archive), opener)


def _unwrap(sandbox: Sandbox) -> Sandbox:
    """The backend's own sandbox under wrappers (traced, policy) that keep it as ``inner``."""
    while isinstance(getattr(sandbox, "inner", None), Sandbox):
        sandbox = sandbox.inner  # type: ignore[attr-defined]
    return sandbox


class _SetUpEachTime(SandboxContext):
    """For backends that cannot keep a set-up state: files and setup again on every start."""

    def __init__(
        self, factory: Callable[[], Sandbox], files: Mapping[str, FileData], step: SetupStep
    ) -> None:
        self.inner = factory()
        self.backend = self.inner.backend
        self._files = files
        self._step = step
        self._started = False

    def start(self) -> None:
        if self._started:
            return
        self.inner.start()
        self._started = True
        self.inner.write_files(self._files)
        run_setup(self.inner.run, self._step)

    def write_files(self, files: Mapping[str, FileData]) -> None:
        self.inner.write_files(files)

    def run(self, cmd: Sequence[str], timeout_s: float) -> ExecResult:
        return self.inner.run(cmd, timeout_s)

    def read_files(self, paths: Sequence[str]) -> dict[str, str]:
        return self.inner.read_files(paths)

    def close(self) -> None:
        self._started = False
        self.inner.close()
