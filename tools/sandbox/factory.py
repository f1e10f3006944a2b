"""Backend choice for ``docker`` and ``auto``, and the ``doctor`` health check.

``auto`` picks docker when an engine answers and the sandbox image is built,
and otherwise the weaker ``local`` backend, announcing that with a
:class:`WeakSandboxWarning` (library code never prints; the CLI shows warnings).
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

from codeagent.tools.errors import SandboxError
from codeagent.tools.sandbox.local import (
    LocalSandbox,
    bwrap_available,
    bwrap_disables_userns,
    bwrap_sizes_tmpfs,
)
from codeagent.tools.sandbox.protocol import Sandbox, SandboxLimits

__all__ = [
    "Check",
    "DoctorReport",
    "WeakSandboxWarning",
    "doctor",
    "open_docker_or_auto",
    "prewarm_docker",
]


class WeakSandboxWarning(UserWarning):
    """The ``auto`` backend fell back to ``local``, which isolates less than docker."""


_READY: dict[str, Any] = {}  # image -> the client that found it (checked once per process)
_READY_LOCK = threading.Lock()
os.register_at_fork(after_in_child=_READY.clear)  # a forked child makes its own connection


def open_docker_or_auto(backend: str, limits: SandboxLimits, image: str | None) -> Sandbox:
    """Create (not start) a docker sandbox, or for ``auto`` the best one available.

    A docker sandbox is leased from the process's warm pool
    (:func:`~codeagent.tools.sandbox.pool.shared_pool`) when started and reset when
    closed; the engine and the image are checked once per process.

    Args:
        backend: ``"docker"`` or ``"auto"``.
        limits: Resource limits for every command.
        image: Docker image (default: ``codeagent-sandbox:<version>``).

    Raises:
        SandboxError: For ``docker`` when no engine answers or the image is missing.
    """
    from codeagent.tools.sandbox.image import default_image
    from codeagent.tools.sandbox.pool import shared_pool

    ref = image or default_image()
    try:
        return shared_pool(limits, ref, _ready_client(ref)).sandbox()
    except SandboxError as exc:
        if backend != "auto":
            raise
        reason = exc.message
        hint = exc.hint
    warnings.warn(
        f"using the local sandbox backend (bubblewrap), which is weaker than docker: {reason}"
        + (f" ({hint})" if hint else ""),
        WeakSandboxWarning,
        stacklevel=3,
    )
    return LocalSandbox(limits)


def _ready_client(image: str) -> Any:
    """A docker client that found ``image`` (checked once per process).

    Raises:
        SandboxError: No engine answers, or the image is missing.
    """
    from codeagent.tools.sandbox.docker import docker_client, ensure_image

    with _READY_LOCK:
        client = _READY.get(image)
        if client is None:
            client = docker_client()
            ensure_image(client, image)
            _READY[image] = client
        return client


def prewarm_docker(limits: SandboxLimits, image: str | None) -> None:
    """Start a container of the shared pool in the background, when docker is usable.

    Never fails and never warns: a job that cannot use docker learns it (or falls back
    to ``local``) when it opens its first sandbox.
    """
    from codeagent.tools.sandbox.image import default_image
    from codeagent.tools.sandbox.pool import shared_pool

    ref = image or default_image()

    def warm() -> None:
        try:
            shared_pool(limits, ref, _ready_client(ref)).prewarm()
        except Exception:  # docker missing or broken: the job's own open says so
            return

    threading.Thread(target=warm, name="sandbox-prewarm-check", daemon=True).start()


@dataclass(frozen=True)
class Check:
    """One fact ``doctor`` checked: its name, whether it is fine, details and a fix."""

    name: str
    ok: bool
    detail: str
    hint: str | None = None


@dataclass(frozen=True)
class DoctorReport:
    """Everything ``codeagent sandbox doctor`` reports.

    Attributes:
        checks: Each fact checked, in order.
        backend: What ``auto`` would pick now: ``docker``, ``local`` or ``none``.
        image: The image reference this version uses.
    """

    checks: list[Check] = field(default_factory=list)
    backend: str = "none"
    image: str = ""

    @property
    def ok(self) -> bool:
        """True when the docker backend is ready to use."""
        return self.backend == "docker"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for ``doctor --json``)."""
        return {**asdict(self), "ok": self.ok}


def doctor(image: str | None = None) -> DoctorReport:
    """Check the Docker engine, the sandbox image and bubblewrap; never raises."""
    from codeagent.tools.sandbox.docker import docker_client, ensure_image
    from codeagent.tools.sandbox.image import default_image

    image = image or default_image()
    checks = []
    engine = have_image = False
    try:
        client = docker_client(timeout_s=10)
        version = client.version().get("Version", "?")
        checks.append(Check("docker engine", True, f"engine {version} answers"))
        engine = True
        ensure_image(client, image)
        checks.append(Check("sandbox image", True, f"{image} is built"))
        have_image = True
    except SandboxError as exc:
        checks.append(
            Check("sandbox image" if engine else "docker engine", False, exc.message, exc.hint)
        )
        if not engine:
            checks.append(
                Check("sandbox image", False, "not checked (no engine)", "start the engine first")
            )
    bwrap = bwrap_available()
    checks.append(
        Check(
            "bubblewrap",
            bwrap,
            "bwrap found (local backend available, weaker isolation)"
            if bwrap
            else "bwrap not found",
            None if bwrap else "apt-get install bubblewrap (only needed for backend: local)",
        )
    )
    if bwrap:
        checks += [_userns_check(), _quota_check()]
    backend = "docker" if engine and have_image else ("local" if bwrap else "none")
    return DoctorReport(checks=checks, backend=backend, image=image)


def _userns_check() -> Check:
    if bwrap_disables_userns():
        return Check(
            "nested user namespaces",
            True,
            "blocked in the local sandbox (bwrap --disable-userns)",
        )
    return Check(
        "nested user namespaces",
        False,
        "allowed in the local sandbox: this bwrap has no --disable-userns",
        "upgrade bubblewrap to 0.8 or newer (only needed for backend: local)",
    )


def _quota_check() -> Check:
    if bwrap_sizes_tmpfs():
        return Check("workspace quota", True, "local workspace and /tmp are size-capped tmpfs")
    return Check(
        "workspace quota",
        False,
        "this bwrap has no --size: the local workspace has no size limit",
        "upgrade bubblewrap to 0.7 or newer (only needed for backend: local)",
    )
