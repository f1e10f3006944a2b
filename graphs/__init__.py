"""Workflow spec, graph builder, routes and the job runner (the Python API).

Example::

    from codeagent.graphs import run_job

    result = run_job("write is_palindrome(s) ...", workflow="default")
"""

from __future__ import annotations

from codeagent.graphs.builder import build_graph
from codeagent.graphs.jobs.config import RunConfig
from codeagent.graphs.jobs.runner import (
    Checkpoint,
    NodeEvent,
    RunResult,
    job_history,
    resume_job,
    run_job,
)
from codeagent.graphs.workflow.loader import load_workflow, parse_workflow
from codeagent.graphs.workflow.spec import WorkflowSpec
from codeagent.tools.contracts.state import AgentState

__all__ = [
    "AgentState",
    "Checkpoint",
    "NodeEvent",
    "RunConfig",
    "RunResult",
    "WorkflowSpec",
    "build_graph",
    "job_history",
    "load_workflow",
    "parse_workflow",
    "resume_job",
    "run_job",
]
