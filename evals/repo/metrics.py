"""Aggregate metrics over repository results (pure)."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from codeagent.evals.repo.results import RepoResult

__all__ = ["breakdown", "summarize_repo"]


def summarize_repo(results: Sequence[RepoResult]) -> dict[str, Any]:
    """Resolved %, patches applied, regressions, patch size, time, calls, tokens, by kind.

    Means are over tasks. ``regressed_tasks`` counts tasks with any PASS_TO_PASS id
    failing, ``regressions_total`` those ids; ``patch_lines_mean`` is lines added plus
    removed. The two disagreements between an agent job's verdict and the hidden tests
    (the other modes have no verdict of their own): ``success_but_wrong`` counts jobs
    that ended ``success`` with a patch the hidden tests reject, ``right_but_not_success``
    jobs whose patch resolves the task though the job did not end ``success``.
    """
    n = len(results)
    if n == 0:
        return {"tasks": 0, "resolved": 0, "resolved_pct": 0.0}
    walls = [r.wall_s for r in results]
    judged = [r for r in results if r.mode == "agent"]
    return {
        "tasks": n,
        "resolved": sum(r.resolved for r in results),
        "resolved_pct": _pct(sum(r.resolved for r in results), n),
        "applied_pct": _pct(sum(r.applied for r in results), n),
        "regressed_tasks": sum(1 for r in results if r.regressions),
        "regressions_total": sum(len(r.regressions) for r in results),
        "patch_files_mean": _mean([r.patch_files for r in results]),
        "patch_lines_mean": _mean([r.patch_added + r.patch_removed for r in results]),
        "patch_bytes_mean": _mean([r.patch_bytes for r in results]),
        "wall_s_mean": round(statistics.fmean(walls), 2),
        "wall_s_median": round(statistics.median(walls), 2),
        "wall_s_total": round(sum(walls), 1),
        "score_s_mean": _mean([r.score_s for r in results]),
        "calls_mean": _mean([r.calls for r in results]),
        "tokens_mean": _mean([r.input_tokens + r.output_tokens for r in results]),
        "tokens_total": sum(r.input_tokens + r.output_tokens for r in results),
        "attempts_mean": _mean([r.attempts for r in results]),
        "statuses": dict(Counter(r.status for r in results)),
        "success_but_wrong": sum(1 for r in judged if r.status == "success" and not r.resolved),
        "right_but_not_success": sum(1 for r in judged if r.resolved and r.status != "success"),
        "by_kind": breakdown(results, lambda r: r.kind),
        "by_split": breakdown(results, lambda r: r.split),
        "by_repo": breakdown(results, lambda r: r.repo),
    }


def breakdown(
    results: Sequence[RepoResult], group: Callable[[RepoResult], str]
) -> dict[str, dict[str, Any]]:
    """Tasks, resolved and resolved % per group (groups in sorted order)."""
    groups: dict[str, list[RepoResult]] = {}
    for result in results:
        groups.setdefault(group(result), []).append(result)
    return {
        name: {
            "tasks": len(rs),
            "resolved": sum(r.resolved for r in rs),
            "resolved_pct": _pct(sum(r.resolved for r in rs), len(rs)),
        }
        for name, rs in sorted(groups.items())
    }


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def _mean(values: Sequence[float]) -> float:
    return round(statistics.fmean(values), 2) if values else 0.0
