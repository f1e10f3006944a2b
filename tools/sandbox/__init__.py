"""Sandboxes where generated code runs: ``docker`` (the isolation boundary) and ``local``."""

from __future__ import annotations

from codeagent.tools.errors import ConfigError
from codeagent.tools.sandbox.local import LocalSandbox, bwrap_available
from codeagent.tools.sandbox.protocol import ExecResult, Sandbox, SandboxLimits

__all__ = [
    "ExecResult",
    "LocalSandbox",
    "Sandbox",
    "SandboxLimits",
    "bwrap_available",
    "open_sandbox",
]


def open_sandbox(backend: str, limits: SandboxLimits, image: str | None = None) -> Sandbox:
    """Create (not start) a sandbox of the named backend.

    Args:
        backend: ``"local"``, ``"docker"`` or ``"auto"``.
        limits: Resource limits for every command.
        image: Docker image to use (docker backend only).

    Raises:
        ConfigError: For an unknown backend name.
    """
    if backend == "local":
        return LocalSandbox(limits)
    if backend in ("docker", "auto"):
        from codeagent.tools.sandbox import factory  # the docker backend imports docker-py lazily

        return factory.open_docker_or_auto(backend, limits, image)
    raise ConfigError(f"unknown sandbox backend {backend!r}", hint="use auto, docker or local")
