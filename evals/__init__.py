"""Evaluate the agent: datasets, the harness (agent and single-shot), scoring, metrics, report."""

from __future__ import annotations

from codeagent.evals.datasets import Problem, load_dataset, select
from codeagent.evals.harness import EvalOptions, EvalRun, run_eval
from codeagent.evals.report import write_report
from codeagent.evals.results import ProblemResult

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
