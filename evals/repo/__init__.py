"""Evaluate on repository tasks in SWE-bench's shape: materialise, solve, score, report.

Example::

    from codeagent.evals.repo import load_tasks, materialize, score_patch

    task = load_tasks(Path("evals/pilot/tasks.jsonl"))[0]
    base = materialize(task, Path("work/base"))      # a git repository at base_commit
    score = score_patch(task, task.gold_patch, sandbox_factory)
    assert score.resolved

``codeagent eval --dataset evals/pilot/tasks.jsonl`` runs the same through the CLI.
"""

from __future__ import annotations

from codeagent.evals.repo.harness import RepoEvalOptions, RepoEvalRun, run_repo_eval
from codeagent.evals.repo.materialize import materialize, verify_bases
from codeagent.evals.repo.report import write_repo_report
from codeagent.evals.repo.results import RepoResult
from codeagent.evals.repo.scoring import RepoScore, score_patch
from codeagent.evals.repo.solvers import Solution, agent_solver, single_shot_solver
from codeagent.evals.repo.task import RepoTask, load_tasks, select_tasks
from codeagent.tools.repo.patch import PatchStats, patch_stats

__all__ = [
    "PatchStats",
    "RepoEvalOptions",
    "RepoEvalRun",
    "RepoResult",
    "RepoScore",
    "RepoTask",
    "Solution",
    "agent_solver",
    "load_tasks",
    "materialize",
    "patch_stats",
    "run_repo_eval",
    "score_patch",
    "select_tasks",
    "single_shot_solver",
    "verify_bases",
    "write_repo_report",
]
