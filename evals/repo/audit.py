"""How strong a task's hidden tests are: wrong fixes that they must catch.

A resolved task should mean right code. Two tasks of the pilot once scored wrong fixes
of the embedded model as resolved, because their hidden tests could not tell them from
the right one. This audit looks for more of those: it takes the reference fix
(``gold_patch``), makes *mutants* of it, each one small change on a line the fix
changed (:func:`~codeagent.tools.repo.mutants.mutants`: a flipped comparison, ``+`` for
``-``, ``return None``, an off-by-one, ...), and scores each mutant as if an agent had
handed it in, with the rest of the fix applied. A mutant scored resolved is a wrong fix
the hidden tests accept, or a change that does not change what the code does. Python
files only (the mutants are made with ``ast``); tests tasks are left out (their score is
the mutant check itself).

Run ``python -m codeagent.evals.repo.audit [TASKS.jsonl] [INSTANCE_ID ...]`` (default:
the pilot's ``tasks.jsonl``, every task): one JSON line per mutant, then a summary.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from codeagent.evals.repo.gitops import apply_patch, diff_worktree
from codeagent.evals.repo.materialize import materialize
from codeagent.evals.repo.scoring import SandboxFactory, score_patch
from codeagent.evals.repo.task import RepoTask, load_tasks
from codeagent.tools.errors import CodeAgentError, ConfigError
from codeagent.tools.repo.diffs import added_lines
from codeagent.tools.repo.mutants import mutants

__all__ = ["MutantScore", "audit_task", "main"]


@dataclass(frozen=True)
class MutantScore:
    """One mutant of a task's reference fix, scored.

    Attributes:
        task: The task's ``instance_id``.
        path: The file changed.
        line: The 1-based line of the change.
        mutant: What was changed, for a person to read.
        resolved: The hidden tests accepted it (a weakness, or an equivalent mutant).
    """

    task: str
    path: str
    line: int
    mutant: str
    resolved: bool


def audit_task(
    task: RepoTask, sandbox_factory: SandboxFactory, limit: int = 6
) -> list[MutantScore]:
    """Score up to ``limit`` mutants per Python file of ``task``'s reference fix.

    Raises:
        ConfigError: The task's base or reference fix does not apply.
    """
    if task.kind == "tests":
        return []
    lines = {p: n for p, n in added_lines(task.gold_patch).items() if p.endswith(".py")}
    scores: list[MutantScore] = []
    with tempfile.TemporaryDirectory(prefix="codeagent-audit-") as tmp:
        root = materialize(task, Path(tmp) / "repo")
        applied = apply_patch(root, task.gold_patch)
        if not applied.ok:
            raise ConfigError(f"{task.instance_id}: the reference fix does not apply")
        for path, numbers in lines.items():  # the rest of the fix stays applied
            fixed = (root / path).read_text(encoding="utf-8")
            for mutant in mutants(path, fixed, limit, lines=numbers):
                (root / path).write_text(mutant.text, encoding="utf-8")
                score = score_patch(task, diff_worktree(root), sandbox_factory)
                scores.append(
                    MutantScore(
                        task.instance_id, path, mutant.line, mutant.description, score.resolved
                    )
                )
            (root / path).write_text(fixed, encoding="utf-8")
    return scores


def main(argv: list[str] | None = None) -> int:
    """Audit the pilot's tasks (or those named) with the local sandbox."""
    from codeagent.evals.repo.authoring import PILOT
    from codeagent.tools.sandbox import LocalSandbox, SandboxLimits

    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args and args[0].endswith(".jsonl") else PILOT / "tasks.jsonl"
    named = {a for a in args if not a.endswith(".jsonl")}
    try:
        tasks = [t for t in load_tasks(path) if not named or t.instance_id in named]
        unknown = sorted(named - {t.instance_id for t in tasks})
        if unknown:
            raise ConfigError(
                f"no task {unknown[0]!r} in {path}", hint="name instance ids the task file has"
            )
        scores = []
        for task in tasks:
            for score in audit_task(task, lambda: LocalSandbox(SandboxLimits(cpu_time_s=60))):
                print(json.dumps(asdict(score)), flush=True)
                scores.append(score)
    except CodeAgentError as exc:  # a broken task file or base, a sandbox that fails
        print(f"error: {exc}", file=sys.stderr)
        return 2
    accepted = [s for s in scores if s.resolved]
    print(
        f"{len(scores)} mutants of the reference fixes of {len({s.task for s in scores})} tasks:"
        f" {len(scores) - len(accepted)} caught by the hidden tests, {len(accepted)} accepted"
        + "".join(f"\n  accepted: {s.task} {s.path}:{s.line}: {s.mutant}" for s in accepted)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
