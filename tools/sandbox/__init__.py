"""Sandboxes where generated code runs: ``docker`` (the isolation boundary), ``local``, plugins."""

from __future__ import annotations

from codeagent.tools.sandbox.backends import (
    SANDBOX_GROUP,
    BackendFactory,
    backend_names,
    get_backend,
    open_sandbox,
)
from codeagent.tools.sandbox.local import LocalSandbox, bwrap_available
from codeagent.tools.sandbox.protocol import ExecResult, Sandbox, SandboxLimits

__all__ = [
    "SANDBOX_GROUP",
    "BackendFactory",
    "ExecResult",
    "LocalSandbox",
    "Sandbox",
    "SandboxLimits",
    "backend_names",
    "bwrap_available",
    "get_backend",
    "open_sandbox",
]
