"""The default workflow's compiled graph, for LangGraph's dev server and Studio.

``langgraph.json`` at the repository root points here (``./graphs/studio.py:graph``).
Set ``CODEAGENT_WORKFLOW`` to a workflow file or shipped name to serve another
workflow. The dev server brings its own persistence, so no checkpointer is attached;
models are built when a node first runs (set ``OPENAI_API_KEY`` or a ``base_url``).
Start a run from Studio with the input ``{"task": "Write add(a, b) ..."}``.
"""

from __future__ import annotations

import os
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from codeagent.graphs.builder import build_graph
from codeagent.graphs.workflow.loader import load_workflow

__all__ = ["graph", "make_graph"]


def make_graph(workflow: str | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile a workflow without a checkpointer (the LangGraph server adds its own).

    Args:
        workflow: A workflow file or shipped name (default ``$CODEAGENT_WORKFLOW``,
            else ``default``).
    """
    spec, path = load_workflow(workflow or os.environ.get("CODEAGENT_WORKFLOW") or "default")
    compiled = build_graph(spec, base_dir=path.parent)
    compiled.name = spec.name
    return compiled


graph = make_graph()
