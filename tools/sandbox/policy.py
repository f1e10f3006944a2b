"""A sandbox that will not run code breaking the workflow's guardrails.

The graph builder hands every node its sandboxes through this gate, so no node,
built-in or plugin, runs the job's code in a sandbox before the policy has
checked it: whatever a node writes with :meth:`PolicySandbox.write_files` is
kept in view, and each :meth:`PolicySandbox.run` first checks the source files
written so far (:func:`codeagent.tools.guardrails.check_code`). When they break
the policy the command is not run and :class:`~codeagent.tools.errors.PolicyViolation`
is raised; the graph turns that into the workflow's ``on_violation`` outcome.

Only the solution's sources are checked, as everywhere else in the guardrails:
the caller says which paths those are (test files and codeagent's own harness
scripts are not). Like the guardrails, this is a static check, not a security
boundary: the sandbox is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from codeagent.tools.errors import PolicyViolation
from codeagent.tools.guardrails import Policy, check_code
from codeagent.tools.sandbox.protocol import ExecResult, FileData, Sandbox, SandboxContext

__all__ = ["PolicySandbox"]


class PolicySandbox(SandboxContext):
    """Delegates to ``inner``; :meth:`run` refuses while the sources break ``policy``.

    Args:
        inner: The sandbox that runs the commands.
        policy: The workflow's guardrails.
        is_source: True for a path the policy applies to (a solution source file).
    """

    def __init__(self, inner: Sandbox, policy: Policy, is_source: Callable[[str], bool]) -> None:
        self.inner = inner
        self.backend = inner.backend
        self._policy = policy
        self._is_source = is_source
        self._sources: dict[str, str] = {}

    def start(self) -> None:
        self.inner.start()

    def write_files(self, files: Mapping[str, FileData]) -> None:
        # Binary sources are checked as the text they decode to (sizes, imports in .py).
        self._sources.update(
            {
                p: t if isinstance(t, str) else t.decode("utf-8", errors="replace")
                for p, t in files.items()
                if self._is_source(p)
            }
        )
        self.inner.write_files(files)

    def read_files(self, paths: Sequence[str]) -> dict[str, str]:
        return self.inner.read_files(paths)

    def run(self, cmd: Sequence[str], timeout_s: float) -> ExecResult:
        """Run ``cmd`` unless the sources written so far break the policy.

        Raises:
            PolicyViolation: Listing the violations; nothing was run.
        """
        problems = check_code(self._sources, self._policy)
        if problems:
            raise PolicyViolation(problems)
        return self.inner.run(cmd, timeout_s)

    def close(self) -> None:
        self.inner.close()
