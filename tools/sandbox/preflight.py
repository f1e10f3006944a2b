"""Is a job's sandbox usable? Checked before a job's first model call.

A job that would spend minutes of model time and then stop on a missing bubblewrap
or Docker engine is the worst way to learn that; :func:`check_sandbox` answers
in a second and says the exact command that sets the sandbox up.
"""

from __future__ import annotations

import shutil
import subprocess

from codeagent.tools.errors import SandboxError, SandboxMissing

__all__ = ["APT_BWRAP", "BUILD_IMAGE", "bwrap_problem", "check_sandbox", "docker_problem"]

APT_BWRAP = "sudo apt-get install -y bubblewrap"
BUILD_IMAGE = "codeagent sandbox build"
SETUP = "codeagent sandbox setup"
# a namespace set-up like the local backend's, without its bind mounts: what fails
# where user namespaces are off (some containers, hardened kernels)
_BWRAP_PROBE = ("bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true")


_bwrap_ran: set[str] = set()  # bwrap binaries that made a sandbox in this process


def bwrap_problem() -> str | None:
    """Why bubblewrap cannot run sandboxes here, or None when it can.

    A binary that once made a sandbox is not probed again in the same process (a
    batch of jobs pays the probe once); a failure is always probed again.
    """
    binary = shutil.which("bwrap")
    if binary is None:
        return "bubblewrap (bwrap) is not installed"
    if binary in _bwrap_ran:
        return None
    try:
        proc = subprocess.run(_BWRAP_PROBE, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap does not run: {exc}"
    if proc.returncode != 0:
        return f"bwrap cannot create a sandbox: {proc.stderr.strip()[:200] or proc.returncode}"
    _bwrap_ran.add(binary)
    return None


def docker_problem(image: str | None) -> tuple[str, str] | None:
    """Why the docker backend cannot run, with its fix, or None when it can.

    Args:
        image: The image jobs use (default: this version's sandbox image).
    """
    from codeagent.tools.sandbox.engine import docker_client, ensure_image
    from codeagent.tools.sandbox.image import default_image

    try:
        client = docker_client(timeout_s=10)
    except SandboxError as exc:
        return exc.message, exc.hint or "start the Docker engine"
    try:
        ensure_image(client, image or default_image())
    except SandboxError as exc:
        return exc.message, exc.hint or f"run: {BUILD_IMAGE}"
    return None


def check_sandbox(backend: str, image: str | None = None) -> str:
    """Check that ``backend`` can run sandboxes now; ``auto`` resolves as when a job runs.

    Args:
        backend: ``auto``, ``docker``, ``local``; a plugin backend is not checked.
        image: The workflow's ``sandbox.image`` (docker only).

    Returns:
        The backend jobs will use (``auto`` resolved to ``docker`` or ``local``).

    Raises:
        SandboxMissing: With the exact command to run (the CLI exits with status 2).
    """
    if backend not in ("auto", "docker", "local"):
        return backend
    if backend == "local":
        problem = bwrap_problem()
        if problem:
            raise SandboxMissing(
                f"the local sandbox cannot run: {problem}",
                hint=f"run: {APT_BWRAP} (or: {SETUP}), or use backend: docker",
            )
        return "local"
    docker = docker_problem(image)
    if docker is None:
        return "docker"
    if backend == "docker":
        raise SandboxMissing(f"the docker sandbox cannot run: {docker[0]}", hint=docker[1])
    problem = bwrap_problem()
    if problem is None:
        return "local"
    raise SandboxMissing(
        f"no sandbox backend is usable: {docker[0]}, and {problem}",
        hint=f"run: {SETUP} (it does one of these), or install bubblewrap: {APT_BWRAP}, "
        f"or start Docker and run: {BUILD_IMAGE}",
    )
