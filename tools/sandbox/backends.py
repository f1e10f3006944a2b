"""Sandbox backends by name: ``auto``, ``docker``, ``local``, and plugins.

A backend is a factory ``(limits, image) -> Sandbox`` that creates (never starts) a
sandbox; ``image`` is the workflow's ``sandbox.image``, which backends without images
ignore. A plugin package adds one under the entry-point group ``codeagent.sandboxes``::

    [project.entry-points."codeagent.sandboxes"]
    firecracker = "my_package.vm:open_vm_sandbox"

after which a workflow may say ``sandbox: {backend: firecracker}``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from codeagent.tools.errors import ConfigError
from codeagent.tools.plugins import load_plugin, plugin_names
from codeagent.tools.sandbox.factory import open_docker_or_auto
from codeagent.tools.sandbox.local import LocalSandbox
from codeagent.tools.sandbox.protocol import Sandbox, SandboxLimits

__all__ = ["SANDBOX_GROUP", "BackendFactory", "backend_names", "get_backend", "open_sandbox"]

SANDBOX_GROUP = "codeagent.sandboxes"
BackendFactory = Callable[[SandboxLimits, str | None], Sandbox]


def _local(limits: SandboxLimits, image: str | None) -> Sandbox:
    return LocalSandbox(limits)


# docker and auto import docker-py only when a sandbox is opened (see factory.py)
_BUILTIN: dict[str, BackendFactory] = {
    "auto": partial(open_docker_or_auto, "auto"),
    "docker": partial(open_docker_or_auto, "docker"),
    "local": _local,
}


def backend_names() -> list[str]:
    """Names a workflow may use for ``sandbox.backend`` (built-ins and plugins)."""
    return plugin_names(SANDBOX_GROUP, _BUILTIN)


def get_backend(name: str) -> BackendFactory:
    """The factory of the backend called ``name``: a built-in or a plugin's.

    Raises:
        ConfigError: When no backend has that name (the hint lists the known ones), or
            the plugin does not load or is not callable.
    """
    factory = load_plugin(SANDBOX_GROUP, name, _BUILTIN, "sandbox backend")
    if not callable(factory):
        raise ConfigError(
            f"sandbox backend plugin {name!r} is {type(factory).__name__}, not a factory",
            hint="register a callable (limits, image) -> Sandbox, e.g. a Sandbox class",
        )
    found: BackendFactory = factory
    return found


def open_sandbox(backend: str, limits: SandboxLimits, image: str | None = None) -> Sandbox:
    """Create (not start) a sandbox of the named backend.

    Args:
        backend: ``"auto"``, ``"docker"``, ``"local"`` or a plugin's name.
        limits: Resource limits for every command.
        image: Docker image to use (docker backend only; plugins may use it).

    Raises:
        ConfigError: For an unknown backend name, or a plugin that makes no sandbox.
        SandboxError: For ``docker`` when no engine answers or the image is missing.
    """
    sandbox = get_backend(backend)(limits, image)
    if not isinstance(sandbox, Sandbox):
        raise ConfigError(
            f"sandbox backend {backend!r} made a {type(sandbox).__name__}, not a sandbox",
            hint="a backend returns an object with start, write_files, run, read_files and "
            "close (codeagent.tools.sandbox.Sandbox)",
        )
    return sandbox
