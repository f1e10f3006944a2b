"""Evaluate the agent: datasets, the harness (agent and single-shot), scoring, metrics, report."""

from __future__ import annotations

from evals.datasets import Problem, load_dataset, select
from evals.harness import EvalOptions, EvalRun, run_eval
from evals.report import write_report
from evals.results import ProblemResult

__all__ = [
    "EvalOptions",
    "EvalRun",
    "Problem",
    "ProblemResult",
    "load_dataset",
    "run_eval",
    "select",
    "write_report",
]
