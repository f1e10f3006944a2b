"""The one error root of codeagent and its families.

Exceptions carry data and never log; the CLI turns them into a message and an
exit code. A user never sees a traceback for a mistake in their config, task or
environment.
"""

from __future__ import annotations

__all__ = [
    "BudgetExceeded",
    "CodeAgentError",
    "ConfigError",
    "ModelError",
    "PolicyViolation",
    "RepoError",
    "SandboxError",
    "SandboxMissing",
]


class CodeAgentError(Exception):
    """Root of every error codeagent raises on purpose.

    Args:
        message: What is wrong, in one sentence.
        hint: How to fix it, when we know.
    """

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class ConfigError(CodeAgentError):
    """A workflow file, CLI option or environment setting is wrong.

    Args:
        message: What is wrong.
        file: The file the mistake is in, when there is one.
        line: 1-based line in that file, when known.
        column: 1-based column, when known.
        location: Dotted path of the offending key (e.g. ``nodes.plan.kind``).
        hint: How to fix it.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        location: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.file = file
        self.line = line
        self.column = column
        self.location = location

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        loc = f"{self.location}: " if self.location else ""
        text = f"{where}{loc}{self.message}"
        return text if not self.hint else f"{text}\n  hint: {self.hint}"


class SandboxError(CodeAgentError):
    """The sandbox could not be started or used (not: the generated code failed)."""


class SandboxMissing(SandboxError):
    """A job's sandbox is not set up, found before any model call (nothing ran).

    The CLI exits with status 2, as for a configuration mistake: the hint says the
    exact command that sets the sandbox up.
    """

    exit_code = 2


class RepoError(CodeAgentError):
    """The repository cannot be read, snapshotted or patched.

    Raised before anything is written where a check can tell (a file changed since the
    snapshot, a branch that exists): the message names every offending path and the
    hint says how to go on. The command line exits 2, as for a bad argument.
    """

    exit_code = 2


class ModelError(CodeAgentError):
    """The model endpoint failed or kept answering with unusable output.

    Args:
        message, hint: As :class:`CodeAgentError`.
        usage: The calls and tokens spent on the unusable answers (``calls``,
            ``input_tokens``, ``output_tokens``), so a job that ends on this error
            still counts them.
    """

    def __init__(
        self, message: str, *, hint: str | None = None, usage: dict[str, int] | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.usage = dict(usage or {})


class BudgetExceeded(CodeAgentError):
    """A job spent one of its budgets (model calls, tokens, wall time)."""


class PolicyViolation(CodeAgentError):
    """Generated code breaks the workflow's guardrails, so it was not run.

    The graph turns it into the configured outcome (a failed test run that the
    repair sees, or a job ended ``blocked``); a node drawing candidates treats it as
    a rejected candidate.

    Args:
        problems: One line per violation (``solution.py: line 1: imports socket, ...``).
    """

    def __init__(self, problems: list[str] | tuple[str, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            "the code breaks the workflow's policy: " + "; ".join(self.problems),
            hint="see guardrails: in the workflow file",
        )
