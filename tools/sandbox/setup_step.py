"""The setup step of a job's workspace: what it is, its cache key, how it runs, its error.

Backend-neutral pieces shared by :mod:`codeagent.tools.sandbox.prepare` (which picks
how a backend keeps the set-up state) and :mod:`codeagent.tools.sandbox.docker_setup`.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from codeagent.tools.errors import SandboxError
from codeagent.tools.sandbox.protocol import (
    WORKSPACE_HINT,
    ExecResult,
    FileData,
    Sandbox,
    SandboxLimits,
)
from codeagent.tools.workspace import safe_relpath

__all__ = [
    "PreparedWorkspace",
    "RunFn",
    "SetupFailed",
    "SetupStep",
    "run_setup",
    "setup_key",
    "setup_limits",
]

_KEY_VERSION = 1
_TAIL = 2000  # characters of setup output kept in errors
RunFn = Callable[[Sequence[str], float], ExecResult]
"""A sandbox's ``run``: argv and a timeout in, an :class:`ExecResult` out."""


@dataclass(frozen=True)
class SetupStep:
    """The workflow's ``sandbox.setup`` section.

    Attributes:
        commands: Shell commands (``sh -c``), run in order in the workspace.
        network: Give the setup commands a network (never the agent's code).
        timeout_s: Wall-clock limit of all the commands together.
    """

    commands: tuple[str, ...] = ()
    network: bool = False
    timeout_s: float = 600.0


@dataclass(frozen=True)
class PreparedWorkspace:
    """A set-up workspace and how to open sandboxes that start from it.

    Attributes:
        backend: ``docker``, ``local``, or another backend's name.
        key: The cache key (:func:`setup_key`, hex).
        reused: True when the set-up state came from the cache (setup did not run).
        output: The tail of the setup commands' output (empty when reused).
        location: Where the state is kept: the docker image tag, the local tar, or "".
    """

    backend: str
    key: str
    reused: bool
    output: str
    location: str
    opener: Callable[[], Sandbox] = field(repr=False, compare=False)

    def open(self) -> Sandbox:
        """A fresh, unstarted sandbox holding the set-up workspace (a sandbox factory)."""
        return self.opener()


class SetupFailed(SandboxError):
    """A setup command failed: the workflow's or the repository's problem, not the model's.

    Attributes:
        command: The failing command.
        exit_code: Its exit status (124 when it ran out of time).
        output: The tail of its output.
    """

    def __init__(self, command: str, exit_code: int, output: str, *, hint: str) -> None:
        super().__init__(
            f"sandbox setup command failed (exit {exit_code}): {command}\n{output}", hint=hint
        )
        self.command = command
        self.exit_code = exit_code
        self.output = output


def setup_key(base: str, step: SetupStep, files: Mapping[str, FileData]) -> str:
    """The cache key of a set-up workspace (pure): sha256 hex of base, commands and files.

    Args:
        base: What the setup runs on: a docker image id, or the local Python.
        step: The setup step (its commands and network; not its timeout).
        files: The workspace's files before setup.
    """
    digest = hashlib.sha256()
    head = {"v": _KEY_VERSION, "base": base, "commands": list(step.commands)}
    digest.update(json.dumps({**head, "network": step.network}).encode())
    for rel in sorted(files, key=safe_relpath):
        data = files[rel]
        raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
        name = safe_relpath(rel).encode("utf-8", "surrogatepass")
        digest.update(b"%d:%s\0%d\0" % (len(name), name, len(raw)))
        digest.update(raw)
    return digest.hexdigest()


def setup_limits(limits: SandboxLimits, step: SetupStep) -> SandboxLimits:
    """The limits setup runs under: the job's, with CPU time and file size for installers."""
    return replace(
        limits,
        cpu_time_s=max(limits.cpu_time_s, math.ceil(step.timeout_s)),
        file_size_mb=max(limits.file_size_mb, limits.workspace_mb),
    )


def run_setup(run: RunFn, step: SetupStep) -> str:
    """Run the setup commands in order with ``run`` (a sandbox's ``run``); their output tail.

    Raises:
        SetupFailed: On the first command that fails or runs out of time.
    """
    deadline = time.monotonic() + step.timeout_s
    log = ""
    for command in step.commands:
        left = deadline - time.monotonic()
        result = run(["sh", "-c", command], left) if left > 0 else None
        shown = "" if result is None else result.stdout + result.stderr
        log = (log + f"$ {command}\n{shown}")[-_TAIL:]
        if result is None or not result.ok:
            code = 124 if result is None or result.timed_out else result.exit_code
            raise SetupFailed(command, code, shown[-_TAIL:], hint=_hint(step, code, shown))
    return log


def _hint(step: SetupStep, code: int, output: str) -> str:
    if code == 124:
        return f"raise sandbox.setup_timeout_s (now {step.timeout_s:g}), or make the setup faster"
    if "No space left" in output:
        return WORKSPACE_HINT
    hint = "fix sandbox.setup in the workflow (it runs in the repository before any model code)"
    if not step.network:
        hint += "; it has no network: set sandbox.setup_network: true if it downloads"
    return hint
