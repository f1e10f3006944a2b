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
from codeagent.tools.sandbox.prepare import prepare_workspace
from codeagent.tools.sandbox.protocol import ExecResult, FileData, Sandbox, SandboxLimits
from codeagent.tools.sandbox.setup_step import PreparedWorkspace, SetupFailed, SetupStep

__all__ = [
    "SANDBOX_GROUP",
    "BackendFactory",
    "ExecResult",
    "FileData",
    "LocalSandbox",
    "PreparedWorkspace",
    "Sandbox",
    "SandboxLimits",
    "SetupFailed",
    "SetupStep",
    "backend_names",
    "bwrap_available",
    "get_backend",
    "open_sandbox",
    "prepare_workspace",
]
