"""Workflow spec, graph builder, routes and the job runner (the Python API).

Example::

    from codeagent.graphs import run_job

    result = run_job("write is_palindrome(s) ...", workflow="default")

    # in a repository: the result is a patch; deliver it after success
    result = run_job("tests/test_cli.py::test_json fails; fix it", repo="./proj")
    if result.ok:
        deliver(result.thread_id, apply=True)  # or branch="codeagent/fix-json"
"""

from __future__ import annotations

from codeagent.graphs.builder import build_graph
from codeagent.graphs.jobs.config import RunConfig
from codeagent.graphs.jobs.delivery import Delivery, deliver
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
    "Delivery",
    "NodeEvent",
    "RunConfig",
    "RunResult",
    "WorkflowSpec",
    "build_graph",
    "deliver",
    "job_history",
    "load_workflow",
    "parse_workflow",
    "resume_job",
    "run_job",
]
