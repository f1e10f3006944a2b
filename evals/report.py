"""The eval report: a markdown table, a JSON file and a PNG chart, from the results files.

Every ``results-MODE.jsonl`` in the eval folder is read, so running both modes into
the same folder puts the agent and the single-shot baseline side by side.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codeagent.evals.metrics import summarize
from codeagent.evals.results import ProblemResult, read_results

__all__ = ["MODES", "Report", "common_ids", "load_runs", "render_markdown", "write_report"]

MODES = ("single-shot", "agent", "samples")

Report = dict[str, Any]


def load_runs(out: Path) -> dict[str, list[ProblemResult]]:
    """The results of each mode found in ``out`` (modes without a file are absent)."""
    runs = {}
    for mode in MODES:
        results = read_results(out / f"results-{mode}.jsonl")
        if results:
            runs[mode] = sorted(results, key=lambda r: _order(r.task_id))
    return runs


def write_report(out: Path, meta: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write ``report.md``, ``report.json`` and (with matplotlib) ``report.png`` into ``out``.

    Returns:
        The files written, by kind (``md``, ``json``, ``png``).
    """
    runs = load_runs(out)
    common = common_ids(runs)
    data: Report = {
        "meta": meta or {},
        "summary": {mode: summarize(results) for mode, results in runs.items()},
        "common": {
            mode: summarize([r for r in results if r.task_id in common])
            for mode, results in runs.items()
        },
        "problems": {mode: [r.model_dump() for r in rs] for mode, rs in runs.items()},
    }
    written = {"json": out / "report.json", "md": out / "report.md"}
    written["json"].write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    written["md"].write_text(render_markdown(runs, meta or {}), encoding="utf-8")
    png = _chart(runs, out / "report.png")
    if png is not None:
        written["png"] = png
    return written


def render_markdown(runs: dict[str, list[ProblemResult]], meta: dict[str, Any]) -> str:
    """The report as markdown: the aggregate per mode, then one row per problem (pure)."""
    lines = ["# Eval report", ""]
    lines += [f"- {key}: {value}" for key, value in meta.items()]
    lines += ["", "| metric | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]
    summaries = {mode: summarize(rs) for mode, rs in runs.items()}
    for key in _SUMMARY_ROWS:
        cells = [_cell(summaries[m].get(key)) for m in runs]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    common = common_ids(runs)
    if len(runs) > 1:
        cells = [
            f"{sum(r.passed for r in runs[m] if r.task_id in common)}/{len(common)}" for m in runs
        ]
        lines.append("| passed on the problems all modes ran | " + " | ".join(cells) + " |")
    lines += ["", "## Per problem", ""]
    header = "| task |" + "".join(f" {m} pass | {m} s | {m} tokens | {m} calls |" for m in runs)
    lines += [header, "|---|" + "---|---|---|---|" * len(runs)]
    by_mode = {m: {r.task_id: r for r in rs} for m, rs in runs.items()}
    for task in sorted({t for rs in by_mode.values() for t in rs}, key=_order):
        cells = []
        for mode in runs:
            r = by_mode[mode].get(task)
            cells += (
                ["", "", "", ""]
                if r is None
                else [
                    "yes" if r.passed else "no",
                    f"{r.wall_s:.1f}",
                    str(r.input_tokens + r.output_tokens),
                    str(r.calls),
                ]
            )
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


_SUMMARY_ROWS = (
    "problems",
    "passed",
    "pass_at_1",
    "own_pass_rate",
    "own_coverage_mean",
    "own_vacuous_total",
    "wall_s_mean",
    "wall_s_median",
    "calls_mean",
    "input_tokens_mean",
    "output_tokens_mean",
    "attempts_mean",
    "statuses",
    "right_but_not_success",
    "success_but_wrong",
    "any_of_first",
    "examples_any",
    "examples_pick",
)


def common_ids(runs: dict[str, list[ProblemResult]]) -> set[str]:
    """Task ids every mode has a result for (what a fair comparison counts)."""
    sets = [{r.task_id for r in rs} for rs in runs.values()]
    return set.intersection(*sets) if sets else set()


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def _order(task_id: str) -> tuple[str, int]:
    head, _, tail = task_id.rpartition("/")
    return (head, int(tail)) if tail.isdigit() else (task_id, -1)


def _chart(runs: dict[str, list[ProblemResult]], path: Path) -> Path | None:
    """pass@1 per mode, and the time and token distributions (None without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    modes = list(runs)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    rates = [100 * sum(r.passed for r in runs[m]) / max(1, len(runs[m])) for m in modes]
    labels = [f"{m} (n={len(runs[m])})" for m in modes]
    axes[0].bar(labels, rates, color=["#999999", "#2a7ab9", "#6aa84f"][: len(modes)])
    axes[0].set_ylim(0, 100)
    axes[0].set_title("pass@1 on hidden tests (%)")
    for i, rate in enumerate(rates):
        axes[0].text(i, rate + 1, f"{rate:.1f}", ha="center")
    if modes:
        axes[1].boxplot([[r.wall_s for r in runs[m]] for m in modes], tick_labels=labels)
        tokens = [[r.input_tokens + r.output_tokens for r in runs[m]] for m in modes]
        axes[2].boxplot(tokens, tick_labels=labels)
    axes[1].set_title("wall time per problem (s)")
    axes[2].set_title("tokens per problem (in + out)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
