"""Who writes the patch: the agent, a single-shot baseline, or the references.

A solver gets a task and its base, materialised in a folder of its own (a git
repository at ``base_commit``, without the hidden tests), and returns a
:class:`Solution`: a unified diff against that base and what it cost.

- ``gold``: the task's ``gold_patch`` (validation: it must resolve every task);
- ``empty``: no change (validation: it must resolve none);
- ``single-shot``: one model call that sees the problem statement and the full text
  of the files the gold patch touches, and rewrites them whole;
- ``agent``: ``run_job(problem_statement, repo=base, test_cmd=..., ...)`` and its
  ``RunResult.patch``.

Only the problem statement reaches the agent and the baseline; the hidden tests,
the id lists, the gold patch's content and the mutant never do (the baseline is
told which files to rewrite: that is the baseline's definition).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from codeagent.evals.repo.gitops import diff_worktree
from codeagent.evals.repo.task import RepoTask
from codeagent.graphs.jobs.config import RunConfig
from codeagent.nodes.parsing import code_blocks
from codeagent.tools.errors import CodeAgentError, ConfigError
from codeagent.tools.models.llm import ask_text
from codeagent.tools.observability.tracing import TracingConfig
from codeagent.tools.repo.diffs import parse_patch
from codeagent.tools.sandbox import Sandbox
from codeagent.tools.workspace import safe_relpath, write_tree

__all__ = [
    "Solution",
    "Solver",
    "agent_solver",
    "empty_solver",
    "gold_files",
    "gold_solver",
    "rewritten_files",
    "single_shot_prompt",
    "single_shot_solver",
    "task_text",
]


@dataclass(frozen=True)
class Solution:
    """A patch and what it cost.

    Attributes:
        patch: A unified diff against the task's base ("" for no change).
        status: ``gold``, ``empty``, ``answered`` (single-shot) or the job's status.
        usage: Model ``calls``, ``input_tokens`` and ``output_tokens``.
        attempts: Coder runs (1 for single-shot).
        detail: What went wrong, when something did.
        reply: The model's whole answer (single-shot), kept beside the patch.
    """

    patch: str
    status: str
    usage: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    detail: str = ""
    reply: str = ""


Solver = Callable[[RepoTask, Path], Solution]


def task_text(task: RepoTask) -> str:
    """What the agent is asked: the problem statement and nothing else."""
    return task.problem_statement.strip() + "\n"


def gold_solver(task: RepoTask, base: Path) -> Solution:
    """The reference fix.

    Raises:
        ConfigError: When the task has no ``gold_patch``.
    """
    if not task.gold_patch.strip():
        raise ConfigError(f"task {task.instance_id!r} has no gold_patch", hint="add the fix")
    return Solution(task.gold_patch, "gold")


def empty_solver(task: RepoTask, base: Path) -> Solution:
    """No change at all."""
    return Solution("", "empty")


def gold_files(task: RepoTask) -> list[str]:
    """The files the gold patch touches (what the single-shot baseline rewrites).

    Raises:
        ConfigError: When the task has no ``gold_patch``.
    """
    if not task.gold_patch.strip():
        raise ConfigError(
            f"task {task.instance_id!r} has no gold_patch",
            hint="the single-shot baseline is shown the files the gold patch touches",
        )
    paths = [diff.paths[-1] for diff in parse_patch(task.gold_patch) if diff.paths]
    return list(dict.fromkeys(paths))


def single_shot_prompt(task: RepoTask, files: dict[str, str | None]) -> list[tuple[str, str]]:
    """The baseline's one call: the statement and each file's text (None: a new file)."""
    system = (
        "You are an expert software engineer working on an existing repository. Reply "
        "with the complete new content of every file you change, each in one fenced code "
        "block whose info string is the language and the file's path, for example "
        "```python src/pkg/module.py. Write whole files, never diffs or excerpts."
    )
    parts = [f"Task:\n{task_text(task)}", "Files (rewrite those that need changing):"]
    for path, text in files.items():
        if text is None:
            parts.append(f"{path}: (does not exist yet; create it if needed)")
        else:
            parts.append(f"{path}:\n```{_fence(path)} {path}\n{text.rstrip()}\n```")
    return [("system", system), ("user", "\n\n".join(parts))]


def rewritten_files(reply: str, offered: list[str]) -> dict[str, str]:
    """The files a reply rewrites: blocks labelled with an offered path (one unlabelled
    block counts for the only file offered); other blocks are ignored."""
    blocks = [b for b in code_blocks(reply) if b.body.strip()]
    files = {}
    for block in blocks:
        path = _clean(block.path) if block.path else None
        if path in offered:
            files[path] = block.body
    if not files and len(offered) == 1 and len(blocks) == 1 and blocks[0].path is None:
        files[offered[0]] = blocks[0].body
    return files


def single_shot_solver(model: BaseChatModel) -> Solver:
    """One call to ``model`` per task; the patch is the diff of the files it rewrote."""

    def solve(task: RepoTask, base: Path) -> Solution:
        offered = gold_files(task)
        shown = {p: _read(base / p) for p in offered}
        reply = ask_text(model, single_shot_prompt(task, shown))
        files = rewritten_files(reply.text, offered)
        write_tree(base, files)
        detail = "" if files else "the reply rewrote none of the files"
        return Solution(diff_worktree(base), "answered", reply.usage(), 1, detail, reply.text)

    return solve


def agent_solver(
    workflow: Path | str,
    *,
    out: Path,
    chat_model: BaseChatModel | None = None,
    sandbox_factory: Callable[[], Sandbox] | None = None,
    config: RunConfig | None = None,
    tracing: TracingConfig | None = None,
) -> Solver:
    """The agent: a repo job on the task's base, through ``workflow``.

    The job gets the problem statement, the base and the task's ``test_cmd`` (the
    repository's own test command, not the hidden tests). Each task's job writes its
    files under ``out/work/agent/ID/job`` and keeps its state under ``out/state/ID``.
    """

    def solve(task: RepoTask, base: Path) -> Solution:
        from codeagent.graphs import run_job

        key = task.key
        result = run_job(
            task_text(task),
            repo=base,
            test_cmd=task.test_cmd,
            workflow=workflow,
            out=out / "work" / "agent" / key / "job",
            chat_model=chat_model,
            sandbox_factory=sandbox_factory,
            home=out / "state" / key,
            config=config,
            tracing=tracing,
        )
        detail = (result.error or "")[:300]
        if result.patch is None:
            detail = detail or "the job returned no patch"
        usage = dict(result.usage or {})
        return Solution(result.patch or "", result.status, usage, result.attempts, detail)

    return solve


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        return None


def _clean(path: str) -> str | None:
    try:
        return safe_relpath(path)
    except CodeAgentError:  # a label that is no usable path is simply not a file
        return None


_FENCES = {".py": "python", ".js": "javascript", ".mjs": "javascript", ".ts": "typescript"}


def _fence(path: str) -> str:
    return _FENCES.get(Path(path).suffix, "text")
