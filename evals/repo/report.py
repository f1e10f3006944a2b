"""The repository eval's report: ``repo-report.md`` and ``repo-report.json``.

Every ``repo-results-MODE.jsonl`` in the eval folder is read, so running several
modes into one folder (gold, empty, single-shot, agent) puts them side by side.
The names differ from the HumanEval report's, so both can share a folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codeagent.evals.repo.metrics import summarize_repo
from codeagent.evals.repo.results import MODES, RepoResult, read_repo_results, repo_results_path

__all__ = ["load_repo_runs", "render_repo_markdown", "write_repo_report"]

_SUMMARY_ROWS = (
    "tasks",
    "resolved",
    "resolved_pct",
    "applied_pct",
    "regressed_tasks",
    "regressions_total",
    "patch_files_mean",
    "patch_lines_mean",
    "patch_bytes_mean",
    "wall_s_mean",
    "wall_s_median",
    "score_s_mean",
    "calls_mean",
    "tokens_mean",
    "tokens_total",
    "attempts_mean",
    "statuses",
    "success_but_wrong",
    "right_but_not_success",
)


def load_repo_runs(out: Path) -> dict[str, list[RepoResult]]:
    """The results of each mode found in ``out``, each sorted by instance id."""
    runs: dict[str, list[RepoResult]] = {}
    for mode in MODES:
        results = read_repo_results(repo_results_path(out, mode))
        if results:
            runs[mode] = sorted(results, key=lambda r: r.instance_id)
    return runs


def write_repo_report(out: Path, meta: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write ``repo-report.md`` and ``repo-report.json`` into ``out``; the paths, by kind."""
    runs = load_repo_runs(out)
    data = {
        "meta": meta or {},
        "summary": {mode: summarize_repo(results) for mode, results in runs.items()},
        "tasks": {mode: [r.model_dump() for r in results] for mode, results in runs.items()},
    }
    written = {"json": out / "repo-report.json", "md": out / "repo-report.md"}
    out.mkdir(parents=True, exist_ok=True)
    written["json"].write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    written["md"].write_text(render_repo_markdown(runs, meta or {}), encoding="utf-8")
    return written


def render_repo_markdown(runs: dict[str, list[RepoResult]], meta: dict[str, Any]) -> str:
    """The report as markdown: totals, resolved by kind / split / repo, one row per task."""
    modes = list(runs)
    summaries = {m: summarize_repo(rs) for m, rs in runs.items()}
    lines = ["# Repository eval report", ""]
    lines += [f"- {key}: {value}" for key, value in meta.items()]
    lines += ["", _header("metric", modes), _rule(len(modes))]
    for key in _SUMMARY_ROWS:
        lines.append(_row(key, [_cell(summaries[m].get(key)) for m in modes]))
    for title, key in (("kind", "by_kind"), ("split", "by_split"), ("repository", "by_repo")):
        lines += ["", f"## Resolved by {title}", "", _header(title, modes), _rule(len(modes))]
        groups = sorted({g for m in modes for g in summaries[m].get(key, {})})
        for group in groups:
            cells = [_ratio(summaries[m].get(key, {}).get(group)) for m in modes]
            lines.append(_row(group, cells))
    lines += ["", "## Per task", ""]
    columns = "".join(f" {m} | {m} regr. | {m} lines | {m} s | {m} tokens |" for m in modes)
    lines += [f"| task | kind | split |{columns}", "|---|---|---|" + "---|" * 5 * len(modes)]
    by_mode = {m: {r.instance_id: r for r in rs} for m, rs in runs.items()}
    for task in sorted({t for rs in by_mode.values() for t in rs}):
        first = next(by_mode[m][task] for m in modes if task in by_mode[m])
        cells = [first.kind, first.split]
        for mode in modes:
            cells += _task_cells(by_mode[mode].get(task))
        lines.append(_row(task, cells))
    return "\n".join(lines) + "\n"


def _task_cells(result: RepoResult | None) -> list[str]:
    if result is None:
        return ["", "", "", "", ""]
    verdict = "yes" if result.resolved else ("no" if result.applied else "no (not applied)")
    if result.mode == "agent" and result.resolved != (result.status == "success"):
        verdict += f" (ended {result.status})"  # the job's own verdict disagrees
    return [
        verdict,
        str(len(result.regressions)),
        str(result.patch_added + result.patch_removed),
        f"{result.wall_s:.1f}",
        str(result.input_tokens + result.output_tokens),
    ]


def _header(first: str, modes: list[str]) -> str:
    return f"| {first} | " + " | ".join(modes) + " |"


def _rule(columns: int) -> str:
    return "|---|" + "---|" * columns


def _row(first: str, cells: list[str]) -> str:
    return f"| {first} | " + " | ".join(cells) + " |"


def _ratio(group: dict[str, Any] | None) -> str:
    if not group:
        return "-"
    return f"{group['resolved']}/{group['tasks']} ({group['resolved_pct']}%)"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)
