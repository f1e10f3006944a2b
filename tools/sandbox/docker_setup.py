"""The docker side of a job's setup step: run it once, commit the result as an image.

The setup container is the usual locked-down sandbox container (no capabilities,
no-new-privileges, unprivileged user, memory/CPU/PID limits) with two differences
(:func:`~codeagent.tools.sandbox.engine.setup_container_options`): its root filesystem
is writable, because ``docker commit`` keeps a container's own layer but never a
volume, and it has the engine's bridge network when the workflow says
``sandbox.setup_network: true``. After the commands, the workspace is moved to
:data:`SEED_DIR` and the container is committed as ``codeagent-setup:<key16>``
(labelled ``codeagent.setup``). A job's sandboxes run that image exactly like the
plain sandbox image (read-only root, tmpfs workspace, ``network_mode="none"``) and
copy :data:`SEED_DIR` into their workspace at start; a volume would hide a
workspace kept at ``/workspace`` itself, and a tmpfs volume does not keep what the
engine copies into it on creation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from functools import partial
from typing import Any

from codeagent.tools.errors import SandboxError
from codeagent.tools.sandbox.docker import DockerSandbox, tar_files
from codeagent.tools.sandbox.docker_exec import exec_capped
from codeagent.tools.sandbox.engine import (
    ENGINE_HINT,
    ENV,
    RUN_WRAPPER,
    USER,
    WORKDIR,
    first_line,
    setup_container_options,
)
from codeagent.tools.sandbox.local_copy import check_room
from codeagent.tools.sandbox.protocol import WORKSPACE_HINT, ExecResult, FileData, SandboxLimits
from codeagent.tools.sandbox.setup_step import (
    PreparedWorkspace,
    SetupStep,
    run_setup,
    setup_key,
    setup_limits,
)
from codeagent.tools.workspace import safe_relpath

__all__ = ["SEED_DIR", "SETUP_LABEL", "SETUP_REPO", "prepare_docker"]

SETUP_REPO = "codeagent-setup"
SETUP_LABEL = "codeagent.setup"
SEED_DIR = "/.codeagent-setup"
"""Where a setup image keeps the set-up workspace (copied into ``/workspace`` at start)."""

# argv: the workspace quota in bytes. Exit 3: the set-up workspace is over it.
_SEAL = f"""\
import os, shutil, stat, sys
total = 0
for top, _dirs, names in os.walk({WORKDIR!r}):
    for name in names:
        info = os.lstat(os.path.join(top, name))
        if stat.S_ISREG(info.st_mode):
            total += -(-info.st_size // 4096) * 4096
print(total)
if total > int(sys.argv[1]):
    sys.exit(3)
for name in os.listdir({WORKDIR!r}):
    shutil.move(os.path.join({WORKDIR!r}, name), os.path.join({SEED_DIR!r}, name))
"""


def prepare_docker(
    proto: DockerSandbox, files: Mapping[str, FileData], step: SetupStep
) -> PreparedWorkspace:
    """Find or make the setup image of ``files`` + ``step`` on ``proto``'s image.

    Args:
        proto: An unstarted sandbox of the job (its image, limits and client are used).
        files: The repository's files.
        step: The setup commands.

    Raises:
        SetupFailed: A setup command failed.
        SandboxError: No engine, no image, or the workspace does not fit ``workspace_mb``.
    """
    from codeagent.tools.sandbox.engine import docker_client

    client = proto.client or docker_client()
    key = setup_key(f"docker:{_image_id(client, proto.image)}", step, files)
    tag = f"{SETUP_REPO}:{key[:16]}"
    reused = _has_image(client, tag)
    output = "" if reused else _build(client, proto.image, proto.limits, files, step, tag)
    opener = partial(DockerSandbox, proto.limits, tag, client=client, seed=SEED_DIR)
    return PreparedWorkspace("docker", key, reused, output, tag, opener)


def _build(
    client: Any,
    image: str,
    limits: SandboxLimits,
    files: Mapping[str, FileData],
    step: SetupStep,
    tag: str,
) -> str:
    import docker

    check_room(files, limits.workspace_mb)
    inside = {f"{WORKDIR[1:]}/{safe_relpath(rel)}": data for rel, data in files.items()}
    archive = tar_files(inside, dirs=[WORKDIR[1:], SEED_DIR[1:]])
    options = setup_container_options(setup_limits(limits, step), image, step.network)
    container: Any = None
    try:
        container = client.containers.create(**options)
        client.api.put_archive(container.id, "/", archive)
        container.start()
        output = run_setup(partial(_exec, client, container, limits.output_bytes), step)
        _seal(client, container, limits.workspace_mb)
        repository, _, name = tag.partition(":")
        container.commit(repository=repository, tag=name, changes=[f'LABEL {SETUP_LABEL}="1"'])
        return output
    except docker.errors.DockerException as exc:
        raise SandboxError(
            f"cannot run the setup step in docker: {first_line(exc)}", hint=ENGINE_HINT
        ) from exc
    finally:
        if container is not None:
            with contextlib.suppress(Exception):  # gone already; clean_stale gets it otherwise
                container.remove(force=True)


def _exec(client: Any, container: Any, limit: int, cmd: list[str], timeout_s: float) -> ExecResult:
    return exec_capped(
        client.api,
        container.id,
        [*RUN_WRAPPER, *cmd],
        user=USER,
        environment=ENV,
        workdir=WORKDIR,
        timeout_s=timeout_s,
        limit=limit,
        kill=partial(_kill, client, container),
    )


def _kill(client: Any, container: Any) -> None:
    try:
        exec_id = client.api.exec_create(container.id, ["/bin/sh", "-c", "kill -9 -1"], user=USER)
        client.api.exec_start(exec_id["Id"])
    except Exception:  # e.g. the PID limit is full: end the container itself
        with contextlib.suppress(Exception):
            container.kill()


def _seal(client: Any, container: Any, workspace_mb: int) -> None:
    """Check the set-up workspace fits the quota, then move it to :data:`SEED_DIR`."""
    quota = workspace_mb * 1024 * 1024
    exec_id = client.api.exec_create(
        container.id, ["python3", "-I", "-c", _SEAL, str(quota)], user=USER
    )["Id"]
    output = client.api.exec_start(exec_id).decode("utf-8", errors="replace").strip()
    code = client.api.exec_inspect(exec_id).get("ExitCode")
    if code == 3:
        size = int(output.splitlines()[0]) / 1024 / 1024
        raise SandboxError(
            f"the set-up workspace is {size:.1f} MB: it does not fit in "
            f"sandbox.workspace_mb ({workspace_mb} MB)",
            hint=WORKSPACE_HINT,
        )
    if code != 0:
        raise SandboxError(f"cannot keep the set-up workspace (exit {code}): {output[-300:]}")


def _image_id(client: Any, image: str) -> str:
    import docker

    try:
        return str(client.images.get(image).id)
    except docker.errors.ImageNotFound:
        raise SandboxError(
            f"the sandbox image {image} is not built", hint="run: codeagent sandbox build"
        ) from None
    except docker.errors.DockerException as exc:
        raise SandboxError(f"cannot inspect image {image}: {first_line(exc)}") from exc


def _has_image(client: Any, tag: str) -> bool:
    import docker

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True
