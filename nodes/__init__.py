"""The agent's nodes: planner, coder, tester, reviewer; plain functions of (state, context)."""

from __future__ import annotations

from nodes.coder import coder
from nodes.context import NodeContext
from nodes.planner import Plan, planner
from nodes.registry import get_node, node_kinds
from nodes.reviewer import Review, reviewer
from nodes.tester import tester

__all__ = [
    "NodeContext",
    "Plan",
    "Review",
    "coder",
    "get_node",
    "node_kinds",
    "planner",
    "reviewer",
    "tester",
]
