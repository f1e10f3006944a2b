"""Workflow spec, graph builder, routes and the job runner (the Python API).

Example::

    from graphs import run_job

    result = run_job("write is_palindrome(s) ...", workflow="default")
"""

from __future__ import annotations

from graphs.builder import build_graph
from graphs.loader import load_workflow, parse_workflow
from graphs.runner import Checkpoint, NodeEvent, RunResult, job_history, resume_job, run_job
from graphs.spec import WorkflowSpec
from graphs.state import AgentState

__all__ = [
    "AgentState",
    "Checkpoint",
    "NodeEvent",
    "RunResult",
    "WorkflowSpec",
    "build_graph",
    "job_history",
    "load_workflow",
    "parse_workflow",
    "resume_job",
    "run_job",
]
