"""The Docker engine side of the docker sandbox: client, image check, container recipe.

Everything the sandbox relies on for isolation is in :func:`container_options`
and :func:`volume_options`, in one place to review. Containers and volumes carry
the ``codeagent.sandbox`` label plus the owning host and pid, so ones left by a
crashed process can be found and removed (:func:`clean_stale`).
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Mapping
from typing import Any

from codeagent.tools.errors import SandboxError
from codeagent.tools.sandbox.protocol import DEPS_DIR, SANDBOX_UID, WORKSPACE_HINT, SandboxLimits
from codeagent.tools.sandbox.resident import runner_command

__all__ = [
    "ENGINE_HINT",
    "ENV",
    "LABEL",
    "RUN_WRAPPER",
    "USER",
    "WORKDIR",
    "clean_stale",
    "container_options",
    "copy_seed",
    "docker_client",
    "ensure_image",
    "first_line",
    "labels",
    "setup_container_options",
    "volume_options",
]

LABEL = "codeagent.sandbox"
WORKDIR = "/workspace"
USER = f"{SANDBOX_UID}:{SANDBOX_UID}"
ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": WORKDIR,
    "LANG": "C.UTF-8",
    "TMPDIR": "/tmp",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    "PYTHONPATH": f"{WORKDIR}/{DEPS_DIR}",
}
# Runs the command, then kills everything it left behind (daemons, spinning children).
RUN_WRAPPER = ["/bin/sh", "-c", '"$@"; rc=$?; kill -9 -1 2>/dev/null; exit $rc', "codeagent"]
ENGINE_HINT = "start the Docker engine (e.g. `sudo systemctl start docker`), or use backend: local"
_IMAGE_HINT = "run: codeagent sandbox build"


def docker_client(timeout_s: int = 60) -> Any:
    """A ``docker.DockerClient`` from the environment that has answered a ping.

    Raises:
        SandboxError: When docker-py is missing or no engine answers.
    """
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - docker is a dependency
        raise SandboxError("docker-py is not installed", hint="pip install docker") from exc
    try:
        client = docker.from_env(timeout=timeout_s)
        client.ping()
    except docker.errors.DockerException as exc:
        raise SandboxError(
            f"no Docker engine answers ({first_line(exc)})", hint=ENGINE_HINT
        ) from exc
    return client


def ensure_image(client: Any, image: str) -> None:
    """Raise a :class:`SandboxError` with the build hint when ``image`` is not present."""
    import docker

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        raise SandboxError(f"the sandbox image {image} is not built", hint=_IMAGE_HINT) from None
    except docker.errors.DockerException as exc:
        raise SandboxError(
            f"cannot inspect image {image}: {first_line(exc)}", hint=ENGINE_HINT
        ) from exc


def clean_stale(client: Any) -> int:
    """Remove labelled containers and volumes whose owning process on this host is gone.

    Returns:
        How many containers were removed.
    """
    host = socket.gethostname()
    removed = 0
    for container in client.containers.list(all=True, filters={"label": f"{LABEL}=1"}):
        if _owner_dead(container.labels, host):
            container.remove(force=True)
            removed += 1
    for volume in client.volumes.list(filters={"label": f"{LABEL}=1"}):
        if _owner_dead(volume.attrs.get("Labels") or {}, host):
            with contextlib.suppress(Exception):  # still used by another process's container
                volume.remove(force=True)
    return removed


def _owner_dead(labels: Mapping[str, str], host: str) -> bool:
    if labels.get(f"{LABEL}.host") != host:
        return False
    try:
        os.kill(int(labels.get(f"{LABEL}.pid", "0")), 0)
    except ProcessLookupError:
        return True
    except (ValueError, PermissionError):
        return False
    return False


def labels() -> dict[str, str]:
    """The labels of every container and volume this process creates."""
    return {LABEL: "1", f"{LABEL}.host": socket.gethostname(), f"{LABEL}.pid": str(os.getpid())}


def volume_options(limits: SandboxLimits) -> dict[str, Any]:
    """Keyword arguments for ``client.volumes.create``: the size-capped tmpfs workspace.

    An engine-managed tmpfs volume, not a host directory: unlike a ``--tmpfs``
    mount it accepts ``put_archive`` while the root filesystem is read-only.
    """
    uid = SANDBOX_UID
    return {
        "driver": "local",
        "driver_opts": {
            "type": "tmpfs",
            "device": "tmpfs",
            "o": f"size={limits.workspace_mb}m,uid={uid},gid={uid},mode=0755,nosuid,nodev",
        },
        "labels": labels(),
    }


def container_options(limits: SandboxLimits, image: str, volume: str) -> dict[str, Any]:
    """Keyword arguments for ``client.containers.create``: every lock the sandbox relies on."""
    from docker.types import LogConfig, Ulimit

    mb = 1024 * 1024
    return {
        "image": image,
        # PID 1 is the resident runner (it also reaps orphans, and survives the
        # ``kill -9 -1`` that ends each command); it reads requests on stdin.
        "command": runner_command(),
        "stdin_open": True,
        # Requests and replies (file contents, test output) never reach the engine's logs.
        "log_config": LogConfig(type=LogConfig.types.NONE),
        "user": USER,
        "working_dir": WORKDIR,
        "environment": dict(ENV),
        "labels": labels(),
        "network_mode": "none",
        "mem_limit": f"{limits.memory_mb}m",
        "memswap_limit": f"{limits.memory_mb}m",
        "nano_cpus": int(limits.cpus * 1e9),
        "pids_limit": limits.pids,
        "read_only": True,
        "tmpfs": {"/tmp": f"rw,exec,nosuid,nodev,size={limits.workspace_mb}m,mode=1777"},
        "volumes": {volume: {"bind": WORKDIR, "mode": "rw"}},
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "ulimits": [
            Ulimit(name="fsize", soft=limits.file_size_mb * mb, hard=limits.file_size_mb * mb),
            Ulimit(name="core", soft=0, hard=0),
        ],
        "ipc_mode": "private",
        "hostname": "sandbox",
        "detach": True,
    }


def setup_container_options(limits: SandboxLimits, image: str, network: bool) -> dict[str, Any]:
    """Keyword arguments for ``client.containers.create`` of a *setup* container.

    The same locks as :func:`container_options` but two: the root filesystem is
    writable and holds the workspace (``docker commit`` keeps the container's own
    layer, never a volume), and the network is the engine's default bridge when the
    workflow allows it (``sandbox.setup_network``). The file-size limit is the
    workspace size, for installers that write large files.
    """
    from docker.types import Ulimit

    options = container_options(limits, image, volume="")
    del options["volumes"], options["detach"]
    fsize = max(limits.file_size_mb, limits.workspace_mb) * 1024 * 1024
    options.update(
        read_only=False,
        network_mode="bridge" if network else "none",
        ulimits=[Ulimit(name="fsize", soft=fsize, hard=fsize), Ulimit(name="core", soft=0, hard=0)],
    )
    return options


def copy_seed(api: Any, container_id: str, seed: str, workspace_mb: int) -> None:
    """Copy a setup image's set-up workspace (dir ``seed``) into the empty workspace volume.

    Raises:
        SandboxError: When it does not fit (naming ``sandbox.workspace_mb``) or cannot be copied.
    """
    try:
        exec_id = api.exec_create(
            container_id, ["cp", "-a", f"{seed}/.", f"{WORKDIR}/"], user=USER
        )["Id"]
        output = api.exec_start(exec_id).decode("utf-8", errors="replace").strip()
        code = api.exec_inspect(exec_id).get("ExitCode")
    except Exception as exc:
        raise SandboxError(
            f"cannot copy the set-up workspace in: {first_line(exc)}", hint=ENGINE_HINT
        ) from exc
    if code == 0:
        return
    if "no space left" in output.lower():
        raise SandboxError(
            f"the set-up workspace does not fit in sandbox.workspace_mb ({workspace_mb} MB): "
            + output[-300:],
            hint=WORKSPACE_HINT,
        )
    raise SandboxError(f"cannot copy the set-up workspace in (exit {code}): {output[-300:]}")


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
