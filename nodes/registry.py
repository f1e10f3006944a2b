"""The node registry: node kind name -> node function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["NodeFn", "get_node", "node_kinds"]

NodeFn = Callable[[Any, Any], dict[str, Any]]


def _builtin() -> dict[str, NodeFn]:
    from nodes.coder import coder
    from nodes.planner import planner
    from nodes.reviewer import reviewer
    from nodes.tester import tester

    return {"planner": planner, "coder": coder, "tester": tester, "reviewer": reviewer}


def node_kinds() -> list[str]:
    """Names of the node kinds a workflow may use."""
    return sorted(_builtin())


def get_node(kind: str) -> NodeFn:
    """The node function for ``kind`` (validated by the workflow loader first)."""
    return _builtin()[kind]
