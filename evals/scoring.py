"""Hidden-test scoring: run a problem's ``check(candidate)`` against a solution in a sandbox.

The agent has finished (or failed) before this runs; its files are copied into a
fresh sandbox with the hidden test, which the agent never saw.

A score the code under test cannot fake cheaply: the runner's success marker is
fresh and random per run (the solution cannot print it from a constant it
knows), the runner deletes its own file before it imports the solution (so the
marker is not on disk to read), it prints the marker only after ``check``
returned and then ends with ``os._exit(0)`` (an ``atexit`` hook of the solution
never runs after it), and a run only passes with exit status 0 *and* the marker
on a line of its own. The solution runs in the runner's process, so code set on
cheating could still dig the marker out of the runner's frames: this closes the
cheap fakes (printing a known marker, exiting 0 early), it is not a boundary.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from codeagent.evals.datasets import Problem
from codeagent.tools.sandbox import Sandbox

__all__ = [
    "HIDDEN_OK",
    "HiddenScore",
    "hidden_marker",
    "hidden_program",
    "pick_solution",
    "score_hidden",
]

_MODULE = "candidate_solution"
_RUNNER = "run_hidden_check.py"
HIDDEN_OK = "CODEAGENT-HIDDEN-OK"
"""Starts the line the hidden-test runner prints when all passed; a random token follows."""


@dataclass(frozen=True)
class HiddenScore:
    """The hidden tests' verdict on one solution."""

    passed: bool
    detail: str = ""


def pick_solution(files: Mapping[str, str], entry_point: str) -> str:
    """The source that defines ``entry_point`` (else the first non-test Python file, else "")."""
    sources = {p: t for p, t in files.items() if p.endswith(".py")}
    for text in sources.values():
        if f"def {entry_point}(" in text:
            return text
    return next(iter(sources.values()), "")


def hidden_marker(token: str) -> str:
    """The line the runner of one scoring run prints when ``check`` passed."""
    return f"{HIDDEN_OK}-{token}"


def hidden_program(problem: Problem, solution: str, token: str | None = None) -> dict[str, str]:
    """The files that score ``solution``: the module and a runner calling ``check``.

    The module is the problem's prompt followed by the solution, so helpers the
    prompt defines (and the solution may have left out) exist, and the
    solution's definitions win. The runner imports it, so a ``__main__`` block
    in the solution does not run. On success the runner prints
    :func:`hidden_marker` of ``token`` (default: a fresh random one).
    """
    module = f"{problem.prompt.rstrip()}\n    pass\n\n\n{solution}"
    try:
        compile(module, _MODULE, "exec")
    except (SyntaxError, ValueError):
        module = solution  # the prompt alone is not valid Python (a rare dataset quirk)
    marker = hidden_marker(token or secrets.token_hex(16))
    runner = (
        "import os as _os, sys as _sys\n"
        "_os.unlink(__file__)  # the marker below is not left on disk for the solution\n"
        f"from {_MODULE} import *  # noqa: F403\n"
        f"import {_MODULE} as _candidate\n\n"
        f"{problem.test}\n\n"
        f"check(_candidate.{problem.entry_point})\n"
        f"_sys.stdout.write('\\n' + {marker!r} + '\\n')\n"
        "_sys.stdout.flush()\n"
        "_os._exit(0)  # no atexit hook of the solution runs after the verdict\n"
    )
    return {f"{_MODULE}.py": module, _RUNNER: runner}


def score_hidden(
    problem: Problem,
    files: Mapping[str, str],
    open_sandbox: Callable[[], Sandbox],
    timeout_s: float = 20.0,
) -> HiddenScore:
    """Run the hidden tests on ``files``; passed only when ``check`` returns normally.

    Raises:
        SandboxError: When the sandbox itself fails (not when the code fails).
    """
    solution = pick_solution(files, problem.entry_point)
    if not solution.strip():
        return HiddenScore(False, "no solution file")
    token = secrets.token_hex(16)
    with open_sandbox() as sandbox:
        sandbox.write_files(hidden_program(problem, solution, token))
        result = sandbox.run(["python3", _RUNNER], timeout_s=timeout_s)
    if result.timed_out:
        return HiddenScore(False, "timed out")
    if result.exit_code == 0 and hidden_marker(token) in result.stdout.splitlines():
        return HiddenScore(True)
    tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
    return HiddenScore(False, tail[0][:300])
