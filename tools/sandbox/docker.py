"""The ``docker`` sandbox: one locked-down container per workspace (the isolation boundary).

Every container runs with no network, a cgroup memory/CPU/PID limit, a
read-only root filesystem, all capabilities dropped, ``no-new-privileges``, an
unprivileged user and an environment built here (nothing from the host's). The
workspace is a size-capped tmpfs *volume* managed by the engine, never a host
directory: files go in with ``put_archive`` and come out with ``get_archive``.
Containers and volumes carry the ``codeagent.sandbox`` label; they are removed on
:meth:`DockerSandbox.close`, and ones left by crashed processes are removed at
start. A sandbox made from a set-up image (:mod:`codeagent.tools.sandbox.docker_setup`)
copies the image's set-up workspace (``seed``) into its own at start.

The container's PID 1 is the resident runner (:mod:`~codeagent.tools.sandbox.resident`):
files go in, commands run and reports come out over one attached channel, and a
``python3`` command runs on an interpreter that has pytest imported already. Where the
runner does not answer, the sandbox falls back to ``put_archive``, ``docker exec`` and
``get_archive`` (same isolation, slower).
"""

from __future__ import annotations

import contextlib
import io
import tarfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

from codeagent.tools.errors import SandboxError
from codeagent.tools.sandbox.docker_exec import exec_capped
from codeagent.tools.sandbox.engine import (
    ENGINE_HINT,
    ENV,
    RUN_WRAPPER,
    USER,
    WORKDIR,
    clean_stale,
    container_options,
    copy_seed,
    docker_client,
    ensure_image,
    first_line,
    volume_options,
)
from codeagent.tools.sandbox.image import default_image
from codeagent.tools.sandbox.protocol import (
    SANDBOX_UID,
    WORKSPACE_HINT,
    ExecResult,
    FileData,
    SandboxContext,
    SandboxLimits,
    encode_file,
    file_bytes,
)
from codeagent.tools.sandbox.resident import ResidentChannel, ResidentError
from codeagent.tools.workspace import safe_relpath

__all__ = ["DockerSandbox", "docker_client", "tar_files"]

_stale_lock = threading.Lock()
_stale_done = False


class DockerSandbox(SandboxContext):
    """A sandbox in a fresh, locked-down Docker container.

    Args:
        limits: Resource limits for every command.
        image: Image reference (default: ``codeagent-sandbox:<version>``).
        client: A ``docker.DockerClient`` to share; one is made on :meth:`start` otherwise.
        seed: A directory in the image whose contents are copied into the workspace when
            the container starts: the set-up workspace of a setup image.
        resident: Send files, commands and reads to the container's resident runner
            (False: ``put_archive``, ``docker exec`` and ``get_archive`` only).
    """

    backend = "docker"

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        image: str | None = None,
        *,
        client: Any = None,
        seed: str | None = None,
        resident: bool = True,
    ) -> None:
        self.limits = limits or SandboxLimits()
        self.image = image or default_image()
        self.seed = seed
        self._client = client
        self._container: Any = None
        self._volume: Any = None
        self._files: dict[str, FileData] = {}  # replayed if the container has to be replaced
        self._channel: ResidentChannel | None = None
        self._use_resident = resident
        self._resident = resident  # False once the runner failed: docker exec from then on

    @property
    def container_id(self) -> str | None:
        """The running container's id (``None`` before :meth:`start`)."""
        return None if self._container is None else str(self._container.id)

    def start(self) -> None:
        global _stale_done
        if self._container is not None:
            return
        if self._client is None:
            self._client = docker_client()
        ensure_image(self._client, self.image)
        with _stale_lock:
            if not _stale_done:
                clean_stale(self._client)
                _stale_done = True
        self._create()

    @property
    def client(self) -> Any:
        """The ``docker.DockerClient`` in use (``None`` before :meth:`start` unless given)."""
        return self._client

    def write_files(self, files: Mapping[str, FileData]) -> None:
        clean = {safe_relpath(rel): data for rel, data in files.items()}
        try:
            self._write(clean)
        except SandboxError as exc:
            if "no space left" in exc.message.lower():
                size = sum(len(encode_file(data)) for data in clean.values())
                raise SandboxError(
                    f"the files do not fit in the workspace: sandbox.workspace_mb is "
                    f"{self.limits.workspace_mb} ({size / 2**20:.1f} MB to write)",
                    hint=WORKSPACE_HINT,
                ) from exc
            raise
        self._files.update(clean)

    def _write(self, clean: dict[str, FileData]) -> None:
        channel = self._runner()
        if channel is not None:
            try:
                channel.put(clean)
                return
            except ResidentError:
                self._drop_runner()
            except SandboxError as exc:  # e.g. a file past the runner's file-size limit
                if "no space left" in exc.message.lower():
                    raise
        archive = tar_files(clean)
        self._api_call(lambda: self._put(archive))

    def read_files(self, paths: Sequence[str]) -> dict[str, str]:
        import docker

        channel = self._runner()
        if channel is not None:
            try:
                return channel.get([safe_relpath(rel) for rel in paths])
            except ResidentError:
                self._drop_runner()
        found: dict[str, str] = {}
        for rel in paths:
            path = f"{WORKDIR}/{safe_relpath(rel)}"
            try:
                chunks, _stat = self._client.api.get_archive(self._cid(), path)
                data = b"".join(chunks)
            except docker.errors.NotFound:
                continue
            except docker.errors.DockerException as exc:
                raise SandboxError(f"cannot read {rel}: {first_line(exc)}") from exc
            text = _single_regular_file(data)
            if text is not None:
                found[rel] = text
        return found

    def run(self, cmd: Sequence[str], timeout_s: float) -> ExecResult:
        channel = self._runner()
        if channel is not None:
            try:
                return channel.run(
                    cmd, env=ENV, cwd=WORKDIR, timeout_s=timeout_s, limit=self.limits.output_bytes
                )
            except ResidentError:  # dead or wedged: end what it ran, then go on by exec
                self._drop_runner()
                self.kill_processes()
        return self._api_call(
            lambda: exec_capped(
                self._client.api,
                self._cid(),
                [*RUN_WRAPPER, *cmd],
                user=USER,
                environment=ENV,
                workdir=WORKDIR,
                timeout_s=timeout_s,
                limit=self.limits.output_bytes,
                kill=self.kill_processes,
            )
        )

    def reset(self) -> bool:
        """Kill every process; empty the workspace, ``/tmp``, ``/dev/shm`` and
        ``/dev/mqueue``; remove System V IPC objects (for reuse by a pool).

        Returns:
            True when the container is clean and can be handed out again.
        """
        script = (  # processes, files, and System V / POSIX IPC objects (they outlive them)
            "kill -9 -1 2>/dev/null; chmod -R u+rwX /workspace /tmp 2>/dev/null; "
            "find /workspace /tmp /dev/shm /dev/mqueue -mindepth 1 -delete 2>/dev/null; "
            "ipcrm --all 2>/dev/null; "
            'test -z "$(find /workspace /tmp /dev/shm /dev/mqueue -mindepth 1 | head -n 1)" '
            '&& test "$(ipcs -m -s -q | grep -c "^0x")" = 0'
        )
        try:
            result = self._client.api.exec_create(self._cid(), ["/bin/sh", "-c", script], user=USER)
            self._client.api.exec_start(result["Id"])
            ok = self._client.api.exec_inspect(result["Id"]).get("ExitCode") == 0
            if ok and self._channel is not None:
                # A fresh runner process: nothing of the last lease stays in its memory.
                self._channel.restart()
                self._channel.ping()
        except Exception:
            return False
        self._files.clear()
        return ok

    def kill_processes(self) -> None:
        """End every process but the container's init; kill the container if that fails."""
        try:
            api = self._client.api
            # (kill fails with "no such process" when nothing is left to kill: that is fine)
            script = ["/bin/sh", "-c", "kill -9 -1 2>/dev/null; exit 0"]
            exec_id = api.exec_create(self._cid(), script, user=USER)["Id"]
            api.exec_start(exec_id)
            if api.exec_inspect(exec_id).get("ExitCode") == 0:
                return
        except Exception:  # e.g. the PID limit is full, so not even `kill` can start
            pass
        with contextlib.suppress(Exception):
            self._container.kill()

    def close(self) -> None:
        container, volume = self._container, self._volume
        self._container = self._volume = None
        self._files.clear()
        self._drop_runner()
        _remove(container, volume)

    @property
    def resident(self) -> bool:
        """Whether commands go to the container's resident runner (else ``docker exec``)."""
        return self._runner() is not None

    def _runner(self) -> ResidentChannel | None:
        """The channel to the runner, attached on first use; None once it has failed."""
        if not self._resident or self._container is None:
            return None
        if self._channel is None:
            try:
                channel = ResidentChannel(self._client.api, self._cid())
                try:
                    channel.ping()
                except Exception:
                    channel.close()
                    raise
            except Exception:  # no runner, or a transport it cannot use: docker exec
                self._resident = False
                return None
            self._channel = channel
        return self._channel

    def _drop_runner(self) -> None:
        channel, self._channel = self._channel, None
        self._resident = False
        if channel is not None:
            channel.close()

    def _create(self) -> None:
        import docker

        self._resident = self._use_resident

        try:
            self._volume = self._client.volumes.create(**volume_options(self.limits))
            options = container_options(self.limits, self.image, self._volume.name)
            self._container = self._client.containers.run(**options)
        except docker.errors.DockerException as exc:
            _remove(self._container, self._volume)
            self._container = self._volume = None
            raise SandboxError(
                f"cannot start a sandbox container: {first_line(exc)}", hint=ENGINE_HINT
            ) from exc
        if self.seed is not None:
            try:
                copy_seed(self._client.api, self._cid(), self.seed, self.limits.workspace_mb)
            except SandboxError:
                self.close()
                raise

    def _api_call(self, call: Any) -> Any:
        """Run ``call``; if the container died (OOM of init, kill), replace it once and retry."""
        import docker

        try:
            return call()
        except docker.errors.APIError as exc:
            if self._container is None or _is_running(self._container):
                raise SandboxError(
                    f"docker call failed: {first_line(exc)}", hint=ENGINE_HINT
                ) from exc
        files = dict(self._files)
        self.close()
        self._create()
        if files:
            self._put(tar_files(files))
            self._files = files
        return call()

    def _put(self, archive: bytes) -> None:
        self._client.api.put_archive(self._cid(), WORKDIR, archive)

    def _cid(self) -> str:
        if self._container is None:
            raise SandboxError("sandbox used before start()")
        return str(self._container.id)


def tar_files(files: Mapping[str, FileData], dirs: Iterable[str] = ()) -> bytes:
    """A tar of ``files`` (and their parent directories) owned by the sandbox user.

    Args:
        files: Contents by relative path (``bytes`` as they are, ``str`` as UTF-8).
        dirs: More directories to include (created even when no file is in them).

    Raises:
        SandboxError: For text that cannot be encoded (lone surrogates), naming the file.
    """
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        parents = {str(p) for rel in files for p in PurePosixPath(rel).parents if str(p) != "."}
        for name in sorted(parents | set(dirs)):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            info.uid = info.gid = SANDBOX_UID
            tar.addfile(info)
        for rel, content in files.items():
            data = file_bytes(rel, content)
            info = tarfile.TarInfo(rel)
            info.size, info.mode = len(data), 0o644
            info.uid = info.gid = SANDBOX_UID
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _single_regular_file(data: bytes) -> str | None:
    # Symlinks planted by the code under test come back as links: never follow them.
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.next()
        if member is None or not member.isreg():
            return None
        handle = tar.extractfile(member)
        return None if handle is None else handle.read().decode("utf-8", errors="replace")


def _is_running(container: Any) -> bool:
    try:
        container.reload()
    except Exception:
        return False
    return bool(container.status == "running")


def _remove(container: Any, volume: Any) -> None:
    for thing in (container, volume):
        if thing is not None:
            # Already gone, or the engine went away: clean_stale gets it next time.
            with contextlib.suppress(Exception):
                thing.remove(force=True)
